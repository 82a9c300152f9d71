/* 双重预防 page charts (ECharts): hidden hazards by division (open / written off, stacked) and
   risk points by level (pie in the four colours). Data comes from the page's JSON block. */
(function () {
  "use strict";
  var source = document.getElementById("overview-data");
  if (!source || !window.echarts) return;
  var data = JSON.parse(source.textContent);
  var charts = [];
  var empty = function (text) {
    return { title: { text: text, left: "center", top: "middle", textStyle: { color: "#9aa0ac", fontSize: 14 } } };
  };

  var barEl = document.getElementById("hazard-chart");
  if (barEl) {
    var bar = echarts.init(barEl);
    var hz = data.hazards;
    var any = hz.series.some(function (s) { return s.data.some(function (n) { return n > 0; }); });
    bar.setOption(any ? {
      tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
      legend: { bottom: 0 },
      grid: { left: 40, right: 16, top: 16, bottom: 56 },
      xAxis: { type: "category", data: hz.divisions, axisLabel: { interval: 0, rotate: hz.divisions.length > 6 ? 30 : 0 } },
      yAxis: { type: "value", minInterval: 1 },
      series: hz.series.map(function (s) {
        return { name: s.name, type: "bar", stack: "hazards", data: s.data, itemStyle: { color: s.colour } };
      })
    } : empty("暂无隐患数据"));
    charts.push(bar);
  }

  var pieEl = document.getElementById("level-chart");
  if (pieEl) {
    var pie = echarts.init(pieEl);
    var levels = data.levels.filter(function (d) { return d.value > 0; });
    pie.setOption(levels.length ? {
      tooltip: { trigger: "item", formatter: "{b}：{c} 个（{d}%）" },
      legend: { bottom: 0 },
      series: [{ type: "pie", radius: ["40%", "68%"], center: ["50%", "45%"], data: levels, label: { formatter: "{b}\n{c} 个" } }]
    } : empty("暂无风险点数据"));
    charts.push(pie);
  }

  window.addEventListener("resize", function () {
    charts.forEach(function (c) { c.resize(); });
  });
})();
