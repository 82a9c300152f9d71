/* Home page: the chart of enterprises by supervision category (officials), and the inbox's
   alarm section kept live from the alarm board's stream (server-sent events, opened with the
   filter state=raised, so an event's "match" says whether the alarm still waits to be
   acknowledged). The stream does not count as activity: an open home page does not keep an
   idle session alive. */
(function () {
  "use strict";

  function chart() {
    var el = document.getElementById("category-chart");
    var source = document.getElementById("category-data");
    if (!el || !source || !window.echarts) return;
    var data = JSON.parse(source.textContent).filter(function (d) { return d.value > 0; });
    var c = echarts.init(el);
    if (!data.length) {
      c.setOption({ title: { text: "暂无企业数据", left: "center", top: "middle", textStyle: { color: "#9aa0ac", fontSize: 14 } } });
    } else {
      c.setOption({
        tooltip: { trigger: "item", formatter: "{b}：{c} 家（{d}%）" },
        legend: { bottom: 0 },
        series: [{ type: "pie", radius: ["40%", "68%"], center: ["50%", "45%"], data: data, label: { formatter: "{b}\n{c} 家" } }]
      });
    }
    window.addEventListener("resize", function () { c.resize(); });
  }

  function liveAlarms() {
    var card = document.querySelector(".inbox-section[data-stream]");
    if (!card || !window.EventSource) return;
    var list = card.querySelector(".inbox-items");
    var limit = parseInt(card.getAttribute("data-limit"), 10) || 10;
    var live = card.querySelector(".inbox-live");
    var source = new EventSource(card.getAttribute("data-stream"));

    function itemFor(url) {
      return list.querySelector('a.inbox-item[href="' + url + '"]');
    }

    // a count past the lists' count limit is an estimate: it stays marked 约 as it moves
    var about = card.hasAttribute("data-estimate") ? "约 " : "";

    function setCount(n) {
      card.setAttribute("data-count", String(n));
      var badge = card.querySelector(".inbox-count");
      badge.textContent = about + String(n);
      badge.className = "badge ms-2 inbox-count " + (n > 0 ? "bg-red text-red-fg" : "bg-secondary-lt");
      card.querySelector(".inbox-empty-text").hidden = n > 0;
      var shown = list.querySelectorAll("a.inbox-item").length;
      var more = card.querySelector(".inbox-more");
      more.hidden = n <= shown;
      more.querySelector(".inbox-more-n").textContent = about + String(Math.max(n - shown, 0));
    }

    function build(item) {
      var a = document.createElement("a");
      a.className = "list-group-item list-group-item-action inbox-item inbox-arrived";
      a.href = item.url;
      var row = document.createElement("div");
      row.className = "d-flex align-items-start gap-2";
      var text = document.createElement("div");
      text.className = "flex-fill text-truncate";
      var title = document.createElement("div");
      title.className = "text-truncate inbox-title";
      title.textContent = item.title;
      text.appendChild(title);
      if (item.detail && !card.hasAttribute("data-own")) {
        var detail = document.createElement("div");
        detail.className = "small text-secondary text-truncate inbox-detail";
        detail.textContent = item.detail;
        text.appendChild(detail);
      }
      var clock = document.createElement("span");
      clock.className = "badge bg-secondary-lt flex-shrink-0 inbox-clock";
      clock.textContent = "刚刚";
      row.appendChild(text);
      row.appendChild(clock);
      a.appendChild(row);
      return a;
    }

    source.onopen = function () { if (live) live.className = "badge bg-green-lt ms-2 inbox-live"; };
    source.onerror = function () { if (live) live.className = "badge bg-yellow-lt ms-2 inbox-live"; };

    source.addEventListener("alarm", function (ev) {
      var d = JSON.parse(ev.data);
      if (!d.item) return;
      var have = itemFor(d.item.url);
      var count = parseInt(card.getAttribute("data-count"), 10) || 0;
      if (!d.match) {
        if (have) { have.remove(); setCount(Math.max(count - 1, 0)); }
        return;
      }
      if (have) return;
      // Oldest first: a new alarm goes last, if the section still shows everything.
      if (list.querySelectorAll("a.inbox-item").length < limit && count === list.querySelectorAll("a.inbox-item").length) {
        list.appendChild(build(d.item));
      }
      setCount(count + 1);
    });

    // The board's figures, sent after each batch of changes: the exact count of the scope.
    source.addEventListener("counts", function (ev) {
      var counts = JSON.parse(ev.data);
      if (typeof counts.unacknowledged === "number") setCount(counts.unacknowledged);
    });

    source.addEventListener("logout", function (ev) {
      source.close();
      var url = String(ev.data || "/login");
      window.location.assign(url.charAt(0) === "/" && url.charAt(1) !== "/" ? url : "/login");
    });

    window.addEventListener("pagehide", function () { source.close(); });
  }

  chart();
  liveAlarms();
})();
