// The call form's repeated parts (add / remove a row) and its optional parts (shown when
// ticked; the program's own part shown for the program chosen). Loaded as a file: the CSP
// allows no inline script. Without it the form still posts what is shown.
"use strict";

function showToggled(box) {
  const parts = document.getElementById(box.dataset.toggles);
  if (parts) parts.hidden = !box.checked;
}

function showProgram(select) {
  document.querySelectorAll("fieldset[data-program]").forEach((part) => {
    part.hidden = Boolean(select.value) && part.dataset.program !== select.value;
  });
}

document.addEventListener("DOMContentLoaded", () => {
  const form = document.getElementById("call-form");
  if (!form) return;
  form.querySelectorAll("input[data-toggles]").forEach(showToggled);
  const program = form.querySelector("[name=program]");
  if (program && program.tagName === "SELECT") showProgram(program);

  form.addEventListener("change", (event) => {
    const target = event.target;
    if (target.matches("input[data-toggles]")) showToggled(target);
    if (target.matches("select[name=program]")) showProgram(target);
  });

  form.addEventListener("click", (event) => {
    const button = event.target.closest("button");
    if (!button) return;
    if (button.classList.contains("add-row")) {
      const template = document.getElementById(button.dataset.template);
      const rows = document.getElementById(button.dataset.rows);
      const index = Number(button.dataset.next);
      button.dataset.next = String(index + 1);
      // The new row's names carry an index no other row has; the console reads rows in index order.
      rows.insertAdjacentHTML("beforeend", template.innerHTML.replaceAll("__i__", String(index)));
      const added = rows.lastElementChild;
      added.querySelectorAll("input[data-toggles]").forEach(showToggled);
      const first = added.querySelector("input, select, textarea");
      if (first) first.focus();
    } else if (button.classList.contains("remove-row")) {
      const row = button.closest("fieldset.row");
      const add = row.parentElement.parentElement.querySelector(":scope > button.add-row");
      row.remove();
      if (add) add.focus();
    }
  });
});
