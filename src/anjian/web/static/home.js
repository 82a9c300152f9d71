/* Home page chart (ECharts): enterprises in scope by supervision category. */
(function () {
  "use strict";
  var el = document.getElementById("category-chart");
  var source = document.getElementById("category-data");
  if (!el || !source || !window.echarts) return;
  var data = JSON.parse(source.textContent).filter(function (d) { return d.value > 0; });
  var chart = echarts.init(el);
  if (!data.length) {
    chart.setOption({ title: { text: "暂无企业数据", left: "center", top: "middle", textStyle: { color: "#9aa0ac", fontSize: 14 } } });
  } else {
    chart.setOption({
      tooltip: { trigger: "item", formatter: "{b}：{c} 家（{d}%）" },
      legend: { bottom: 0 },
      series: [{ type: "pie", radius: ["40%", "68%"], center: ["50%", "45%"], data: data, label: { formatter: "{b}\n{c} 家" } }]
    });
  }
  window.addEventListener("resize", function () { chart.resize(); });
})();
