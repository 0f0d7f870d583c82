// SLA charts: each target's measured value per window against its target line,
// drawn with Apache ECharts from the data-charts attribute (no inline script: CSP).
(function () {
  "use strict";
  function draw(box) {
    var charts = [];
    try { charts = JSON.parse(box.getAttribute("data-charts") || "[]"); } catch (e) { return; }
    var locale = box.getAttribute("data-locale") || "EN";
    charts.forEach(function (data) {
      var holder = document.createElement("div");
      holder.className = "chart";
      holder.setAttribute("data-testid", "sla-chart");
      box.appendChild(holder);
      if (!window.echarts) { holder.textContent = data.title; return; }
      var chart = window.echarts.init(holder, null, { locale: locale, renderer: "svg" });
      chart.setOption({
        title: { text: data.title, textStyle: { fontSize: 13 } },
        tooltip: { trigger: "axis" },
        legend: { bottom: 0, data: [data.value_name, data.target_name] },
        grid: { left: 48, right: 16, top: 40, bottom: 48 },
        xAxis: { type: "category", data: data.labels },
        yAxis: { type: "value", name: data.unit },
        series: [
          { name: data.value_name, type: "line", data: data.values, connectNulls: false, symbolSize: 7 },
          { name: data.target_name, type: "line", data: data.labels.map(function () { return data.target; }),
            lineStyle: { type: "dashed" }, symbol: "none" }
        ]
      });
      window.addEventListener("resize", function () { chart.resize(); });
    });
  }
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-charts]").forEach(draw);
  });
})();
