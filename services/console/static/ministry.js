// The task book's milestones as rows to add and remove (the CSP allows no inline script).
// Without this script the form still posts the rows it was drawn with.
"use strict";
document.addEventListener("click", function (event) {
  var button = event.target;
  if (!(button instanceof HTMLButtonElement)) { return; }
  var form = button.closest("form.task-book");
  if (!form) { return; }
  if (button.classList.contains("add-milestone")) {
    var body = form.querySelector("table.milestones tbody");
    var row = form.querySelector("template.milestone-template").content.firstElementChild.cloneNode(true);
    var taken = Array.prototype.map.call(body.querySelectorAll("input[name=m_id]"), function (i) { return i.value; });
    var n = body.rows.length + 1;
    while (taken.indexOf("m" + n) !== -1) { n += 1; }
    row.querySelector("input[name=m_id]").value = "m" + n;
    body.appendChild(row);
    row.querySelector("input[name=m_title]").focus();
  } else if (button.classList.contains("remove-milestone")) {
    var tr = button.closest("tr");
    var next = form.querySelector("button.add-milestone");
    tr.parentNode.removeChild(tr);
    next.focus();  // keyboard users keep their place in the form
  }
});
