"""City and province officials' pages: the inbox with each level's deadline."""

from __future__ import annotations

from flask import Flask, render_template

from services.console.pages.common import AUTHORITIES, days_left, fetch, person


def register(app: Flask) -> None:
    @app.get("/inbox")
    def inbox():
        who = person(*AUTHORITIES)
        answer = fetch("verification", "/inbox", who)
        rows = [{**row, "days_left": days_left(row.get("deadline"))} for row in answer.data] if answer.ok else None
        return render_template("inbox.html", answer=answer, rows=rows)
