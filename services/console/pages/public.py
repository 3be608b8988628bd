"""Pages for everyone, signed in or not: home, the published lists."""

from __future__ import annotations

from flask import Flask, current_app, render_template

from services.console.pages.common import fetch

ROLE_LINKS = {
    "applicant": ("calls", "cases"),
    "city": ("inbox", "public"),
    "province": ("inbox", "public"),
}


def register(app: Flask) -> None:
    @app.get("/")
    def home():
        caller = current_app.config["CALLER"]()
        links = ROLE_LINKS.get(caller.role, ("public",)) if caller else ("public",)
        return render_template("home.html", links=links)

    @app.get("/public")
    def public():
        answer = fetch("publication", "/lists")
        return render_template("public.html", answer=answer, rows=answer.data if answer.ok else None)
