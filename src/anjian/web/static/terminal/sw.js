// The service worker of the mobile enforcement terminal (scope /terminal/): it keeps the app
// shell — the page, its scripts and styles — so that the app opens without a network. Data is
// never put in this cache: the exchange API (/api/) always goes to the network, and what the app
// downloads is kept by the app itself, encrypted, in IndexedDB.

const CACHE = "anjian-terminal-v1";
const SHELL = [
  "/terminal/",
  "/static/terminal/app.js",
  "/static/terminal/store.js",
  "/static/terminal/sync.js",
  "/static/terminal/ui.js",
  "/static/terminal/terminal.css",
  "/static/terminal/manifest.json",
  "/static/terminal/icon.svg",
  "/static/vendor/tabler/tabler.min.css",
];

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(CACHE).then((c) => c.addAll(SHELL)).then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches.keys()
      .then((keys) => Promise.all(keys.filter((k) => k !== CACHE).map((k) => caches.delete(k))))
      .then(() => self.clients.claim()),
  );
});

// The shell from the cache at once (it opens offline and on a poor link), refreshed from the
// network behind it for the next start.
self.addEventListener("fetch", (event) => {
  const url = new URL(event.request.url);
  if (event.request.method !== "GET" || url.origin !== self.location.origin) return;
  if (!SHELL.includes(url.pathname)) return; // the API, the pairing page: network only
  event.respondWith(
    caches.open(CACHE).then(async (cache) => {
      const cached = await cache.match(url.pathname);
      const fresh = fetch(url.pathname, { cache: "no-store" })
        .then((response) => {
          if (response.ok) cache.put(url.pathname, response.clone());
          return response;
        });
      if (cached) {
        event.waitUntil(fresh.catch(() => undefined));
        return cached;
      }
      return fresh;
    }),
  );
});
