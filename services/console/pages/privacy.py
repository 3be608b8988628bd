"""The privacy officer's pages (issue #21): whose data a case or a panel holds, erasing a person's data
on a recorded request (an authority's contact too), who was shown it, and everything held about a
person (a data subject's request).

The officer reads no application: the subjects are listed by where they sit in it and their kind;
a person's copy is the one page that shows their data, and the intake service records it as a
reading. Every command is a POST with the session's CSRF token, answered by a redirect."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

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
        return render_template("privacy/home.html", copy=None, asked={}, contacts=[], held=None, refusal=None)

    @app.get("/privacy/cases/<case_id>")
    def privacy_case(case_id: str):
        return _case_page(case_id)

    @app.post("/privacy/cases/<case_id>/erasures")
    def privacy_erase(case_id: str):
        who = person(PRIVACY)
        body = _erasure_form()
        answer = api("intake", "POST", path_of("cases", case_id, "personal-data", "erasures"), who, json=body)
        if answer.ok:
            return done("privacy.done.erased", f"/privacy/cases/{path_of(case_id)[1:]}",
                        ", ".join(answer.data["subjects"]))
        return _case_page(case_id, refusal=answer, asked=body)

    @app.get("/privacy/panels/<call_id>/<direction>")
    def privacy_panel(call_id: str, direction: str):
        return _panel_page(call_id, direction)

    @app.post("/privacy/panels/<call_id>/<direction>/erasures")
    def privacy_erase_panel(call_id: str, direction: str):
        who, body = person(PRIVACY), _erasure_form()
        answer = api("review", "POST", path_of("panels", call_id, direction, "personal-data", "erasures"), who,
                     json=body)
        if answer.ok:
            return done("privacy.done.erased", f"/privacy{path_of('panels', call_id, direction)}",
                        ", ".join(answer.data["subjects"]))
        return _panel_page(call_id, direction, refusal=answer, asked=body)

    @app.get("/privacy/contacts/<authority>")
    def privacy_contact(authority: str):
        return _contact_page(authority)

    @app.post("/privacy/contacts/<authority>/erasures")
    def privacy_erase_contact(authority: str):
        return _erase_outside("verification", path_of("contacts", authority), lambda refusal, asked: _contact_page(
            authority, refusal=refusal, asked=asked))

    @app.get("/privacy/drafts/<draft_id>")
    def privacy_draft(draft_id: str):
        return _draft_page(draft_id)

    @app.post("/privacy/drafts/<draft_id>/erasures")
    def privacy_erase_draft(draft_id: str):
        return _erase_outside("intake", path_of("drafts", draft_id), lambda refusal, asked: _draft_page(
            draft_id, refusal=refusal, asked=asked))

    @app.post("/privacy/copies")
    def privacy_copy():
        who = person(PRIVACY)
        asked = {k: request.form.get(k, "").strip() for k in ("name", "mobile", "email")}
        answer = api("intake", "POST", "/personal-data/copies", who, json=asked)
        # The authorities' contacts are verification's own table, and the addresses notifications keeps
        # its own too: the other parts of the person's copy.
        contacts = api("verification", "POST", "/personal-data/copies", who, json=asked) if answer.ok else None
        held = api("notifications", "POST", "/personal-data/copies", who,
                   json={"email": asked["email"]}) if answer.ok and asked["email"] else None
        return render_template("privacy/home.html", copy=answer.data if answer.ok else None, asked=asked,
                               contacts=contacts.data["contacts"] if contacts is not None and contacts.ok else [],
                               held=held.data if held is not None and held.ok else None,
                               refusal=None if answer.ok else answer), answer.status if not answer.ok else 200

    @app.post("/privacy/addresses/erasures")
    def privacy_erase_address():
        who, body = person(PRIVACY), _erasure_form()
        email = request.form.get("email", "").strip()
        answer = api("notifications", "POST", "/personal-data/erasures", who,
                     json={"email": email, "request": body["request"], "reason": body["reason"]})
        if answer.ok:
            return done("privacy.done.erased", "/privacy", answer.data["record"])
        return render_template("privacy/home.html", copy=None, asked={"email": email}, contacts=[], held=None,
                               refusal=answer), answer.status


def _erase_outside(service: str, path: str, page: Callable[[apis.Answer, dict], Any]):
    """Erases personal data kept outside the ledger (`<service><path>/erasures`, request and reason
    from the form): back to its page with the record, or the page again with the refusal."""
    who, body = person(PRIVACY), _erasure_form()
    answer = api(service, "POST", f"{path}/erasures", who, json={k: body[k] for k in ("request", "reason")})
    if answer.ok:
        return done("privacy.done.erased", f"/privacy{path}", answer.data["record"])
    return page(answer, body)


def _erasure_form() -> dict:
    return {"subjects": form_list("subjects"), "request": request.form.get("request", "").strip(),
            "reason": request.form.get("reason", "").strip()}


def _case_page(case_id: str, refusal: apis.Answer | None = None, asked: dict | None = None):
    who = person(PRIVACY)
    held = fetch("intake", path_of("cases", case_id, "personal-data"), who)
    return _record_page(who, held, case_id, title=("privacy.case", case_id),
                        erase_to=f"/privacy{path_of('cases', case_id)}/erasures", refusal=refusal, asked=asked)


def _panel_page(call_id: str, direction: str, refusal: apis.Answer | None = None, asked: dict | None = None):
    who = person(PRIVACY)
    held = fetch("review", path_of("panels", call_id, direction, "personal-data"), who)
    return _record_page(who, held, held.data["panel_id"] if held.ok else None,
                        title=("privacy.panel", f"{call_id} · {direction}"),
                        erase_to=f"/privacy{path_of('panels', call_id, direction)}/erasures", refusal=refusal,
                        asked=asked)


def _record_page(who, held: apis.Answer, record: str | None, *, title: tuple[str, str], erase_to: str,
                 refusal: apis.Answer | None, asked: dict | None):
    """A case's or a panel's data subjects, the erasure form, and who was shown their data."""
    readings = fetch("audit", "/personal-access", who, params={"case_id": record}) if held.ok else None
    status = refusal.status if refusal is not None else (held.status if not held.ok else 200)
    return render_template("privacy/case.html", title=title, held=held, readings=readings, erase_to=erase_to,
                           refusal=refusal, asked=asked or {}), status


def _contact_page(authority: str, refusal: apis.Answer | None = None, asked: dict | None = None):
    """An authority's contact: who was shown it, what was erased, and the erasure form (never the data)."""
    who = person(PRIVACY)
    record = f"authority:{authority}"
    readings = fetch("audit", "/personal-access", who, params={"case_id": record})
    return _outside_page(who, record, ("privacy.contact", authority), "privacy.contact.hint",
                         f"/privacy{path_of('contacts', authority)}/erasures", readings, refusal, asked)


def _draft_page(draft_id: str, refusal: apis.Answer | None = None, asked: dict | None = None):
    """A draft naming a person who asked for erasure: what was erased, and the form that deletes it."""
    who = person(PRIVACY)
    return _outside_page(who, f"draft:{draft_id}", ("privacy.draft", draft_id), "privacy.draft.hint",
                         f"/privacy{path_of('drafts', draft_id)}/erasures", None, refusal, asked)


def _outside_page(who, record: str, title: tuple[str, str], hint: str, erase_to: str,
                  readings: apis.Answer | None, refusal: apis.Answer | None, asked: dict | None):
    """Personal data kept outside the ledger (an authority's contact, a draft): its erasures and form."""
    erasures = fetch("audit", "/personal-erasures", who, params={"record": record})
    status = refusal.status if refusal is not None else (erasures.status if not erasures.ok else 200)
    return render_template("privacy/outside.html", title=title, hint=hint, erase_to=erase_to, readings=readings,
                           erasures=erasures, refusal=refusal, asked=asked or {}), status
