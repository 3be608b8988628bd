"""The ministry's calls: the list, defining and amending a call through a form (the tree of
ministry_callform), a call's page with its versions and its counts per direction, region
and stage. Every fact comes from intake's API: POST /intake/calls, POST …/amendments,
GET /intake/calls[/<id>[/counts]]."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Flask, abort, render_template, request

from services.console.apis import Answer
from services.console.lists import Column
from services.console.pages import ministry_callform as callform
from services.console.pages.common import CHINA, api, done, fetch, listing_page, path_of, person, word
from shared.domain.regions import PROVINCE_LEVEL_AUTHORITIES

IMMUTABLE = ("call_id", "program", "version", "amended_from")  # an amendment may not send these
NEW_CALL = {"version": "1", "timezone": "Asia/Shanghai", "chains.default": "province",
            **{f"deadlines.{level}._present": "on" for level in ("applicant", "city", "province", "ministry")},
            "public_notice._present": "on"}
COUNTS = ("direction", "province", "state")


def call_state(definition: dict[str, Any], now: datetime | None = None) -> str:
    """Open, closed (the applicants' or else the provinces' date has passed), or not yet
    accepting anything (a 揭榜挂帅 call whose directions are still to be listed)."""
    section = definition.get("open_competition")
    if section is not None and not section.get("directions"):
        return "no_directions"
    deadlines = definition.get("deadlines", {})
    due = (deadlines.get("applicant") or {}).get("due") or (deadlines.get("province") or {}).get("due")
    if due and datetime.fromisoformat(due) < (now or datetime.now(CHINA)):
        return "closed"
    return "open"


def changes_between(old: Any, new: Any, path: str = "") -> tuple[Any, dict[str, str]]:
    """What an amendment sends: the parts of `new` that differ from `old`. Objects merge key
    by key at the service, so a key removed from an object cannot be sent: it is named."""
    if isinstance(old, dict) and isinstance(new, dict):
        changed: dict[str, Any] = {}
        removed = {f"{path}.{k}".lstrip(".") for k in old if k not in new}
        for key, value in new.items():
            if key not in old:
                changed[key] = value
            elif old[key] != value:
                changed[key], deeper = changes_between(old[key], value, f"{path}.{key}".lstrip("."))
                removed |= set(deeper)
        return changed, dict.fromkeys(sorted(removed), "mc.cannot_remove")
    return new, {}


def _form(values: dict[str, str], answer: Answer | None, *, amend: dict[str, Any] | None = None,
          problems: dict[str, str] | None = None, status: int = 200):
    errors = dict(answer.fields) if answer is not None else {}
    errors.update({path: word(key) for path, key in (problems or {}).items()})
    drawn = callform.widgets(values, errors)
    # The summary's lines lead to the field each names (first control of that path).
    anchors: dict[str, str] = {}
    for w in callform.walk(drawn):
        anchors.setdefault(w.path, w.dom_id)
    return render_template("ministry_calls/form.html", widgets=drawn, errors=errors, anchors=anchors,
                           answer=answer, amend=amend), status


def register(app: Flask) -> None:
    @app.get("/ministry/calls")
    def ministry_calls():
        who = person("ministry")
        answer = fetch("intake", "/calls", who)
        rows = [{**row, "state": call_state(row),
                 "applicant_due": ((row.get("deadlines") or {}).get("applicant") or {}).get("due"),
                 "province_due": ((row.get("deadlines") or {}).get("province") or {}).get("due")}
                for row in answer.data or []] if answer.ok else None
        columns = [Column("call_id", "mc.col.call_id", "text"), Column("title", "col.title", "text"),
                   Column("program", "col.program", "choice", lambda r: word(f"mc.opt.{r['program']}")),
                   Column("year", "col.year", "choice"),
                   Column("state", "col.state", "choice", lambda r: word(f"mc.state.{r['state']}")),
                   Column("version", "col.version"),
                   Column("applicant_due", "mc.col.applicant_due", "date", lambda r: (r["applicant_due"] or "")[:10]),
                   Column("province_due", "mc.col.province_due", "date", lambda r: (r["province_due"] or "")[:10])]
        return listing_page("ministry_calls/list.html", rows, columns, title_key="mc.title", id_key="call_id",
                            answer=answer)

    @app.get("/ministry/calls/new")
    def new_call():
        who = person("ministry")
        start = request.args.get("from", "")
        if not start:
            return _form(dict(NEW_CALL), None)
        # A new call that starts from another's definition (last year's, a shipped notice):
        # its own id and version 1, everything else to be checked against the new notice.
        source = fetch("intake", path_of("calls", start), who)
        if not source.ok:
            return render_template("ministry_calls/call.html", answer=source, call=None), source.status
        return _form({**callform.to_values(source.data), "call_id": "", "version": "1", "amended_from": ""}, None)

    @app.post("/ministry/calls/new")
    def define_call():
        who = person("ministry")
        definition = callform.to_definition(request.form)
        answer = api("intake", "POST", "/calls", who, json=definition)
        if answer.ok:
            return done("mc.defined", path_of("ministry", "calls", answer.data["call_id"]))
        return _form(callform.to_values(definition), answer, status=answer.status if answer.status < 500 else 502)

    @app.route("/ministry/calls/<call_id>/amend", methods=["GET", "POST"])
    def amend_call(call_id: str):
        who = person("ministry")
        current = fetch("intake", path_of("calls", call_id), who)
        if not current.ok:
            return render_template("ministry_calls/call.html", answer=current, call=None), current.status
        if request.method == "GET":
            return _form(callform.to_values(current.data), None, amend=current.data)
        wanted = callform.to_definition(request.form)
        changes, removed = changes_between(current.data, wanted)
        changes = {k: v for k, v in changes.items() if k not in IMMUTABLE}
        if removed or not changes:
            return _form(callform.to_values(wanted), None, amend=current.data,
                         problems=removed or {"_body": "mc.no_change"}, status=400)
        answer = api("intake", "POST", path_of("calls", call_id, "amendments"), who, json=changes)
        if answer.ok:
            return done("mc.amended", path_of("ministry", "calls", call_id), f"v{answer.data['version']}")
        return _form(callform.to_values(wanted), answer, amend=current.data,
                     status=answer.status if answer.status < 500 else 502)

    @app.get("/ministry/calls/<call_id>")
    def ministry_call(call_id: str):
        who = person("ministry")
        latest = fetch("intake", path_of("calls", call_id), who)
        if not latest.ok:
            return render_template("ministry_calls/call.html", answer=latest, call=None), latest.status
        wanted = request.args.get("version", type=int) or latest.data["version"]
        shown = latest if wanted == latest.data["version"] else fetch(
            "intake", path_of("calls", call_id), who, params={"version": wanted})
        if not shown.ok:
            return render_template("ministry_calls/call.html", answer=shown, call=None), shown.status
        versions = [latest.data if v == latest.data["version"] else fetch(
            "intake", path_of("calls", call_id), who, params={"version": v}).data or {"version": v}
            for v in range(1, latest.data["version"] + 1)]
        counts = fetch("intake", path_of("calls", call_id, "counts"), who)
        return render_template("ministry_calls/call.html", answer=shown, call=shown.data, latest=latest.data,
                               versions=versions, counts=counts, state=call_state(shown.data),
                               view=callform.widgets(callform.to_values(shown.data), {}),
                               count_rows={by: count_rows(shown.data, counts.data, by) if counts.ok else []
                                           for by in COUNTS})

    @app.get("/ministry/calls/<call_id>/counts/<by>")
    def call_counts(call_id: str, by: str):
        who = person("ministry")
        if by not in COUNTS:
            abort(404)
        call = fetch("intake", path_of("calls", call_id), who)
        counts = fetch("intake", path_of("calls", call_id, "counts"), who)
        answer = counts if not counts.ok else call
        rows = count_rows(call.data, counts.data, by) if counts.ok and call.ok else None
        columns = [Column("key", f"mc.count.{by}", "choice"), Column("name", "mc.col.name", "text"),
                   Column("count", "mc.col.count")]
        return listing_page("ministry_calls/counts.html", rows, columns, title_key=f"mc.counts.{by}", id_key="key",
                            answer=answer, call_id=call_id, by=by)


def count_rows(call: dict[str, Any], counts: dict[str, Any], by: str) -> list[dict[str, Any]]:
    """One row per direction, region or stage with its number of cases; the call's directions
    with no case yet are listed with 0, so the ministry sees which have none."""
    found: dict[str, int] = dict(counts.get(f"by_{by}") or {})
    if by == "direction":
        for direction in (call.get("open_competition") or {}).get("directions") or []:
            found.setdefault(direction["code"], 0)
        names = {d["code"]: d["name"] for d in (call.get("open_competition") or {}).get("directions") or []}
    elif by == "province":
        names = dict(PROVINCE_LEVEL_AUTHORITIES)
    else:
        names = {}
    return [{"key": key, "name": names.get(key, ""), "count": n} for key, n in sorted(found.items())]
