/* 报警看板: rows arrive live over server-sent events. The server renders each row (the same
   template as the page, autoescaped); this script only places it: a changed alarm replaces its
   row, a new one goes on top (first page only), one that no longer matches the filters leaves. */
(function () {
  "use strict";
  var table = document.getElementById("alarm-table");
  if (!table || !window.EventSource) return;
  var tbody = table.tBodies[0];
  var status = document.getElementById("stream-status");
  var insert = table.getAttribute("data-insert") === "1";
  var source = new EventSource(table.getAttribute("data-stream"));

  function show(text, cls) {
    if (!status) return;
    status.textContent = text;
    status.className = "badge ms-2 align-middle " + cls;
  }

  function syncEmpty() {
    var empty = tbody.querySelector(".alarm-empty");
    if (empty) empty.hidden = tbody.querySelectorAll("tr.alarm-row").length > 0;
  }

  source.onopen = function () { show("实时", "bg-green-lt"); };
  source.onerror = function () {
    show(source.readyState === EventSource.CLOSED ? "已断开，请刷新" : "重新连接中…", "bg-yellow-lt");
  };

  source.addEventListener("alarm", function (ev) {
    var d = JSON.parse(ev.data);
    var row = document.getElementById("alarm-" + d.id);
    if (!d.match) {
      if (row) row.remove();
      syncEmpty();
      return;
    }
    var holder = document.createElement("tbody");
    holder.innerHTML = d.html;
    var fresh = holder.querySelector("tr");
    if (!fresh) return;
    if (row) {
      row.replaceWith(fresh);
    } else if (insert) {
      tbody.insertBefore(fresh, tbody.firstChild);
      fresh.classList.add("alarm-arrived");
    } else {
      return;
    }
    syncEmpty();
  });

  /* The figures, the board's total among them, come from the server after every change: the
     header and the pager show the same number, never one counted up here. */
  source.addEventListener("counts", function (ev) {
    var counts = JSON.parse(ev.data);
    Object.keys(counts).forEach(function (key) {
      document.querySelectorAll('[data-count="' + key + '"]').forEach(function (el) {
        el.textContent = String(counts[key]);
        if (el.getAttribute("data-alert") === "1") el.classList.toggle("text-red", counts[key] > 0);
      });
    });
  });

  source.addEventListener("logout", function (ev) {
    source.close();
    var url = String(ev.data || "/login");
    window.location.assign(url.charAt(0) === "/" && url.charAt(1) !== "/" ? url : "/login");
  });

  window.addEventListener("pagehide", function () { source.close(); });
})();
