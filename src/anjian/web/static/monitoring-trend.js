/* A monitoring point's trend (ECharts): mean with the bucket's max and min, the set points as
   horizontal lines, over 1 h / 24 h / 7 d from the series API. Times are shown in Beijing time
   whatever the browser's zone. */
(function () {
  "use strict";
  var el = document.getElementById("trend-chart");
  var source = document.getElementById("trend-data");
  if (!el || !source || !window.echarts) return;
  var cfg = JSON.parse(source.textContent);
  var WINDOWS = { "1h": 3600e3, "24h": 86400e3, "7d": 7 * 86400e3 };
  var CST_OFFSET = 8 * 3600e3;
  var chart = echarts.init(el);
  var current = "1h";

  function two(n) { return (n < 10 ? "0" : "") + n; }
  function cst(ts, withDate) {
    var d = new Date(ts + CST_OFFSET);
    var hm = two(d.getUTCHours()) + ":" + two(d.getUTCMinutes());
    return withDate ? two(d.getUTCMonth() + 1) + "-" + two(d.getUTCDate()) + " " + hm : hm;
  }

  function message(text) {
    chart.clear();
    chart.setOption({ title: { text: text, left: "center", top: "middle", textStyle: { color: "#9aa0ac", fontSize: 14 } } });
  }

  function draw(series, from, to) {
    var items = series.items || [];
    if (!items.length) { message("该时段没有数据"); return; }
    var values = [];
    items.forEach(function (p) { values.push(p.min, p.max); });
    cfg.lines.forEach(function (l) { values.push(l.value); });
    // The axis must reach the set points too (ECharts sizes it to the data only), on round values.
    var lo = Math.min.apply(null, values), hi = Math.max.apply(null, values);
    var span = (hi - lo) || Math.abs(hi) || 1;
    var step = Math.pow(10, Math.floor(Math.log10(span / 5)));
    if (span / step > 25) step *= 5; else if (span / step > 10) step *= 2;
    lo = Math.floor(lo / step - 0.5) * step;
    hi = Math.ceil(hi / step + 0.5) * step;
    var longRange = to - from > 86400e3;
    chart.clear();
    chart.setOption({
      animation: false,
      grid: { left: 56, right: 96, top: 24, bottom: 48 },
      tooltip: {
        trigger: "axis",
        formatter: function (params) {
          var lines = [cst(params[0].value[0], true)];
          params.forEach(function (s) { lines.push(s.marker + s.seriesName + "：" + s.value[1] + " " + cfg.unit); });
          return lines.join("<br>");
        }
      },
      legend: { bottom: 0, data: ["均值", "最大", "最小"] },
      xAxis: { type: "time", min: from, max: to, axisLabel: { formatter: function (v) { return cst(v, longRange); } } },
      yAxis: { type: "value", name: cfg.unit, min: +lo.toPrecision(6), max: +hi.toPrecision(6) },
      series: [
        {
          name: "均值", type: "line", showSymbol: false, lineStyle: { width: 2, color: "#206bc4" }, itemStyle: { color: "#206bc4" },
          data: items.map(function (p) { return [p.ts, +p.avg.toPrecision(6)]; }),
          markLine: {
            silent: true, symbol: "none",
            data: cfg.lines.map(function (l) {
              return { yAxis: l.value, lineStyle: { color: l.colour, type: "solid" }, label: { formatter: l.name + " " + l.value, position: "end", color: l.colour } };
            })
          }
        },
        { name: "最大", type: "line", showSymbol: false, lineStyle: { width: 1, type: "dashed", color: "#9aa0ac" }, itemStyle: { color: "#9aa0ac" }, data: items.map(function (p) { return [p.ts, p.max]; }) },
        { name: "最小", type: "line", showSymbol: false, lineStyle: { width: 1, type: "dotted", color: "#9aa0ac" }, itemStyle: { color: "#9aa0ac" }, data: items.map(function (p) { return [p.ts, p.min]; }) }
      ]
    });
  }

  function load(win) {
    current = win;
    var to = Date.now(), from = to - WINDOWS[win];
    var url = "/api/v1/monitoring/points/" + encodeURIComponent(cfg.point_id) + "/series?from=" + from + "&to=" + to;
    chart.showLoading({ text: "加载中…" });
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { return r.ok ? r.json() : Promise.reject(new Error(String(r.status))); })
      .then(function (series) { chart.hideLoading(); if (win === current) draw(series, from, to); })
      .catch(function () { chart.hideLoading(); message("趋势数据加载失败"); });
  }

  document.querySelectorAll("#trend-windows [data-window]").forEach(function (btn) {
    btn.addEventListener("click", function () {
      document.querySelectorAll("#trend-windows [data-window]").forEach(function (b) { b.classList.toggle("active", b === btn); });
      load(btn.getAttribute("data-window"));
    });
  });
  window.addEventListener("resize", function () { chart.resize(); });
  setInterval(function () { if (!document.hidden) load(current); }, 60e3);  // keep the window current
  load(current);
})();
