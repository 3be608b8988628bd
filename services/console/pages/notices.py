"""A person's notices (issue #20): what the notifications service recorded and sent to them and to
their organisation, and whether their profile's e-mail address (from the identity provider) is used.

At /notices: on the gateway's one origin /notifications/ is the notifications API's."""

from __future__ import annotations

from flask import Flask, render_template, request

from services.console.pages.common import api, done, fetch, person

# Everyone who is told something: an auditor or a privacy officer is told nothing.
TOLD = ("applicant", "city", "province", "ministry", "expert", "evaluator")


def register(app: Flask) -> None:
    @app.get("/notices")
    def notices():
        who = person(*TOLD)
        profile = fetch("notifications", "/me", who)
        mine = fetch("notifications", "/mine", who)
        return render_template("notices.html", profile=profile, mine=mine)

    @app.post("/notices/profile")
    def notices_profile():
        who = person(*TOLD)
        use = request.form.get("use_profile_email") == "on"
        answer = api("notifications", "PUT", "/me", who, json={"use_profile_email": use})
        if answer.ok:
            return done("notices.done.profile_on" if use else "notices.done.profile_off", "/notices")
        return render_template("notices.html", profile=answer, mine=fetch("notifications", "/mine", who)), \
            answer.status
