// Draws each indicator's chart from its figure's data-chart attribute (the pages run no
// inline script). The table beside each chart holds the same figures: without this file,
// or without the chart library, nothing is lost.
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  if (typeof Chart === "undefined") return;
  const rtl = document.documentElement.dir === "rtl";
  const styles = [
    { borderDash: [6, 4], color: "#6b7280" }, // baseline
    { borderDash: [2, 3], color: "#b45309" }, // target
    { borderDash: [], color: "#1d4ed8" }, // actual
  ];
  document.querySelectorAll("figure.chart[data-chart]").forEach((figure) => {
    const chart = JSON.parse(figure.dataset.chart);
    figure.classList.add("drawn");
    new Chart(figure.querySelector("canvas"), {
      type: "line",
      data: {
        labels: chart.labels,
        datasets: chart.series.map((series, index) => ({
          label: series.label,
          data: series.values,
          borderColor: styles[index].color,
          backgroundColor: styles[index].color,
          borderDash: styles[index].borderDash,
          spanGaps: false,
        })),
      },
      options: {
        maintainAspectRatio: false,
        animation: false,
        // Right to left, the cycles run leftwards and the values stand on the right. Each
        // cycle keeps room around it (offset), so no label at an end is cut off.
        scales: {
          x: { reverse: rtl, offset: true },
          y: { position: rtl ? "right" : "left" },
        },
        plugins: { legend: { rtl: rtl } },
      },
    });
  });
});
