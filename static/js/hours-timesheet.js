// Timesheet niceties: offer only the chosen project's deliverables, and keep the day totals live.
(function () {
  "use strict";
  var form = document.querySelector("form.timesheet");
  if (!form) return;

  function filterDeliverables(projectSelect) {
    var row = projectSelect.closest("tr");
    var deliverable = row.querySelector("select[name$='-deliverable']");
    Array.prototype.forEach.call(deliverable.options, function (opt) {
      var own = !opt.dataset.project || opt.dataset.project === projectSelect.value;
      opt.hidden = !own;
      if (!own && opt.selected) deliverable.value = "";
    });
  }

  function updateTotals() {
    var cells = form.querySelectorAll("tfoot td.num");
    for (var d = 0; d < 7; d++) {
      var sum = 0;
      form.querySelectorAll("input[name$='-d" + d + "']").forEach(function (input) {
        var v = parseFloat(input.value.replace(",", "."));
        if (!isNaN(v)) sum += v;
      });
      if (cells[d]) cells[d].textContent = sum ? String(Math.round(sum * 100) / 100) : "0";
    }
  }

  form.querySelectorAll("select[name$='-project']").forEach(function (select) {
    filterDeliverables(select);
    select.addEventListener("change", function () { filterDeliverables(select); });
  });
  form.addEventListener("input", function (e) {
    if (e.target.classList.contains("hours")) updateTotals();
  });
})();
