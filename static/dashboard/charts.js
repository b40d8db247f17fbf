// Dashboard charts (Chart.js, vendored). Data comes from the page's json_script; clicking
// an hour bar opens the tickets created at that hour.
(function () {
  "use strict";
  var node = document.getElementById("dashboard-data");
  if (!node || typeof Chart === "undefined") return;
  var data = JSON.parse(node.textContent);
  var days = data.trend.map(function (row) { return row.day; });
  function draw(id, config) {
    var canvas = document.getElementById(id);
    if (canvas) new Chart(canvas, config);
  }
  draw("chart-volume", {
    type: "line",
    data: {
      labels: days,
      datasets: [
        { label: "Created", data: data.trend.map(function (r) { return r.created; }) },
        { label: "Resolved", data: data.trend.map(function (r) { return r.resolved; }) },
      ],
    },
  });
  draw("chart-sla", {
    type: "line",
    data: {
      labels: days,
      datasets: [
        { label: "First response met %", data: data.trend.map(function (r) { return r.first_response_met_pct; }), spanGaps: true },
        { label: "Resolution met %", data: data.trend.map(function (r) { return r.resolution_met_pct; }), spanGaps: true },
      ],
    },
    options: { scales: { y: { min: 0, max: 100 } } },
  });
  draw("chart-hours", {
    type: "bar",
    data: {
      labels: data.by_hour.map(function (r) { return String(r.hour).padStart(2, "0") + ":00"; }),
      datasets: [{ label: "Tickets created", data: data.by_hour.map(function (r) { return r.tickets; }) }],
    },
    options: {
      onClick: function (_event, elements) {
        if (elements.length) window.location = data.hour_url.replace("__hour__", String(elements[0].index));
      },
    },
  });
  draw("chart-breaches", {
    type: "bar",
    data: {
      labels: data.breaches_by_tier.map(function (r) { return r.label; }),
      datasets: [{ label: "Breaches", data: data.breaches_by_tier.map(function (r) { return r.breaches; }) }],
    },
  });
})();
