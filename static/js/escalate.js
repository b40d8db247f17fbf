/* Escalate form: show where the chosen trigger sends the ticket (all routes are listed without JS). */
(function () {
  "use strict";
  var select = document.getElementById("id_trigger");
  var preview = document.getElementById("route-preview");
  if (!select || !preview) return;
  function show() {
    preview.querySelectorAll("[data-route]").forEach(function (row) {
      row.hidden = row.dataset.route !== select.value;
    });
  }
  select.addEventListener("change", show);
  show();
})();

/* Return page: show only the detail the chosen reason needs (every field is shown without JS). */
(function () {
  "use strict";
  var form = document.querySelector(".return-form");
  if (!form) return;
  function show() {
    var chosen = form.querySelector("input[name=reason]:checked");
    form.querySelectorAll(".reason-detail").forEach(function (box) {
      box.hidden = !chosen || box.dataset.reason !== chosen.value;
    });
  }
  form.addEventListener("change", show);
  show();
})();
