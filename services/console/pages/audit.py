"""Auditors' pages: find a case (by id, or among the cases touched in a period), then read
it through the audit API: its events one by one, the case as of a version or a moment, the
difference between two versions, the verification of its stored history, the offline bundle.

The pages live under /auditor: on the gateway's one origin /audit/ is the audit API's, and
nginx answers `/audit` itself with a redirect to `/audit/` (deploy/proxy/).

The case page is one GET page whose query string says what to show beside the timeline
(`at`/`version`, `from`/`to`, `verify`): each section is a link or a form, works without
JavaScript, and a refusal is shown next to the field the audit service names."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

from flask import Flask, redirect, render_template, request

from services.console import apis
from services.console.pages.common import CHINA, Person, attachment, base, fetch, message, path_of, person

RECENT_DAYS = 7  # the period the event listing opens with


def _asked(*names: str) -> dict[str, str]:
    """The query's values for these names, blanks left out."""
    return {n: request.args[n].strip() for n in names if request.args.get(n, "").strip()}


def _case(case_id: str, who: Person, *parts: str, params: dict | None = None) -> apis.Answer:
    return fetch("audit", path_of("cases", case_id, *parts), who, params=params)


def china_time(stamp: str) -> str:
    """A ledger time (UTC ISO) as China time, to the microsecond: events of one command share a
    second, and typed back into the as-of field (no zone: China time) it selects that event."""
    try:
        return datetime.fromisoformat(stamp).astimezone(CHINA).strftime("%Y-%m-%d %H:%M:%S.%f")
    except (TypeError, ValueError):
        return stamp


def _pretty(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, indent=2, sort_keys=True)


def register(app: Flask) -> None:
    @app.get("/auditor")
    def audit_home():
        who = person("auditor")
        case_id = request.args.get("case_id", "").strip()
        if case_id:
            return redirect(f"/auditor/cases/{path_of(case_id)[1:]}")
        today = datetime.now(CHINA).date()
        period = {"from": (today - timedelta(days=RECENT_DAYS)).isoformat(), "to": today.isoformat(),
                  **_asked("from", "to")}
        answer = fetch("audit", "/events", who, params=period)
        return render_template("audit/home.html", period=period, answer=answer,
                               found=answer.data if answer.ok else None, china_time=china_time)

    @app.get("/auditor/cases/<case_id>")
    def audit_case(case_id: str):
        who = person("auditor")
        history = _case(case_id, who, "history")
        if not history.ok:
            return render_template("audit/case.html", case_id=case_id, history=history, events=None), \
                history.status if history.status >= 400 else 502
        events = history.data["events"]
        as_of = _asked("at", "version")
        state = _case(case_id, who, "state", params=as_of) if as_of else None
        versions = _asked("from", "to")
        diff = _case(case_id, who, "diff", params=versions) if versions else None
        verification = _case(case_id, who, "verify") if request.args.get("verify") else None
        return render_template("audit/case.html", case_id=case_id, history=history, events=events,
                               latest=history.data["version"], as_of=as_of, state=state, versions=versions,
                               diff=diff, verification=verification, pretty=_pretty,
                               china_time=china_time)

    @app.get("/auditor/cases/<case_id>/bundle")
    def audit_bundle(case_id: str):
        who = person("auditor")
        got = apis.download(base("audit"), f"/audit{path_of('cases', case_id, 'bundle')}", who.token)
        if isinstance(got, apis.Answer):
            return message("error.api", got.status if got.status >= 400 else 502, got.error)
        # The service names no file: the case's id says which bundle it is once saved.
        return attachment(got.content, got.content_type, f"audit-bundle-{case_id}.json")
