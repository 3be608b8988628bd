"""The console's shared sessions (services/console/shared_sessions.py): what one console process
writes another reads, and what the table holds is of no use without the key."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from services.console import oidc
from services.console.app import create_app
from services.console.sessions import COOKIE
from services.console.settings import ConsoleSettings
from services.console.shared_sessions import DatabaseSessions, new_session_key, session_key, sessions
from shared.infra.web.tokens import mint_dev_token

SECRET = "SAMPLE-console-sessions-unit-test-secret-0123"
TOKENS = {"access_token": "SAMPLE-access-token-value", "refresh_token": "SAMPLE-refresh-token-value",
          "id_token": "SAMPLE-id-token-value", "expires_at": 1e12}


@pytest.fixture
def url(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'sessions.db'}"


@pytest.fixture
def key() -> bytes:
    return session_key(new_session_key())


def test_a_session_written_by_one_process_is_read_by_another(url, key):
    one, other = DatabaseSessions(url, key), DatabaseSessions(url, key)
    session = one.new(lang="en")
    session.tokens, session.notices = dict(TOKENS), [{"key": "form.saved", "detail": ""}]
    one.save(session)
    read = other.get(session.sid)
    assert read is not None
    assert (read.tokens, read.csrf, read.lang, read.notices) == (TOKENS, session.csrf, "en", session.notices)
    other.drop(session.sid)
    assert one.get(session.sid) is None


def test_the_table_holds_neither_the_cookie_nor_the_tokens(url, key, tmp_path):
    store = DatabaseSessions(url, key)
    session = store.new()
    session.tokens = dict(TOKENS)
    store.save(session)
    stored = (tmp_path / "sessions.db").read_bytes()
    for secret in (session.sid, session.csrf, *[v for v in TOKENS.values() if isinstance(v, str)]):
        assert secret.encode() not in stored


def test_another_key_or_a_sealed_value_moved_to_another_row_opens_nothing(url, key):
    store = DatabaseSessions(url, key)
    first, second = store.new(), store.new()
    first.tokens = dict(TOKENS)
    store.save(first)
    assert DatabaseSessions(url, session_key(new_session_key())).get(first.sid) is None
    with store.engine.begin() as conn:  # the two rows' sealed values swapped
        (a, sealed_a), (b, sealed_b) = conn.execute(sa.select(sessions.c.id, sessions.c.sealed)).all()
        conn.execute(sessions.update().where(sessions.c.id == a).values(sealed=sealed_b))
        conn.execute(sessions.update().where(sessions.c.id == b).values(sealed=sealed_a))
    assert store.get(first.sid) is None and store.get(second.sid) is None


def test_an_idle_session_is_gone(url, key):
    store = DatabaseSessions(url, key, idle_seconds=3600)
    session = store.new()
    with store.engine.begin() as conn:
        conn.execute(sessions.update().values(seen=datetime.now(UTC) - timedelta(hours=2)))
    assert store.get(session.sid) is None
    with store.engine.begin() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(sessions)).scalar_one() == 0


def test_an_unchanged_session_is_not_written_again_within_the_minute(url, key):
    store = DatabaseSessions(url, key)
    session = store.new()

    def seen() -> datetime:
        with store.engine.begin() as conn:
            return conn.execute(sa.select(sessions.c.seen)).scalar_one()

    before = seen()
    read = store.get(session.sid)
    assert read is not None
    store.save(read)
    assert seen() == before
    read.lang = "en"
    store.save(read)
    assert seen() != before


def test_shared_sessions_need_their_key_and_a_key_must_be_32_bytes(url):
    with pytest.raises(ValueError, match="CONSOLE_SESSION_KEY"):
        ConsoleSettings.from_env({"AUTH_MODE": "dev-hs256", "JWT_SECRET": SECRET, "CONSOLE_SESSIONS_URL": url})
    with pytest.raises(ValueError, match="32 bytes"):
        session_key("dG9vLXNob3J0")


def test_two_console_apps_on_one_table_serve_the_same_signed_in_person(url, tmp_path, monkeypatch):
    env = {"AUTH_MODE": "dev-hs256", "JWT_SECRET": SECRET, "CASEPLATFORM_DATA_DIR": str(tmp_path),
           "CONSOLE_SESSIONS_URL": url, "CONSOLE_SESSION_KEY": new_session_key()}
    first, second = (create_app(ConsoleSettings.from_env({**env, "CONSOLE_PORT": port})) for port in ("8191", "8192"))

    def token(name: str) -> str:
        return mint_dev_token(SECRET, sub="sample-applicant", role="applicant", org="91420100000000001Y", name=name)

    monkeypatch.setattr(oidc.OidcClient, "refresh",
                        lambda self, rt: {"access_token": token("SAMPLE renewed"), "expires_at": time.time() + 900})
    session = first.config["SESSIONS"].new()
    session.tokens = {"access_token": token("SAMPLE first"), "refresh_token": "SAMPLE-refresh", "id_token": "x",
                      "expires_at": time.time() + 10}  # inside the renewal margin
    first.config["SESSIONS"].save(session)
    client = second.test_client()
    client.set_cookie(COOKIE, session.sid)
    assert "SAMPLE renewed" in client.get("/").get_data(as_text=True)  # signed in on the other process
    renewed = first.config["SESSIONS"].get(session.sid)
    assert renewed is not None and renewed.tokens["refresh_token"] == "SAMPLE-refresh"
    assert renewed.tokens["expires_at"] > time.time() + 800  # the renewal the second one made, seen by the first
