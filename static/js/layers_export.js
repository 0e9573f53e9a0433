// A prepared download: follow the job until its file is ready, then show the link.
(function () {
  "use strict";
  var box = document.getElementById("export-job");
  if (!box) return;
  function size(bytes) {
    return bytes > 1048576 ? (bytes / 1048576).toFixed(1) + " MB" : Math.ceil(bytes / 1024) + " KB";
  }
  function show(job) {
    box.querySelector("progress").value = job.progress || 0;
    var pct = job.status === "running" ? " " + Math.round((job.progress || 0) * 100) + "%" : "";
    box.querySelector(".state").textContent = job.status_label + pct;
    box.querySelector(".message").textContent = job.message || "";
    if (job.file_url) {
      box.querySelector("#export-link").href = job.file_url;
      box.querySelector(".size").textContent = size(job.size_bytes);
      box.querySelector(".ready").hidden = false;
    }
    return job.status === "queued" || job.status === "running";
  }
  function poll() {
    fetch(box.dataset.statusUrl, { credentials: "same-origin" })
      .then(function (r) { return r.json(); })
      .then(function (job) { if (show(job)) setTimeout(poll, 1000); })
      .catch(function () { setTimeout(poll, 3000); });
  }
  poll();
})();
