"""Applicant units' pages: the open calls, their cases, and a case with its timeline and what
is asked of the unit now (amend and resubmit, withdraw, report a milestone, declare completion).

Every command is a form posted here and sent to the service as the person; success redirects
back to the case with a notice, a refusal renders the case again with the service's reasons
next to the fields it names and the person's text kept."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Flask, render_template, request

from services.console import apis
from services.console.lists import Column
from services.console.pages import case_forms
from services.console.pages.common import (
    AUTHORITIES,
    CHINA,
    Person,
    api,
    done,
    fetch,
    listing_page,
    path_of,
    person,
    state_column,
    word,
)

# The states in which the unit may still give up its application or task (the transition table's).
WITHDRAWABLE = ("submitted", "returned", "city_recommended", "province_endorsed", "shortlisted",
                "in_implementation", "evaluated")
TO_REPORT = ("pending", "returned", "overdue")  # a milestone's report is due, or due again
CASE_COLUMNS = (
    Column("title", "col.title", "text"),
    Column("call_id", "col.call", "choice"),
    Column("direction", "appcase.direction", "choice"),
    state_column(),
    Column("version", "col.version"),
    Column("updated_at", "col.updated", "date"),
)


def _case_data(who: Person, case_id: str) -> dict[str, Any]:
    """What the case page shows, each part from the service that holds it."""
    service = "verification" if who.role in AUTHORITIES else "intake"
    case = fetch(service, path_of("cases", case_id), who)
    timeline = fetch(service, path_of("cases", case_id, "timeline"), who) if case.ok else None
    evidence = fetch("documents", path_of("cases", case_id, "evidence"), who) if case.ok else None
    events = timeline.data["events"] if timeline is not None and timeline.ok else []
    return {"answer": case, "case": case.data if case.ok else None, "timeline": timeline, "events": events,
            "evidence": evidence, "documents": evidence.data if evidence is not None and evidence.ok else []}


def _latest(events: list[dict], *types: str) -> dict | None:
    found = [e for e in events if e["type"] in types]
    return found[-1] if found else None


def _asked(case: dict, events: list[dict]) -> dict[str, Any]:
    """What the unit is asked to do now, read from the case's state and its history."""
    returned = _latest(events, "ReturnedForCorrection") if case["state"] == "returned" else None
    book = _latest(events, "TaskBookSigned", "TaskBookAmended")
    milestones = []
    if case["state"] == "in_implementation":
        planned = {m["id"]: m for m in (book["summary"].get("task_book", {}).get("milestones", []) if book else [])}
        for mid, status in case.get("milestones", {}).items():
            sent_back = [e for e in events if e["type"] == "MilestoneReportReturned"
                         and e["summary"].get("milestone_id") == mid]
            milestones.append({"id": mid, "status": status, "due": status in TO_REPORT, **planned.get(mid, {}),
                               "sent_back": sent_back[-1]["summary"].get("reasons", []) if sent_back else []})
    fields = list(case_forms.values(case.get("application") or {})) if returned else []
    declared = any(e["type"] == "CompletionDeclared" for e in events)
    return {
        "returned": returned,
        "fields": fields,
        "names": [case_forms.PREFIX + v.path for v in fields],
        "withdraw": case["state"] in WITHDRAWABLE,
        "milestones": milestones,
        "completion": case["state"] == "in_implementation" and not declared,
    }


def render_case(who: Person, case_id: str, failed: str = "", answer: apis.Answer | None = None, status: int = 200):
    data = _case_data(who, case_id)
    asked = _asked(data["case"], data["events"]) if data["case"] and who.role == "applicant" else None
    application = data["case"].get("application") if data["case"] else None
    return render_template("case.html", **data, asked=asked, failed=failed, refusal=answer,
                           sent=request.form if failed else {}, values=list(case_forms.values(application or {})),
                           when=when, shown=shown), (status if data["answer"].ok else data["answer"].status)


def when(recorded: str | None) -> str:
    """A recorded time (ISO, UTC) as China's wall clock: the officials' and the units' time."""
    if not recorded:
        return ""
    try:
        moment = datetime.fromisoformat(recorded)
    except ValueError:
        return recorded
    return moment.astimezone(CHINA).strftime("%Y-%m-%d %H:%M") if moment.tzinfo else recorded


def shown(value: Any) -> str:
    """A recorded value as a line of text: lists joined, checks as passed or not, a task book
    as its milestones."""
    if isinstance(value, bool):
        return word("appcase.yes" if value else "appcase.no")
    if isinstance(value, list):
        return "; ".join(shown(v) for v in value)
    if isinstance(value, dict):
        if "milestones" in value:
            return "; ".join(f"{m.get('id')} {m.get('title', '')} ({m.get('due_on', '')})" for m in value["milestones"])
        if "passed" in value:
            mark = "✓" if value["passed"] else "✗"
            return f"{mark} {value.get('note') or ''}".strip()
        return "; ".join(f"{k}: {shown(v)}" for k, v in value.items())
    return "" if value is None else str(value)


def _upload(who: Person, case_id: str, field: str, step: str) -> tuple[str | None, apis.Answer | None]:
    """The file in `field` (if any) filed on the case as the person: its SHA-256, or the refusal."""
    upload = request.files.get(field)
    if upload is None or not upload.filename:
        return None, None
    filed = api("documents", "POST", path_of("cases", case_id, "evidence"), who, data=upload.stream,
                params={"filename": upload.filename, "step": step})
    if not filed.ok:
        filed.fields = {field: filed.error, **filed.fields}
        return None, filed
    return filed.data["sha256"], None


def _back(who: Person, case_id: str, form: str, answer: apis.Answer, notice: str):
    if answer.ok:
        return done(notice, "/cases" + path_of(case_id))
    return render_case(who, case_id, form, answer, answer.status if answer.status >= 400 else 400)


def register(app: Flask) -> None:
    @app.get("/calls")
    def calls():
        who = person()
        answer = fetch("intake", "/calls", who)
        return render_template("calls.html", answer=answer, rows=answer.data if answer.ok else None)

    @app.get("/cases")
    def cases():
        who = person("applicant", "ministry")
        answer = fetch("intake", "/cases", who)
        return listing_page("cases.html", answer.data if answer.ok else None, CASE_COLUMNS, title_key="nav.cases",
                            answer=answer)

    @app.get("/cases/<case_id>")
    def case(case_id: str):
        return render_case(person("applicant", "ministry", *AUTHORITIES), case_id)

    @app.post("/cases/<case_id>/resubmit")
    def resubmit(case_id: str):
        who = person("applicant")
        current = fetch("intake", path_of("cases", case_id), who)
        if not current.ok:
            return _back(who, case_id, "resubmit", current, "")
        application = case_forms.amended(current.data["application"], request.form)
        answer = api("intake", "POST", path_of("cases", case_id, "resubmit"), who,
                     json={"application": application, "changes": request.form.get("changes", "")})
        # The service names a value by its path in the application; the form's field is `app:<path>`.
        answer.fields = {(k if k == "changes" else case_forms.PREFIX + k): v for k, v in answer.fields.items()}
        return _back(who, case_id, "resubmit", answer, "appcase.resubmitted")

    @app.post("/cases/<case_id>/withdraw")
    def withdraw(case_id: str):
        who = person("applicant")
        if request.form.get("confirm") != "yes":
            refusal = apis.Answer(status=400, error="", fields={"confirm": "appcase.confirm_needed"})
            return render_case(who, case_id, "withdraw", refusal, 400)
        answer = api("intake", "POST", path_of("cases", case_id, "withdraw"), who,
                     json={"reason": request.form.get("reason", "")})
        return _back(who, case_id, "withdraw", answer, "appcase.withdrawn")

    @app.post("/cases/<case_id>/milestones/<milestone_id>/report")
    def report(case_id: str, milestone_id: str):
        who = person("applicant")
        digest, refused = _upload(who, case_id, "evidence_file", "milestone")
        if refused is not None:
            return _back(who, case_id, f"report-{milestone_id}", refused, "")
        evidence = [*request.form.getlist("evidence"), *([digest] if digest else [])]
        answer = api("review", "POST", path_of("cases", case_id, "milestones", milestone_id, "report"), who,
                     json={"summary": request.form.get("summary", ""), "evidence": evidence})
        return _back(who, case_id, f"report-{milestone_id}", answer, "appcase.reported")

    @app.post("/cases/<case_id>/completion")
    def completion(case_id: str):
        who = person("applicant")
        digest, refused = _upload(who, case_id, "evidence_file", "completion")
        if refused is not None:
            return _back(who, case_id, "completion", refused, "")
        answer = api("review", "POST", path_of("cases", case_id, "completion"), who,
                     json={"summary": request.form.get("summary", ""), "evidence": [digest] if digest else []})
        return _back(who, case_id, "completion", answer, "appcase.completed")

    @app.post("/cases/<case_id>/evidence")
    def evidence(case_id: str):
        who = person("applicant")
        digest, refused = _upload(who, case_id, "evidence_file", request.form.get("step") or "correction")
        if refused is None and digest is None:
            refused = apis.Answer(status=400, fields={"evidence_file": "appcase.file_needed"})
        return _back(who, case_id, "evidence", refused or apis.Answer(status=201), "appcase.uploaded")
