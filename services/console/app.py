"""The console's WSGI app: sessions, CSRF, language, sign-in and sign-out. The pages that
show the services' data are in pages.py."""

from __future__ import annotations

import hmac
import secrets
import time
from pathlib import Path

from flask import Flask, g, redirect, render_template, request, send_from_directory
from werkzeug.wrappers import Response

from services.cli.signin import pkce_pair
from services.console import pages
from services.console.i18n import LANGUAGES, translate
from services.console.oidc import OidcClient, ProviderRefused
from services.console.pages.common import ROLE_PAGES, local_path, state_word
from services.console.sessions import COOKIE, Session, SessionStore
from services.console.settings import ConsoleSettings
from services.console.shared_sessions import DatabaseSessions, session_key
from shared.domain.access import Caller
from shared.infra.web.auth import verifier_for
from shared.infra.web.hygiene import SECURITY_HEADERS

REFRESH_MARGIN = 30  # seconds before expiry at which the access token is renewed


def session_store(settings: ConsoleSettings) -> SessionStore | DatabaseSessions:
    """In memory for one console process; a shared table when CONSOLE_SESSIONS_URL names one."""
    if not settings.sessions_url:
        return SessionStore()
    return DatabaseSessions(settings.sessions_url, session_key(settings.session_key))


def create_app(settings: ConsoleSettings) -> Flask:
    app = Flask(__name__)
    app.config["CONSOLE"] = settings
    # Uploads pass through to the documents service, which takes MAX_UPLOAD_BYTES: no larger
    # body is read here (413), so nobody fills the console's disk with a form post.
    app.config["MAX_CONTENT_LENGTH"] = settings.platform.max_upload_bytes + 1024 * 1024 if settings.platform else None
    store = app.config["SESSIONS"] = session_store(settings)
    oidc = OidcClient(settings)
    assert settings.platform is not None
    verifier = verifier_for(settings.platform)
    # Pages load only the console's own files; forms post here, and sign-out's redirect goes on
    # to the provider (Chromium applies form-action to the redirects after a post as well).
    csp = (f"default-src 'self'; img-src 'self' data:; form-action 'self' {settings.issuer}; "
           "frame-ancestors 'none'; base-uri 'none'; object-src 'none'")

    @app.before_request
    def load_session():
        g.session = store.get(request.cookies.get(COOKIE))
        g.new_session = g.session is None
        if g.session is None:  # Chinese first, whatever the browser asks: English is a switch away
            g.session = store.new()
        g.caller = None
        if request.method == "POST":
            # A form's hidden field, or the header htmx and the upload script send.
            sent = request.form.get("csrf") or request.headers.get("X-CSRF-Token", "")
            if g.new_session or not hmac.compare_digest(sent, g.session.csrf):
                return message_page("error.csrf", 400)
        return None

    @app.after_request
    def finish(response: Response) -> Response:
        for name, value in SECURITY_HEADERS.items():
            response.headers[name] = value
        response.headers["Content-Security-Policy"] = csp
        response.headers["Cache-Control"] = "no-store"
        session: Session | None = g.get("session")
        if session is not None:
            store.save(session)
        if session is not None and (g.new_session or g.get("rotated")):
            response.set_cookie(COOKIE, session.sid, httponly=True, samesite="Lax", secure=settings.secure_cookies,
                                path="/")
        return response

    @app.context_processor
    def words():
        lang = g.session.lang if g.get("session") else "zh"
        notices = g.session.notices if g.get("session") else []
        if g.get("session"):
            g.session.notices = []
        return {"t": lambda key: translate(key, lang), "lang": lang, "csrf": g.session.csrf,
                "caller": current_caller(), "notices": notices, "role_pages": ROLE_PAGES,
                "state_word": state_word}

    def message_page(key: str, status: int, detail: str = ""):
        return render_template("message.html", message_key=key, detail=detail), status

    def access_token() -> str | None:
        """The session's access token, renewed with the refresh token when it is about to expire."""
        tokens = g.session.tokens
        if tokens is None:
            return None
        if tokens["expires_at"] - REFRESH_MARGIN < time.time():
            try:
                renewed = oidc.refresh(tokens["refresh_token"]) if tokens.get("refresh_token") else None
            except ProviderRefused:
                renewed = None
            if renewed is None:
                g.session.tokens = None
                return None
            g.session.tokens = {**tokens, **renewed}
        return g.session.tokens["access_token"]

    def current_caller() -> Caller | None:
        if g.get("caller") is None and g.get("session") is not None:
            token = access_token()
            if token is not None:
                try:
                    g.caller = verifier.caller_from_claims(verifier.verified_claims(token))
                except Exception:  # noqa: BLE001 - a token the services would refuse: signed out
                    g.session.tokens = None
        return g.get("caller")

    app.config["ACCESS_TOKEN"] = access_token
    app.config["CALLER"] = current_caller
    app.config["MESSAGE_PAGE"] = message_page

    @app.get("/auth/login")
    def login():
        verifier_, challenge = pkce_pair()
        g.session.pending = {"state": secrets.token_urlsafe(24), "nonce": secrets.token_urlsafe(24),
                             "verifier": verifier_, "next": local_path(request.args.get("next", "/"))}
        try:
            url = oidc.authorize_url(state=g.session.pending["state"], nonce=g.session.pending["nonce"],
                                     challenge=challenge, ui_locale="en" if g.session.lang == "en" else "zh-CN")
        except Exception:  # noqa: BLE001 - the provider down is a message, not a traceback
            return message_page("error.unreachable", 503)
        return redirect(url)

    @app.get("/auth/callback")
    def callback():
        pending, lang = g.session.pending, g.session.lang
        state = request.args.get("state", "")
        if not pending or not hmac.compare_digest(state, pending["state"]) or "code" not in request.args:
            return message_page("auth.failed", 400, request.args.get("error_description", ""))
        try:
            tokens = oidc.exchange(request.args["code"], pending["verifier"])
            verifier.verified_claims(tokens["access_token"])
        except Exception as exc:  # noqa: BLE001 - refused exchange or token: shown, not raised
            return message_page("auth.failed", 400, str(exc)[:200])
        # A new session id at sign-in, so an id planted before it is worth nothing after.
        store.drop(g.session.sid)
        g.session = store.new(lang=lang)
        g.session.tokens, g.rotated = tokens, True
        return redirect(pending.get("next") or "/")

    @app.post("/auth/logout")
    def logout():
        tokens = g.session.tokens
        store.drop(g.session.sid)
        g.session, g.rotated = store.new(lang=g.session.lang), True
        if tokens and tokens.get("id_token"):
            try:
                return redirect(oidc.end_session_url(tokens["id_token"]))
            except Exception:  # noqa: BLE001 - signed out here even when the provider is away
                return message_page("error.unreachable", 503)
        return redirect("/")

    @app.post("/language")
    def language():
        wanted = request.form.get("lang", "zh")
        g.session.lang = wanted if wanted in LANGUAGES else "zh"
        return redirect(local_path(request.form.get("next", "/")))

    htmx = Path(__file__).resolve().parent / "node_modules" / "htmx.org" / "dist"

    @app.get("/static/vendor/htmx.min.js")
    def htmx_script():
        # From the npm package (services/console/package-lock.json pins it), not a copy in git.
        return send_from_directory(htmx, "htmx.min.js", mimetype="text/javascript", max_age=3600)

    @app.errorhandler(pages.Refused)
    def refused(exc: pages.Refused):
        return exc.page

    @app.errorhandler(404)
    def not_found(_):
        return message_page("error.not_found", 404)

    pages.register(app)
    return app
