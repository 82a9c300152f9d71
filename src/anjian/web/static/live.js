/* Live pages: an element with data-live-stream (a server-sent events URL), data-live-revision
   (what the page was rendered from) and data-live-parts (ids of the parts to refresh). When the
   stream says the page's record changed, the page is fetched again (marked as not the user's
   activity, so the idle timeout still applies) and those parts are replaced, except one the
   user is typing in; maps inside them are redrawn. Then it listens from the new revision. */
(function () {
  "use strict";
  var root = document.querySelector("[data-live-stream]");
  if (!root || !window.EventSource || !window.fetch || !window.DOMParser) return;
  var url = root.getAttribute("data-live-stream");
  var revision = root.getAttribute("data-live-revision") || "";
  var parts = (root.getAttribute("data-live-parts") || "").split(/\s+/).filter(Boolean);
  var badge = document.getElementById("live-status");

  function show(text, cls) {
    if (!badge) return;
    badge.textContent = text;
    badge.className = "badge " + cls;
  }

  function typingIn(el) {
    var active = document.activeElement;
    return active && active !== document.body && el.contains(active) &&
      /^(INPUT|TEXTAREA|SELECT)$/.test(active.tagName) && active.value;
  }

  function listen() {
    var sep = url.indexOf("?") < 0 ? "?" : "&";
    var source = new EventSource(url + sep + "since=" + encodeURIComponent(revision));
    source.onopen = function () { show("实时更新", "bg-green-lt"); };
    source.onerror = function () {
      show(source.readyState === EventSource.CLOSED ? "已断开，请刷新" : "重新连接中…", "bg-yellow-lt");
    };
    source.addEventListener("logout", function (ev) {
      source.close();
      window.location.assign(ev.data);
    });
    source.addEventListener("changed", function () {
      source.close();
      refresh();
    });
  }

  function refresh() {
    show("更新中…", "bg-blue-lt");
    fetch(window.location.pathname, { credentials: "same-origin", headers: { "X-Anjian-Live": "1" } })
      .then(function (r) {
        if (r.redirected || !r.ok) { window.location.reload(); throw new Error("reload"); }
        return r.text();
      })
      .then(function (html) {
        var doc = new DOMParser().parseFromString(html, "text/html");
        parts.forEach(function (id) {
          var now = document.getElementById(id), fresh = doc.getElementById(id);
          if (!now || !fresh || typingIn(now)) return;
          now.replaceWith(document.importNode(fresh, true));
        });
        if (window.AnjianMap) {
          document.querySelectorAll("[data-map-source]").forEach(window.AnjianMap.draw);
        }
        var next = doc.querySelector("[data-live-stream]");
        revision = next ? next.getAttribute("data-live-revision") || "" : revision;
        document.dispatchEvent(new CustomEvent("live:refreshed"));
        listen();
      })
      .catch(function () { setTimeout(listen, 5000); });
  }

  listen();
})();
