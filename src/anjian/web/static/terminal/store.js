// The terminal's vault: everything the app keeps on the device (the terminal token, the
// downloaded tasks and enterprise files, the changes waiting to upload, photos) is sealed with
// AES-GCM under a key derived from the officer's PIN (PBKDF2-SHA-256). The key is
// non-extractable and lives in this page's memory only: signing out (退出), closing or
// reloading the app drops it, and the data stays unreadable until the PIN is entered again.
// IndexedDB holds only ciphertext and, in clear, the salt, the iteration count and the count
// of wrong PINs (after MAX_FAILURES wrong PINs in a row the local data is erased).

const DB_NAME = "anjian-terminal";
const STORE = "kv";
const ITERATIONS = 310000; // OWASP's figure for PBKDF2-HMAC-SHA-256
export const MAX_FAILURES = 5;
export const PIN_PATTERN = /^\d{6,12}$/;

function request(req) {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

let dbPromise = null;

function openDb() {
  if (!dbPromise) {
    const req = indexedDB.open(DB_NAME, 1);
    req.onupgradeneeded = () => req.result.createObjectStore(STORE);
    dbPromise = request(req);
  }
  return dbPromise;
}

async function tx(mode, fn) {
  const db = await openDb();
  const t = db.transaction(STORE, mode);
  const result = await request(fn(t.objectStore(STORE)));
  await new Promise((resolve, reject) => {
    t.oncomplete = resolve;
    t.onerror = () => reject(t.error);
    t.onabort = () => reject(t.error);
  });
  return result;
}

const get = (key) => tx("readonly", (s) => s.get(key));
const put = (key, value) => tx("readwrite", (s) => s.put(value, key));
const del = (key) => tx("readwrite", (s) => s.delete(key));

/** Erase everything the app keeps on this device. */
export async function wipe() {
  const db = await openDb();
  db.close();
  dbPromise = null;
  await request(indexedDB.deleteDatabase(DB_NAME));
}

/** Whether a terminal is paired on this device (a vault exists). */
export async function hasVault() {
  return Boolean(await get("meta"));
}

/** The number of wrong PINs entered since the last right one. */
export async function failures() {
  const meta = await get("meta");
  return meta ? meta.failures : 0;
}

async function derive(pin, salt, iterations) {
  const base = await crypto.subtle.importKey(
    "raw", new TextEncoder().encode(pin), "PBKDF2", false, ["deriveKey"]);
  return crypto.subtle.deriveKey(
    { name: "PBKDF2", salt, iterations, hash: "SHA-256" },
    base,
    { name: "AES-GCM", length: 256 },
    false, // not extractable: the key never leaves this page's memory
    ["encrypt", "decrypt"]);
}

export class Vault {
  constructor(key) {
    this.key = key;
  }

  /** A new vault on this device under ``pin`` (what was there before is erased). */
  static async create(pin) {
    await wipe();
    const salt = crypto.getRandomValues(new Uint8Array(16));
    const key = await derive(pin, salt, ITERATIONS);
    await put("meta", { salt, iterations: ITERATIONS, failures: 0 });
    return new Vault(key);
  }

  /** Open the vault with ``pin``; throws "wrong" (with the count) or "wiped". */
  static async unlock(pin) {
    const meta = await get("meta");
    if (!meta) throw new Error("wiped");
    const vault = new Vault(await derive(pin, meta.salt, meta.iterations));
    try {
      if ((await vault.load("state")) === null) throw new Error("empty");
    } catch (exc) {
      meta.failures += 1;
      if (meta.failures >= MAX_FAILURES) {
        await wipe();
        throw new Error("wiped");
      }
      await put("meta", meta);
      throw new Error("wrong");
    }
    if (meta.failures) await put("meta", { ...meta, failures: 0 });
    return vault;
  }

  async save(name, value) {
    const iv = crypto.getRandomValues(new Uint8Array(12));
    const plain = new TextEncoder().encode(JSON.stringify(value));
    const data = await crypto.subtle.encrypt({ name: "AES-GCM", iv }, this.key, plain);
    await put(name, { iv, data });
  }

  async load(name) {
    const sealed = await get(name);
    if (!sealed) return null;
    const plain = await crypto.subtle.decrypt({ name: "AES-GCM", iv: sealed.iv }, this.key, sealed.data);
    return JSON.parse(new TextDecoder().decode(plain));
  }

  async remove(name) {
    await del(name);
  }
}
