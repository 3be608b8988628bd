"""Applicant units fill in a call's application form: generated from the call's form schema,
saved as drafts and resumed, evidence uploaded first, submitted with every refusal shown
next to its field (applicant_form_fields has the form itself)."""

from __future__ import annotations

from typing import Any

from flask import Flask, jsonify, render_template, request

from services.console.apis import Answer
from services.console.lists import Column
from services.console.pages.applicant_form_fields import Field, Schema, edit_rows
from services.console.pages.common import (
    Person,
    api,
    days_left,
    done,
    fetch,
    listing_page,
    local_path,
    message,
    path_of,
    person,
)
from services.documents.evidence_types import EXTENSIONS

ACCEPT = ",".join(f".{e}" for e in EXTENSIONS)

DRAFT_COLUMNS = (
    Column("call_title", "col.call", filter="choice"),
    Column("title", "col.title", filter="text"),
    Column("updated_at", "col.updated", filter="date"),
)


def is_open(call: dict) -> bool:
    """Still taking applications: no applicant deadline, or one not yet past (in China's days)."""
    due = ((call.get("deadlines") or {}).get("applicant") or {}).get("due")
    left = days_left(due)
    return left is None or left >= 0


def _free_text_domains(call: dict) -> tuple[str, ...]:
    section = call.get("signature_product") or {}
    return tuple(d["name"] for d in section.get("domains", []) if d.get("free_text"))


def _form_of(who: Person, call: dict, direction: str | None) -> tuple[Schema | None, Answer]:
    params = {"direction": direction} if direction else None
    answer = fetch("intake", path_of("calls", call["call_id"], "form"), who, params=params)
    if not answer.ok:
        return None, answer
    return Schema(answer.data["json_schema"], _free_text_domains(call)), answer


def _uploads(who: Person) -> list[dict]:
    answer = fetch("documents", "/uploads", who)
    return answer.data if answer.ok and isinstance(answer.data, list) else []


def _placed(fields: list[Field]) -> dict[str, Field]:
    return {f.path: f for top in fields for f in top.walk()}


def _page(who: Person, call: dict, schema: Schema, values: dict, *, draft_id: str | None = None,
          refusal: Answer | None = None, status: int = 200):
    fields = schema.fields(values)
    errors = refusal.fields if refusal is not None else {}
    placed = _placed(fields)
    elsewhere = {path: why for path, why in errors.items() if path not in placed}
    return render_template("applicant_form/form.html", call=call, fields=fields, draft_id=draft_id,
                           errors=errors, elsewhere=elsewhere, placed=placed, refusal=refusal, uploads=_uploads(who),
                           accept=ACCEPT, direction=values.get("direction")), status


def _title(form: dict) -> str:
    product = form.get("product")
    return str((product.get("name") if isinstance(product, dict) else None) or form.get("title") or "")


def _act(who: Person, call: dict, schema: Schema, draft_id: str | None):
    """A post of the form: change its rows, save it as a draft, or submit it."""
    op = request.form.get("op", "")
    if op not in ("save", "submit"):  # a row added or removed, or Enter pressed: the form again
        values = schema.parse(request.form, keep_blank_rows=True)
        edit_rows(values, op)
        return _page(who, call, schema, values, draft_id=draft_id)
    values = schema.parse(request.form)
    if op == "save" or (op == "submit" and draft_id):
        if draft_id is None:
            saved = api("intake", "POST", "/drafts", who, json={"call_id": call["call_id"], "form": values})
        else:
            saved = api("intake", "PUT", path_of("drafts", draft_id), who, json={"form": values})
        if not saved.ok:
            return _page(who, call, schema, values, draft_id=draft_id, refusal=saved, status=400)
        draft_id = saved.data["draft_id"]
        if op == "save":
            return done("form.saved", f"/drafts/{draft_id}")
    if draft_id:
        filed = api("intake", "POST", path_of("drafts", draft_id, "submit"), who)
    else:
        filed = api("intake", "POST", path_of("calls", call["call_id"], "cases"), who, json=values)
    if not filed.ok:
        return _page(who, call, schema, values, draft_id=draft_id, refusal=filed, status=400)
    return done("form.submitted", f"/cases/{filed.data['case_id']}")


def register(app: Flask) -> None:
    app.jinja_env.globals["call_is_open"] = is_open  # /calls links each open call to its form

    @app.route("/calls/<call_id>/apply", methods=["GET", "POST"])
    def apply(call_id: str):
        who = person("applicant")
        got = fetch("intake", path_of("calls", call_id), who)
        if not got.ok:
            return message("error.api", got.status, got.error)
        call = got.data
        direction = request.values.get("direction") or None
        if call["program"] == "open_competition" and not direction:
            directions = (call.get("open_competition") or {}).get("directions") or []
            return render_template("applicant_form/direction.html", call=call, directions=directions)
        schema, answer = _form_of(who, call, direction)
        if schema is None:
            return message("error.api", answer.status, answer.error)
        if request.method == "GET":
            return _page(who, call, schema, {"direction": direction} if direction else {})
        return _act(who, call, schema, None)

    @app.get("/drafts")
    def drafts():
        who = person("applicant")
        answer = fetch("intake", "/drafts", who)
        titles = {c["call_id"]: c["title"] for c in (fetch("intake", "/calls", who).data or [])}
        rows = [{**d, "call_title": titles.get(d["call_id"], d["call_id"]), "title": _title(d["form"]) or "—"}
                for d in answer.data] if answer.ok else None
        return listing_page("applicant_form/drafts.html", rows, DRAFT_COLUMNS, title_key="nav.drafts",
                            id_key="draft_id", answer=answer)

    @app.route("/drafts/<draft_id>", methods=["GET", "POST"])
    def draft(draft_id: str):
        who = person("applicant")
        got = fetch("intake", path_of("drafts", draft_id), who)
        if not got.ok:
            return message("error.api", got.status, got.error)
        call = fetch("intake", path_of("calls", got.data["call_id"]), who)
        if not call.ok:
            return message("error.api", call.status, call.error)
        schema, answer = _form_of(who, call.data, got.data["form"].get("direction"))
        if schema is None:
            return message("error.api", answer.status, answer.error)
        if request.method == "GET":
            return _page(who, call.data, schema, got.data["form"], draft_id=draft_id)
        return _act(who, call.data, schema, draft_id)

    @app.route("/drafts/<draft_id>/delete", methods=["GET", "POST"])
    def delete_draft(draft_id: str):
        """Asked first (a draft deleted is gone), then deleted by the POST of that page."""
        who = person("applicant")
        if request.method == "POST":
            gone = api("intake", "DELETE", path_of("drafts", draft_id), who)
            return done("form.deleted", "/drafts") if gone.ok else message("error.api", gone.status, gone.error)
        got = fetch("intake", path_of("drafts", draft_id), who)
        if not got.ok:
            return message("error.api", got.status, got.error)
        call = fetch("intake", path_of("calls", got.data["call_id"]), who)
        return render_template("applicant_form/delete.html", draft_id=draft_id, title=_title(got.data["form"]),
                               call_title=call.data["title"] if call.ok else got.data["call_id"])

    @app.post("/uploads")
    def upload():
        """The file, streamed on to the documents service as the person; JSON for form.js's
        request, a redirect back for a form posted without it."""
        who = person("applicant")
        sent = request.files.get("file")
        wants_json = request.headers.get("X-Requested-With") == "XMLHttpRequest"
        back = local_path(request.form.get("next", "/drafts"), "/drafts")
        if sent is None or not sent.filename:
            answer = Answer(status=400, error="400: no file", code="invalid", fields={"file": ["no file chosen"]})
        else:
            answer = deposit(who, sent.stream, sent.filename)
        if wants_json:
            body: dict[str, Any] = answer.data if answer.ok else {"error": answer.error, "fields": answer.fields}
            return jsonify(body), answer.status
        if answer.ok:
            return done("form.uploaded", back, f"{answer.data['filename']} SHA-256 {answer.data['sha256']}")
        return message("error.api", answer.status, answer.error)


def deposit(who: Person, stream: Any, filename: str) -> Answer:
    """POST /documents/uploads with the file as the body (the service sniffs its bytes)."""
    return api("documents", "POST", "/uploads", who, data=stream, params={"filename": filename})
