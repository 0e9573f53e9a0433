// Upload page: drag and drop several files, show sizes, post each to the API, poll job status.
(function () {
  "use strict";
  var form = document.getElementById("upload-form");
  if (!form) return;
  var input = document.getElementById("files");
  var zone = document.getElementById("dropzone");
  var queue = document.getElementById("queue");
  var csrf = form.querySelector("input[name=csrfmiddlewaretoken]").value;
  var files = [];

  function size(n) {
    var units = ["bytes", "KB", "MB", "GB"], i = 0;
    while (n >= 1024 && i < units.length - 1) { n /= 1024; i++; }
    return (i ? n.toFixed(1) : n) + " " + units[i];
  }

  function row(file) {
    var li = document.createElement("li");
    li.className = "upload-item";
    li.innerHTML = '<span class="name"></span> <span class="size"></span> ' +
      '<progress max="1" value="0"></progress> <span class="state">ready</span>';
    li.querySelector(".name").textContent = file.name;
    li.querySelector(".size").textContent = "(" + size(file.size) + ")";
    queue.appendChild(li);
    return li;
  }

  function add(list) {
    if (!form.dataset.layer) { Array.prototype.forEach.call(list, function (f) { files.push({ file: f, li: row(f) }); }); }
    else if (list.length) { queue.innerHTML = ""; files = [{ file: list[0], li: row(list[0]) }]; }
  }

  input.addEventListener("change", function () { add(input.files); });
  ["dragenter", "dragover"].forEach(function (ev) {
    zone.addEventListener(ev, function (e) { e.preventDefault(); zone.classList.add("over"); });
  });
  ["dragleave", "drop"].forEach(function (ev) {
    zone.addEventListener(ev, function (e) { e.preventDefault(); zone.classList.remove("over"); });
  });
  zone.addEventListener("drop", function (e) { add(e.dataTransfer.files); });

  function setState(item, text, cls) {
    var s = item.li.querySelector(".state");
    s.textContent = text;
    item.li.className = "upload-item " + (cls || "");
  }

  function poll(item, url) {
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { return r.json(); })
      .then(function (job) {
        item.li.querySelector("progress").value = job.progress || 0;
        if (job.status === "succeeded") {
          setState(item, "done", "ok");
          var s = item.li.querySelector(".state");
          s.textContent = "";
          job.layers.forEach(function (l) {
            var a = document.createElement("a");
            a.href = l.url;
            a.textContent = l.name + " (" + l.feature_count + " features)";
            s.appendChild(a);
            s.appendChild(document.createTextNode(" "));
          });
          if (job.message) s.appendChild(document.createTextNode(" — " + job.message));
        } else if (job.status === "failed") {
          item.sent = false;  // pressing Upload again retries it, e.g. with the EPSG code asked for
          setState(item, (job.message || "failed") + " Set the options above and press Upload to retry.", "error");
          if (/EPSG/.test(job.message || "")) {
            form.querySelector("details").open = true;
            form.querySelector("[name=srid]").focus();
          }
        } else {
          setState(item, job.status + " " + Math.round((job.progress || 0) * 100) + "%", "busy");
          setTimeout(function () { poll(item, url); }, 700);
        }
      })
      .catch(function () { setTimeout(function () { poll(item, url); }, 1500); });
  }

  form.addEventListener("submit", function (e) {
    e.preventDefault();
    files.forEach(function (item) {
      if (item.sent) return;
      item.sent = true;
      var data = new FormData();
      data.append("file", item.file);
      ["name", "srid", "source_layer"].forEach(function (k) {
        var el = form.querySelector("[name=" + k + "]");
        if (el && el.value) data.append(k, el.value);
      });
      var dz = form.querySelector("[name=drop_z]");
      if (dz && dz.checked) data.append("drop_z", "1");
      if (form.dataset.layer) data.append("layer", form.dataset.layer);
      setState(item, "uploading", "busy");
      fetch(form.dataset.endpoint, {
        method: "POST", body: data, credentials: "same-origin",
        headers: { "X-CSRFToken": csrf, Accept: "application/json" }
      })
        .then(function (r) { return r.json().then(function (j) { return { ok: r.ok, body: j }; }); })
        .then(function (res) {
          if (!res.ok) { item.sent = false; setState(item, res.body.error || res.body.detail || "refused", "error"); return; }
          setState(item, "queued", "busy");
          poll(item, res.body.status_url);
        })
        .catch(function () { setState(item, "upload failed", "error"); });
    });
  });
}());
