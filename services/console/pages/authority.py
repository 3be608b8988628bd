"""City and province officials' pages: the inbox (filtered, exported, checks recorded in a
batch), a case with its application and evidence and the decisions on it (checks,
recommend/endorse with the quota in view, return, reject, withdraw an endorsement), the
推荐汇总表 per call, and the authority's contact.

Every decision is one command to the verification service as the person; a refusal is
shown on the case page in the section of the decision it refused, next to its field
when the service names one."""

from __future__ import annotations

import hashlib
from typing import Any

import requests
from flask import Flask, redirect, render_template, request

from services.console import apis
from services.console.batch import run_batch
from services.console.i18n import MESSAGES
from services.console.lists import Column
from services.console.pages.common import (
    AUTHORITIES,
    Person,
    api,
    attachment,
    base,
    days_left,
    done,
    fetch,
    form_list,
    listing_page,
    message,
    notify,
    path_of,
    person,
    state_column,
    word,
)
from shared.domain.regions import name_of

CHECKS = ("authenticity", "completeness", "validity")  # 真实性, 完整性, 有效性 (verification ChecksSchema)
# The decisions of the case page besides checks: who may take each, and its path under the service's case.
DECISIONS = ("recommend", "endorse", "return", "reject", "withdraw")
SERVICE_PATH = {"recommend": "recommend", "endorse": "endorse", "return": "return", "reject": "reject",
                "withdraw": "endorsement/withdraw"}
ROLES = {"recommend": ("city",), "endorse": ("province",), "return": AUTHORITIES, "reject": AUTHORITIES,
         "withdraw": ("province",)}
SUMMARY_FORMATS = ("xlsx", "csv")

INBOX_COLUMNS = (
    Column("title", "col.title", filter="text"),
    Column("applicant_name", "col.applicant", filter="text"),
    Column("call_id", "col.call", filter="choice"),
    Column("direction", "authority.col.direction", filter="choice"),
    state_column(),
    Column("deadline", "col.deadline", filter="date", value=lambda row: (row.get("deadline") or "")[:10] or None),
    Column("days_left", "col.days_left"),
    Column("registration_check", "authority.col.registration",
           value=lambda row: coded("reg", row.get("registration_check"))),
)


def checks_from_form() -> dict[str, dict[str, Any]]:
    """The three checks as the service takes them, from `<check>.passed` (yes/no) and `<check>.note`."""
    return {k: {"passed": request.form.get(f"{k}.passed") == "yes", "note": request.form.get(f"{k}.note", "").strip()}
            for k in CHECKS}


def decision_body(action: str) -> dict[str, Any]:
    reason = request.form.get("reason", "").strip()
    if action in ("recommend", "endorse"):
        rank = request.form.get("rank", "").strip()
        return {"reason": reason, "rank": int(rank) if rank.isdigit() else rank}
    if action == "return":
        return {"reasons": [line.strip() for line in request.form.get("reasons", "").splitlines() if line.strip()]}
    return {"reason": reason}


def coded(kind: str, code: str | None) -> str:
    """A state or an outcome in words where the console has them, else its code."""
    wanted = f"authority.{kind}.{code}"
    return word(wanted) if wanted in MESSAGES else (code or "")


def label(key: str) -> str:
    """A field of the application by its Chinese (or English) name where the console knows it."""
    # The application form's own labels (words/applicant_form.py) where this page has none.
    for wanted in (f"authority.field.{key}", f"form.{key}"):
        if wanted in MESSAGES:
            return word(wanted)
    return key


def inbox_page(who: Person, outcomes: list | None = None, status: int = 200):
    answer = fetch("verification", "/inbox", who)
    rows = None
    if answer.ok:
        rows = [{**row, "days_left": days_left(row.get("deadline"))} for row in answer.data]
    calls = fetch("intake", "/calls", who)
    page = listing_page("inbox.html", rows, INBOX_COLUMNS, title_key="nav.inbox", answer=answer,
                        calls=calls.data if calls.ok else [], checks=CHECKS, outcomes=outcomes)
    return (page, status) if isinstance(page, str) else page


def case_page(who: Person, case_id: str, failed: str = "", refusal: apis.Answer | None = None):
    answer = fetch("verification", path_of("cases", case_id), who)
    if not answer.ok:
        return message("error.api", answer.status, answer.error)
    case = answer.data
    evidence = fetch("documents", path_of("cases", case_id, "evidence"), who)
    quota = fetch("verification", path_of("calls", case["call_id"], "quota"), who)
    page = render_template("authority/case.html", case=case, evidence=evidence, quota=quota, checks=CHECKS,
                           failed=failed, refusal=refusal, label=label, coded=coded, region_name=name_of,
                           form=request.form)
    return page, (refusal.status if refusal is not None else 200)


def register(app: Flask) -> None:
    @app.get("/inbox")
    def inbox():
        return inbox_page(person(*AUTHORITIES))

    @app.post("/inbox/checks")
    def inbox_checks():
        who = person(*AUTHORITIES)
        chosen = form_list("case_id")
        if not chosen:
            return inbox_page(who, outcomes=[], status=400)
        checks = checks_from_form()
        outcomes = run_batch(chosen, lambda case_id: api(
            "verification", "POST", path_of("cases", case_id, "checks"), who, json=checks))
        return inbox_page(who, outcomes=outcomes)

    @app.get("/inbox/calls/<call_id>/recommendations.<fmt>")
    def summary_table(call_id: str, fmt: str):
        who = person(*AUTHORITIES)
        if fmt not in SUMMARY_FORMATS:
            return message("error.not_found", 404)
        got = apis.download(base("verification"), "/verification" + path_of("calls", call_id, f"recommendations.{fmt}"),
                            who.token)
        if isinstance(got, apis.Download):
            return attachment(got.content, got.content_type, got.filename)
        if "contact" in got.fields:  # the table prints the contact: the one place to fix it is that form
            notify("authority.summary.needs_contact")
            return redirect("/authority/contact")
        return message("error.api", got.status, got.error)

    @app.get("/inbox/<case_id>")
    def inbox_case(case_id: str):
        return case_page(person(*AUTHORITIES), case_id)

    @app.post("/inbox/<case_id>/checks")
    def case_checks(case_id: str):
        who = person(*AUTHORITIES)
        answer = api("verification", "POST", path_of("cases", case_id, "checks"), who, json=checks_from_form())
        if answer.ok:
            return done("authority.done.checks", f"/inbox/{path_of(case_id)[1:]}")
        return case_page(who, case_id, "checks", answer)

    @app.post("/inbox/<case_id>/<action>")
    def decide(case_id: str, action: str):
        if action not in DECISIONS:
            return message("error.not_found", 404)
        who = person(*ROLES[action])
        answer = api("verification", "POST", path_of("cases", case_id) + "/" + SERVICE_PATH[action], who,
                     json=decision_body(action))
        if answer.ok:  # after a place is taken or freed, the page opens at the counter that moved
            where = "#quota" if action in ("recommend", "endorse", "withdraw") else ""
            return done(f"authority.done.{action}", f"/inbox/{path_of(case_id)[1:]}{where}")
        return case_page(who, case_id, action, answer)

    @app.get("/inbox/<case_id>/evidence/<sha256>")
    def evidence_file(case_id: str, sha256: str):
        # The documents service answers with a short-lived presigned URL of the store, which the
        # browser may not reach (and the CSP keeps pages on this origin): the console fetches it.
        who = person(*AUTHORITIES)
        link = fetch("documents", path_of("cases", case_id, "evidence", sha256), who)
        if not link.ok:
            return message("error.api", link.status, link.error)
        rows = fetch("documents", path_of("cases", case_id, "evidence"), who)
        named = [r for r in (rows.data or []) if r.get("sha256") == sha256] if rows.ok else []
        try:
            got = requests.get(link.data["url"], timeout=apis.TIMEOUT)
        except requests.RequestException:
            return message("error.unreachable", 503)
        if got.status_code != 200:
            return message("error.api", 502, f"{got.status_code}")
        if hashlib.sha256(got.content).hexdigest() != sha256:  # never hand over bytes the ledger does not name
            return message("error.api", 502, f"the stored file does not match SHA-256 {sha256}")
        filename = named[0]["filename"] if named else f"{sha256}.bin"
        content_type = named[0]["content_type"] if named else "application/octet-stream"
        return attachment(got.content, content_type, filename)

    @app.get("/authority/contact")
    def contact():
        who = person(*AUTHORITIES)
        answer = fetch("verification", "/contact", who)
        held = (answer.data or {}).get("contact") if answer.ok else None
        return render_template("authority/contact.html", answer=answer, contact=held, refusal=None)

    @app.post("/authority/contact")
    def set_contact():
        who = person(*AUTHORITIES)
        body = {k: request.form.get(k, "").strip() for k in ("name", "post", "title", "phone")}
        answer = api("verification", "PUT", "/contact", who, json=body)
        if answer.ok:
            return done("authority.done.contact", "/authority/contact")
        return render_template("authority/contact.html", answer=apis.Answer(status=200), contact=body,
                               refusal=answer), answer.status
