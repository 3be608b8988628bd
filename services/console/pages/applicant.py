"""Applicant units' pages: the open calls, their cases."""

from __future__ import annotations

from flask import Flask, render_template

from services.console.pages.common import AUTHORITIES, fetch, path_of, person


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
        return render_template("cases.html", answer=answer, rows=answer.data if answer.ok else None)

    @app.get("/cases/<case_id>")
    def case(case_id: str):
        who = person("applicant", "ministry", *AUTHORITIES)
        service = "verification" if who.role in AUTHORITIES else "intake"
        answer = fetch(service, path_of("cases", case_id), who)
        return render_template("case.html", answer=answer, case=answer.data if answer.ok else None)
