"""The pages that show the services' data, each fetched from a service's API with the
signed-in person's token (public lists with none)."""

from __future__ import annotations

from datetime import date, datetime
from urllib.parse import quote
from zoneinfo import ZoneInfo

from flask import Flask, current_app, redirect, render_template

from services.console.apis import Answer, call

CHINA = ZoneInfo("Asia/Shanghai")  # deadlines are days in China, whatever the server's zone
ROLE_LINKS = {
    "applicant": ("calls", "cases"),
    "city": ("inbox", "public"),
    "province": ("inbox", "public"),
}
AUTHORITIES = ("city", "province")


def days_left(deadline: str | None, today: date | None = None) -> int | None:
    if not deadline:
        return None
    today = today or datetime.now(CHINA).date()
    return (date.fromisoformat(deadline[:10]) - today).days


def register(app: Flask) -> None:
    def base(service: str) -> str:
        return current_app.config["CONSOLE"].services[service]

    def signed_in(*roles: str):
        """(caller, token), or a page to answer instead: sign in, or not for this role."""
        caller = current_app.config["CALLER"]()
        if caller is None:
            return None, redirect("/auth/login")
        if roles and caller.role not in roles:
            return None, current_app.config["MESSAGE_PAGE"]("error.forbidden", 403)
        return (caller, current_app.config["ACCESS_TOKEN"]()), None

    def shown(template: str, answer: Answer, **context):
        # The service's refusal becomes a line on the page; the page itself still renders.
        return render_template(template, answer=answer, rows=answer.data if answer.ok else None, **context)

    @app.get("/")
    def home():
        caller = current_app.config["CALLER"]()
        links = ROLE_LINKS.get(caller.role, ("public",)) if caller else ("public",)
        return render_template("home.html", links=links)

    @app.get("/public")
    def public():
        return shown("public.html", call(base("publication"), "/publication/lists"))

    @app.get("/calls")
    def calls():
        person, refusal = signed_in()
        if refusal:
            return refusal
        return shown("calls.html", call(base("intake"), "/intake/calls", person[1]))

    @app.get("/cases")
    def cases():
        person, refusal = signed_in("applicant", "ministry")
        if refusal:
            return refusal
        return shown("cases.html", call(base("intake"), "/intake/cases", person[1]))

    @app.get("/cases/<case_id>")
    def case(case_id: str):
        person, refusal = signed_in("applicant", "ministry", *AUTHORITIES)
        if refusal:
            return refusal
        service = "verification" if person[0].role in AUTHORITIES else "intake"
        answer = call(base(service), f"/{service}/cases/{quote(case_id, safe='')}", person[1])
        return render_template("case.html", answer=answer, case=answer.data if answer.ok else None)

    @app.get("/inbox")
    def inbox():
        person, refusal = signed_in(*AUTHORITIES)
        if refusal:
            return refusal
        answer = call(base("verification"), "/verification/inbox", person[1])
        rows = [{**row, "days_left": days_left(row.get("deadline"))} for row in answer.data] if answer.ok else None
        return render_template("inbox.html", answer=answer, rows=rows)
