"""The headers every answer carries, refusals logged without tracebacks, and the throttle on
failed authentication (shared/infra/web/hygiene.py)."""

from __future__ import annotations

import logging

from werkzeug.wrappers import Response

from shared.domain.errors import Forbidden
from shared.infra.web.errors import answer_to
from shared.infra.web.hygiene import FailureThrottle, RefusalsQuiet, with_security_headers


def test_every_answer_forbids_sniffing_framing_and_referrers_and_private_ones_are_not_stored():
    private = with_security_headers(Response("{}"), public=False)
    public = with_security_headers(Response("{}"), public=True)
    for answer in (private, public):
        assert answer.headers["X-Content-Type-Options"] == "nosniff"
        assert answer.headers["X-Frame-Options"] == "DENY"
        assert "frame-ancestors 'none'" in answer.headers["Content-Security-Policy"]
        assert answer.headers["Referrer-Policy"] == "no-referrer"
        assert answer.headers["Strict-Transport-Security"].startswith("max-age=")
    assert private.headers["Cache-Control"] == "no-store"
    assert "Cache-Control" not in public.headers


def _record(error: BaseException, level=logging.ERROR) -> logging.LogRecord:
    return logging.LogRecord("nameko.containers", level, __file__, 1, "error handling worker %s", ("w",),
                             (type(error), error, None))


def test_a_refusal_raised_in_a_worker_is_a_debug_line_without_traceback():
    record = _record(Forbidden("role city may not do this"))
    RefusalsQuiet().filter(record)
    assert (record.levelno, record.levelname, record.exc_info) == (logging.DEBUG, "DEBUG", None)


def test_a_fault_keeps_its_level_and_traceback():
    record = _record(RuntimeError("a real bug"))
    assert RefusalsQuiet().filter(record) is True
    assert record.levelno == logging.ERROR and record.exc_info is not None


def test_the_edge_logs_a_refusal_at_info_and_a_bug_at_error(caplog):
    caplog.set_level(logging.INFO, logger="shared.infra.web.errors")
    answer_to(Forbidden("no access to case x"), "GET /intake/cases/x")
    answer_to(RuntimeError("boom"), "GET /intake/cases/y")
    levels = [(r.levelno, r.exc_info is not None) for r in caplog.records]
    assert levels == [(logging.INFO, False), (logging.ERROR, True)]


def test_the_throttle_refuses_a_client_past_its_limit_until_the_window_moves(monkeypatch):
    now = [1000.0]
    monkeypatch.setattr("shared.infra.web.hygiene.time.monotonic", lambda: now[0])
    throttle = FailureThrottle(limit=3, window=60)
    for _ in range(3):
        assert throttle.retry_after("10.0.0.1") is None
        throttle.failed("10.0.0.1")
    assert throttle.retry_after("10.0.0.1") == 61
    assert throttle.retry_after("10.0.0.2") is None  # another client is not held for it
    now[0] += 30
    assert throttle.retry_after("10.0.0.1") == 31
    now[0] += 31
    assert throttle.retry_after("10.0.0.1") is None


def test_the_throttle_forgets_quiet_clients_when_it_is_full(monkeypatch):
    now = [0.0]
    monkeypatch.setattr("shared.infra.web.hygiene.time.monotonic", lambda: now[0])
    throttle = FailureThrottle(limit=1, window=10, max_clients=2)
    throttle.failed("a")
    throttle.failed("b")
    now[0] = 20
    throttle.failed("c")
    assert set(throttle._failures) == {"c"}
