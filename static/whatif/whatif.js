// SLA what-if page: the attainment chart (current vs proposed) and, for a long period,
// polling the run's progress until the worker is done (then the page shows the answer).
(function () {
  "use strict";

  var node = document.getElementById("whatif-data");
  var canvas = document.getElementById("chart-whatif");
  if (node && canvas && typeof Chart !== "undefined") {
    var data = JSON.parse(node.textContent);
    var series = function (rows, key) { return rows.map(function (r) { return r[key]; }); };
    new Chart(canvas, {
      type: "line",
      data: {
        labels: data.days,
        datasets: [
          { label: "First response met % (current)", data: series(data.current, "first_response_met_pct"), spanGaps: true },
          { label: "First response met % (proposed)", data: series(data.proposed, "first_response_met_pct"), spanGaps: true, borderDash: [6, 4] },
          { label: "Resolution met % (current)", data: series(data.current, "resolution_met_pct"), spanGaps: true },
          { label: "Resolution met % (proposed)", data: series(data.proposed, "resolution_met_pct"), spanGaps: true, borderDash: [6, 4] },
        ],
      },
      options: { scales: { y: { min: 0, max: 100 } } },
    });
  }

  var box = document.getElementById("whatif-progress");
  if (!box || !box.dataset.pollUrl) return;
  var bar = box.querySelector("[data-progress]");
  var label = box.querySelector("[data-percent]");
  var total = box.querySelector("[data-total]");
  function poll() {
    fetch(box.dataset.pollUrl, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (response) { return response.json(); })
      .then(function (run) {
        if (bar) bar.value = run.percent;
        if (label) label.textContent = run.percent + " %";
        if (total) total.textContent = run.total;
        if (run.status === "done" || run.status === "failed") {
          window.location.assign(box.dataset.pageUrl);
        } else {
          window.setTimeout(poll, 1000);
        }
      })
      .catch(function () { window.setTimeout(poll, 3000); });
  }
  window.setTimeout(poll, 500);
})();
