"""What every page module uses: who is signed in, the services' addresses, calls as that
person, lists with filters and exports, commands with their refusals, one-off notices.

A page module is `register(app)` adding Flask routes; each route is a few lines: check the
person (`person(*roles)`), call a service (`api(...)`), render a template. The console
reads no table and no ledger: every fact it shows came from a service's API."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

from flask import Response, current_app, g, redirect, render_template, request

from services.console import apis
from services.console.i18n import MESSAGES, translate
from services.console.lists import Column, Listing
from shared.domain.access import Caller

CHINA = ZoneInfo("Asia/Shanghai")  # deadlines are days in China, whatever the server's zone
AUTHORITIES = ("city", "province")
NOTICES = ("/notices", "nav.notices")  # a person's notices (pages/notices.py)
# Each role's pages, as the header and the home page list them: (path, word key).
ROLE_PAGES: dict[str, tuple[tuple[str, str], ...]] = {
    "applicant": (("/calls", "nav.calls"), ("/drafts", "nav.drafts"), ("/cases", "nav.cases"), NOTICES),
    "city": (("/inbox", "nav.inbox"), ("/authority/contact", "nav.contact"), NOTICES),
    "province": (("/inbox", "nav.inbox"), ("/authority/contact", "nav.contact"), NOTICES),
    "ministry": (("/ministry/calls", "nav.ministry_calls"), ("/ministry/cases", "nav.ministry_cases"),
                 ("/ministry/review", "nav.ministry_review"), ("/ministry/milestones", "nav.milestones"),
                 ("/ministry/lists", "nav.ministry_lists"), NOTICES),
    "expert": (("/expert/assignments", "nav.assignments"), NOTICES),
    "evaluator": (("/evaluator/assignments", "nav.assignments"), NOTICES),
    "auditor": (("/auditor", "nav.audit"),),
    "privacy": (("/privacy", "nav.privacy"),),
}
PUBLIC_PAGES = (("/public", "nav.public"), ("/products", "nav.products"))


class Refused(Exception):
    """A page that cannot be shown to this person: `page` is the answer to give instead."""

    def __init__(self, page: Any):
        super().__init__("refused")
        self.page = page


@dataclass(frozen=True)
class Person:
    caller: Caller
    token: str

    @property
    def role(self) -> str:
        return self.caller.role


def person(*roles: str) -> Person:
    """The signed-in person, or Refused with a redirect to sign in / a 403 page. Routes let
    Refused propagate: app.py turns it into its page."""
    caller = current_app.config["CALLER"]()
    if caller is None:
        raise Refused(redirect(f"/auth/login?next={quote(request.full_path.rstrip('?'), safe='/?=&')}"))
    if roles and caller.role not in roles:
        raise Refused(message("error.forbidden", 403))
    return Person(caller, current_app.config["ACCESS_TOKEN"]())


def local_path(wanted: str, fallback: str = "/") -> str:
    """A path on this console to go back to, never another site (`//evil`, `/\\evil`, a URL)."""
    ok = wanted.startswith("/") and not wanted.startswith(("//", "/\\")) and "\n" not in wanted
    return wanted if ok else fallback


def message(key: str, status: int, detail: str = ""):
    return current_app.config["MESSAGE_PAGE"](key, status, detail)


def base(service: str) -> str:
    return current_app.config["CONSOLE"].services[service]


def path_of(*parts: str) -> str:
    """A service path from parts, each quoted (ids come from the browser)."""
    return "/" + "/".join(quote(str(p), safe="") for p in parts)


def api(service: str, method: str, path: str, who: Person | None = None, **kwargs: Any) -> apis.Answer:
    """Call `/<service><path>` as `who` (or nobody, for the public routes)."""
    return apis.send(base(service), method, f"/{service}{path}", who.token if who else None, **kwargs)


def fetch(service: str, path: str, who: Person | None = None, **kwargs: Any) -> apis.Answer:
    return api(service, "GET", path, who, **kwargs)


def passthrough(service: str, path: str, who: Person | None = None, params: dict | None = None):
    """A file from a service (CSV, xlsx, bundle) handed to the browser as it came."""
    got = apis.download(base(service), f"/{service}{path}", who.token if who else None, params=params)
    if isinstance(got, apis.Answer):
        return message("error.api", got.status if got.status >= 400 else 502, got.error)
    return attachment(got.content, got.content_type, got.filename)


def attachment(content: bytes, content_type: str, filename: str) -> Response:
    response = Response(content, content_type=content_type)
    response.headers["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(filename)}"
    return response


def word(key: str) -> str:
    return translate(key, g.session.lang if g.get("session") else "zh")


def state_word(code: str | None) -> str:
    """A case's state in words (words/common.STATES), or its code for one the console has no words for."""
    key = f"state.{code}"
    return word(key) if key in MESSAGES else (code or "")


def state_column(label: str = "col.state") -> Column:
    """A list's state column: filtered and sorted by the code, shown and exported in words."""
    return Column("state", label, "choice", display=state_word)


def notify(key: str, detail: str = "") -> None:
    """A line shown once at the top of the next page (after a command's redirect)."""
    g.session.notices.append({"key": key, "detail": detail})


def done(key: str, to: str, detail: str = ""):
    """A command that succeeded: say so on the next page (post/redirect/get)."""
    notify(key, detail)
    return redirect(to)


def listing_page(template: str, rows: Sequence[Any] | None, columns: Sequence[Column], *, title_key: str,
                 id_key: str = "case_id", **context: Any):
    """A list page, or its export when the query asks `export=csv|xlsx` (of the rows as filtered)."""
    listing = Listing(list(rows or []), columns, args=request.args.to_dict(), id_key=id_key)
    fmt = request.args.get("export", "")
    if fmt in ("csv", "xlsx") and rows is not None:
        content, content_type = listing.export(fmt, word, word(title_key))
        stamp = datetime.now(CHINA).strftime("%Y%m%d-%H%M")
        return attachment(content, content_type, f"{word(title_key)}-{stamp}.{fmt}")
    return render_template(template, listing=listing, title_key=title_key, **context)


def days_left(deadline: str | None, today: date | None = None) -> int | None:
    if not deadline:
        return None
    today = today or datetime.now(CHINA).date()
    return (date.fromisoformat(deadline[:10]) - today).days


def form_list(name: str) -> list[str]:
    """The values of a repeated form field (checkboxes), blanks left out."""
    return [v for v in request.form.getlist(name) if v.strip()]
