/* The reform dashboard's charts: Apache ECharts (vendored) draws the bars described by the JSON block
   #reform-charts; a bar is a link to its drill-down, like the table beside each chart. */
(function () {
  "use strict";
  function draw() {
    var block = document.getElementById("reform-charts");
    if (!block || !window.echarts) { return; }
    JSON.parse(block.textContent).forEach(function (spec) {
      var el = document.querySelector('[data-chart="' + spec.id + '"]');
      if (!el || !spec.labels.length) { return; }
      el.style.height = Math.max(160, spec.labels.length * 28 + 60) + "px";
      var chart = window.echarts.init(el, null, {renderer: "canvas"});
      chart.setOption({
        animation: false,
        grid: {left: 8, right: 48, top: 12, bottom: 24, containLabel: true},
        tooltip: {trigger: "item", formatter: function (p) { return p.name + "：" + (p.value == null ? "无数据" : p.value + "%"); }},
        xAxis: {type: "value", min: 0, max: 100, axisLabel: {formatter: "{value}%"}},
        yAxis: {type: "category", inverse: true, data: spec.labels, axisLabel: {width: 150, overflow: "truncate"}},
        series: [{type: "bar", data: spec.values, itemStyle: {color: "#1d4f91"}, barMaxWidth: 20, cursor: "pointer",
                  label: {show: true, position: "right", formatter: function (p) { return p.value == null ? "—" : p.value + "%"; }}}]
      });
      chart.on("click", function (p) { if (spec.links[p.dataIndex]) { window.location.href = spec.links[p.dataIndex]; } });
      window.addEventListener("resize", function () { chart.resize(); });
      el.setAttribute("data-ready", "1");
    });
  }
  function printButtons() {
    Array.prototype.forEach.call(document.querySelectorAll("[data-print]"), function (button) {
      button.addEventListener("click", function () { window.print(); });
    });
  }
  document.addEventListener("DOMContentLoaded", function () { draw(); printButtons(); });
}());
