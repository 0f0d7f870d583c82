// The scorecard's history: the composite of each stored evaluation as a line over the
// tiers' bands (shaded), and the tier it left as a step line on its own axis; drawn
// with Apache ECharts from the data-chart attribute (no inline script: CSP).
(function () {
  "use strict";
  var SHADES = { 3: "rgba(201,206,219,0.35)", 4: "rgba(246,196,189,0.35)", 5: "rgba(242,155,143,0.30)",
                 6: "rgba(228,57,60,0.18)" };

  function draw(box) {
    var data;
    try { data = JSON.parse(box.getAttribute("data-chart") || "{}"); } catch (e) { return; }
    if (!window.echarts || !data.labels || !data.labels.length) { return; }
    var chart = window.echarts.init(box, null, { locale: data.locale || "EN", renderer: "canvas" });
    var bands = (data.bands || []).map(function (b) {
      return [{ yAxis: b.low, name: b.label, itemStyle: { color: SHADES[b.tier] || "rgba(0,0,0,0.04)" } },
              { yAxis: b.high }];
    });
    chart.setOption({
      tooltip: {
        trigger: "axis",
        formatter: function (items) {
          var i = items[0].dataIndex;
          return data.labels[i] + "<br>" + data.names.composite + ": " + data.composite[i] + "<br>" +
            data.names.tier + ": " + (data.tier_labels[String(data.tiers[i])] || data.tiers[i]) +
            (data.at_risk[i] ? " (" + data.names.at_risk + ")" : "");
        }
      },
      legend: { bottom: 0, data: [data.names.composite, data.names.tier] },
      grid: { left: 8, right: 8, top: 30, bottom: 40, containLabel: true },
      xAxis: { type: "category", data: data.labels, boundaryGap: false },
      yAxis: [
        { type: "value", min: 0, max: 100, name: data.names.composite, splitLine: { show: false } },
        { type: "value", min: 0, max: 6, interval: 1, name: data.names.tier, splitLine: { show: false },
          axisLabel: { formatter: function (v) { return v === 0 || v >= 3 ? (v === 0 ? "–" : v + "★") : ""; } } }
      ],
      series: [
        { name: data.names.composite, type: "line", data: data.composite, symbolSize: 7, z: 3,
          lineStyle: { width: 2.5, color: "#1a5fd0" }, itemStyle: { color: "#1a5fd0" },
          markArea: { silent: true, data: bands, label: { position: "insideTopRight", fontSize: 11, color: "#6b7385" } } },
        { name: data.names.tier, type: "line", step: "end", yAxisIndex: 1, data: data.tiers, symbol: "none",
          lineStyle: { width: 2, type: "dashed", color: "#e4393c" }, itemStyle: { color: "#e4393c" } }
      ]
    });
    window.addEventListener("resize", function () { chart.resize(); });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-chart]").forEach(draw);
  });
})();
