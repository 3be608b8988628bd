// The application form's behaviour: live character counts, the parts that apply only under a
// condition, and evidence uploads with their progress. The page works without it (every part
// shown, uploads posted as a plain form); with it, nothing is sent that the page did not show.
"use strict";

// Characters as the domain counts them (shared/domain/forms/fields.py: `len` of the stripped
// Python str): Unicode code points of the trimmed text, so one Chinese character is one, and a
// line break is one (the browser's value has LF; the console reads the posted CRLF back as LF).
function countChars(text) {
  return Array.from(text.trim()).length;
}

function updateCount(input) {
  const counter = document.getElementById("count-" + input.id);
  if (!counter) return;
  const max = Number(input.dataset.max);
  const n = countChars(input.value);
  const unit = counter.textContent.replace(/^\s*\d+\s*\/\s*\d+\s*/, "");
  counter.textContent = n + " / " + max + " " + unit;
  counter.classList.toggle("over", n > max);
}

// A part shown only when a sibling control has one of some values ("true" for a ticked box).
function controlValue(form, name) {
  const selector = '[name="' + CSS.escape(name) + '"]';
  const box = form.querySelector(selector + "[type=checkbox]");
  if (box) return box.checked ? "true" : "false";
  const control = form.querySelector(selector);
  return control ? control.value : "";
}

function applyConditions(form) {
  for (const part of form.querySelectorAll("[data-when]")) {
    const wanted = part.dataset.is.split("|");
    const applies = wanted.includes(controlValue(form, part.dataset.when));
    part.hidden = !applies;
    // Disabled controls are not posted: a part that does not apply sends nothing.
    for (const c of part.querySelectorAll("input, select, textarea, button")) c.disabled = !applies;
  }
}

function addUploaded(doc) {
  const body = document.querySelector("#uploads tbody");
  if (!body.querySelector('tr[data-sha256="' + doc.sha256 + '"]')) {
    const row = document.createElement("tr");
    row.dataset.sha256 = doc.sha256;
    for (const text of [doc.filename, doc.sha256, String(doc.size)]) {
      const cell = document.createElement("td");
      if (text === doc.sha256) {
        cell.className = "sha256";
        const code = document.createElement("code");
        code.textContent = text;
        cell.appendChild(code);
      } else {
        cell.textContent = text;
      }
      row.appendChild(cell);
    }
    body.appendChild(row);
  }
  const option = document.createElement("option");
  option.value = doc.sha256;
  option.textContent = doc.filename;
  document.getElementById("uploaded-documents").appendChild(option);
}

function upload(event) {
  event.preventDefault();
  const form = event.target;
  const file = form.querySelector("input[type=file]").files[0];
  const progress = document.getElementById("upload-progress");
  const status = document.getElementById("upload-status");
  if (!file) return;
  const data = new FormData();
  data.append("file", file);
  const request = new XMLHttpRequest();
  request.open("POST", form.action);
  request.setRequestHeader("X-CSRF-Token", form.dataset.csrf);
  request.setRequestHeader("X-Requested-With", "XMLHttpRequest");
  progress.value = 0;
  request.upload.addEventListener("progress", (e) => {
    if (e.lengthComputable) progress.value = Math.round((100 * e.loaded) / e.total);
  });
  request.addEventListener("load", () => {
    let body = {};
    try { body = JSON.parse(request.responseText); } catch (_) { body = {error: request.statusText}; }
    if (request.status < 300) {
      progress.value = 100;
      status.textContent = status.dataset.ok + " " + body.filename + " SHA-256 " + body.sha256;
      status.className = "";
      addUploaded(body);
    } else {
      status.textContent = status.dataset.failed + " " + (body.error || request.status);
      status.className = "error";
    }
  });
  request.addEventListener("error", () => {
    status.textContent = status.dataset.failed + " " + request.status;
    status.className = "error";
  });
  request.send(data);
}

document.addEventListener("DOMContentLoaded", () => {
  const form = document.getElementById("application");
  if (form) {
    for (const input of form.querySelectorAll("[data-max]")) {
      input.addEventListener("input", () => updateCount(input));
      updateCount(input);
    }
    applyConditions(form);
    form.addEventListener("change", () => applyConditions(form));
  }
  const uploader = document.getElementById("upload-form");
  if (uploader) uploader.addEventListener("submit", upload);
});
