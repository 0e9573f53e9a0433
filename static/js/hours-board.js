// Drag deliverable cards between board columns; the server (deliverable_transition) decides.
(function () {
  "use strict";
  var board = document.querySelector(".board");
  if (!board) return;
  var csrf = board.dataset.csrf;
  var dragged = null;

  board.addEventListener("dragstart", function (e) {
    dragged = e.target.closest(".cardlet");
    if (!dragged) return;
    e.dataTransfer.setData("text/plain", dragged.dataset.id);
    var moves = dragged.dataset.moves.split(" ");
    board.querySelectorAll(".column").forEach(function (col) {
      col.classList.toggle("drop-ok", moves.indexOf(col.dataset.status) >= 0);
    });
  });
  board.addEventListener("dragend", function () {
    board.querySelectorAll(".column").forEach(function (col) { col.classList.remove("drop-ok"); });
  });
  board.addEventListener("dragover", function (e) {
    var col = e.target.closest(".column");
    if (col && col.classList.contains("drop-ok")) e.preventDefault();
  });
  board.addEventListener("drop", function (e) {
    var col = e.target.closest(".column");
    if (!col || !dragged || !col.classList.contains("drop-ok")) return;
    e.preventDefault();
    var card = dragged;
    var status = col.dataset.status;
    var comment = "";
    if (status === "changes_requested") {
      comment = window.prompt("What should change?") || "";
      if (!comment.trim()) return;
    }
    var body = new FormData();
    body.append("to_status", status);
    body.append("comment", comment);
    fetch(card.dataset.moveUrl, {
      method: "POST",
      body: body,
      headers: { "X-CSRFToken": csrf, Accept: "application/json" },
      credentials: "same-origin",
    })
      .then(function (r) { return r.json(); })
      .then(function (data) {
        if (!data.ok) { window.alert(data.error); return; }
        // Reload so the card shows its new allowed moves and the counts update.
        window.location.reload();
      });
  });
})();
