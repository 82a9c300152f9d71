/* 事故统计 page chart (ECharts): accidents per row of the table, this period beside the same
   period last year (同比). Data comes from the page's JSON block. */
(function () {
  "use strict";
  var source = document.getElementById("statistics-data");
  var el = document.getElementById("statistics-chart");
  if (!source || !el || !window.echarts) return;
  var data = JSON.parse(source.textContent);
  var chart = echarts.init(el);
  var any = data.series.some(function (s) { return s.data.some(function (n) { return n > 0; }); });
  chart.setOption(any ? {
    tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
    legend: { bottom: 0 },
    grid: { left: 40, right: 16, top: 16, bottom: 72 },
    xAxis: { type: "category", data: data.labels, axisLabel: { interval: 0, rotate: data.labels.length > 6 ? 30 : 0 } },
    yAxis: { type: "value", minInterval: 1, name: "起" },
    series: data.series.map(function (s) {
      return { name: s.name, type: "bar", data: s.data, itemStyle: { color: s.colour } };
    })
  } : { title: { text: "本期与去年同期均无事故", left: "center", top: "middle", textStyle: { color: "#9aa0ac", fontSize: 14 } } });
  window.addEventListener("resize", function () { chart.resize(); });
})();
