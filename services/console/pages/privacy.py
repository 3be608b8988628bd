"""The privacy officer's pages (issue #21): whose data a case holds, erasing a person's data on a
recorded request, who was shown it, and everything held about a person (a data subject's request).

The officer reads no application: the subjects are listed by where they sit in it and their kind;
a person's copy is the one page that shows their data, and the intake service records it as a
reading. Every command is a POST with the session's CSRF token, answered by a redirect."""

from __future__ import annotations

from flask import Flask, render_template, request

from services.console import apis
from services.console.pages.common import api, done, fetch, form_list, path_of, person

PRIVACY = "privacy"


def register(app: Flask) -> None:
    @app.get("/privacy")
    def privacy_home():
        person(PRIVACY)
        case_id = request.args.get("case_id", "").strip()
        if case_id:
            return _case_page(case_id)
        return render_template("privacy/home.html", copy=None, asked={}, refusal=None)

    @app.get("/privacy/cases/<case_id>")
    def privacy_case(case_id: str):
        return _case_page(case_id)

    @app.post("/privacy/cases/<case_id>/erasures")
    def privacy_erase(case_id: str):
        who = person(PRIVACY)
        body = {"subjects": form_list("subjects"), "request": request.form.get("request", "").strip(),
                "reason": request.form.get("reason", "").strip()}
        answer = api("intake", "POST", path_of("cases", case_id, "personal-data", "erasures"), who, json=body)
        if answer.ok:
            return done("privacy.done.erased", f"/privacy/cases/{path_of(case_id)[1:]}",
                        ", ".join(answer.data["subjects"]))
        return _case_page(case_id, refusal=answer, asked=body)

    @app.post("/privacy/copies")
    def privacy_copy():
        who = person(PRIVACY)
        asked = {k: request.form.get(k, "").strip() for k in ("name", "mobile", "email")}
        answer = api("intake", "POST", "/personal-data/copies", who, json=asked)
        return render_template("privacy/home.html", copy=answer.data if answer.ok else None, asked=asked,
                               refusal=None if answer.ok else answer), answer.status if not answer.ok else 200


def _case_page(case_id: str, refusal: apis.Answer | None = None, asked: dict | None = None):
    who = person(PRIVACY)
    held = fetch("intake", path_of("cases", case_id, "personal-data"), who)
    readings = fetch("audit", "/personal-access", who, params={"case_id": case_id}) if held.ok else None
    status = refusal.status if refusal is not None else (held.status if not held.ok else 200)
    return render_template("privacy/case.html", case_id=case_id, held=held, readings=readings,
                           refusal=refusal, asked=asked or {}), status
