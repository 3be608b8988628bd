"""Stalled uploads cannot starve a service (issue #18, finding 2).

Before: twelve uploads that each declared `Content-Length: 1000000` and sent nine bytes
froze the documents service: `GET /documents/uploads` and even its OpenAPI document timed
out, since each stalled body held one of the service's ten workers, which also apply its
events. Now uploads take at most MAX_CONCURRENT_UPLOADS workers (more are answered 503
`uploads_busy` at once), and a socket silent for HTTP_READ_TIMEOUT seconds is dropped.
"""

from __future__ import annotations

import socket
import time
import uuid
from datetime import date
from urllib.parse import urlsplit

import pytest
import requests

from services.cli.demo import SAMPLE_PDF, sample_call, upload_sample_evidence
from shared.domain.forms.samples import SAMPLE_OPEN_COMPETITION_APPLICATION
from tests.support.localsystem import start_system

pytestmark = pytest.mark.e2e

SLOTS, READ_TIMEOUT, STALLED = 3, 4, 12


@pytest.fixture(scope="module")
def system(make_database, amqp_uri, s3_settings, tmp_path_factory):
    started = start_system(
        data_dir=tmp_path_factory.mktemp("stalled"), ledger_url=make_database("ledger"),
        readmodel_urls={s: make_database(s) for s in ("intake", "documents")}, amqp_uri=amqp_uri,
        s3_settings=s3_settings,
        extra_env={"MAX_CONCURRENT_UPLOADS": str(SLOTS), "HTTP_READ_TIMEOUT": str(READ_TIMEOUT)})
    try:
        yield started.platform
    finally:
        started.stop()


def _stall(base: str, token: str) -> socket.socket:
    """An upload that declares a megabyte and sends nine bytes, then waits."""
    parts = urlsplit(base)
    sock = socket.create_connection((parts.hostname, parts.port), timeout=10)
    sock.sendall((f"POST /documents/uploads?filename=SAMPLE.pdf HTTP/1.1\r\nHost: {parts.netloc}\r\n"
                  f"Authorization: Bearer {token}\r\nContent-Length: 1000000\r\n\r\n%PDF-1.4\n").encode())
    return sock


def test_stalled_uploads_leave_other_requests_and_the_subscription_working(system):
    platform = system
    base = platform.base["documents"]
    token = platform.tokens["applicant"]
    auth = {"Authorization": f"Bearer {token}"}
    stalled = [_stall(base, token) for _ in range(STALLED)]
    try:
        time.sleep(0.5)  # all twelve are with the service now
        # Other requests are answered, and at once (the timeout is far below the read timeout).
        assert requests.get(f"{base}/documents/uploads", headers=auth, timeout=2).status_code == 200
        assert requests.get(f"{base}/documents/openapi.json", timeout=2).status_code == 200
        # A thirteenth upload is told to retry instead of queueing behind the stalled ones.
        busy = requests.post(f"{base}/documents/uploads", params={"filename": "SAMPLE.pdf"}, data=b"%PDF-1.4\n",
                             headers=auth, timeout=2)
        assert busy.status_code == 503 and busy.json()["error"] == "uploads_busy", busy.text
        assert busy.headers["Retry-After"] == "5"
        # The event subscription still runs: a submitted case's files are attached by documents.
        call_id = f"sample-stalled-{uuid.uuid4().hex[:8]}"
        platform.call("ministry", "POST", "intake", "/calls", json_body=sample_call(call_id, date.today()),
                      expect=201)
    finally:
        for sock in stalled:
            sock.close()
    named = upload_sample_evidence(platform, token, SAMPLE_OPEN_COMPETITION_APPLICATION)
    stalled = [_stall(base, token) for _ in range(STALLED)]
    try:
        time.sleep(0.5)
        case_id = platform.call("applicant", "POST", "intake", f"/calls/{call_id}/cases", expect=201,
                                json_body=SAMPLE_OPEN_COMPETITION_APPLICATION)["case_id"]
        attached = platform.wait_until("documents attaching the case's files while uploads stall", lambda: len(
            platform.call("applicant", "GET", "documents", f"/cases/{case_id}/evidence")) >= len(named), timeout=3)
        assert attached
    finally:
        for sock in stalled:
            sock.close()


def _real_upload(base: str, token: str) -> requests.Response:
    return requests.post(f"{base}/documents/uploads", params={"filename": "SAMPLE.pdf"}, data=SAMPLE_PDF,
                         headers={"Authorization": f"Bearer {token}"}, timeout=10)


def test_a_silent_upload_is_dropped_after_the_read_timeout(system):
    platform = system
    base = platform.base["documents"]
    token = platform.tokens["applicant"]
    # The slots the test before held are given back as the service sees those sockets close.
    platform.wait_until("every upload slot free", lambda: _real_upload(base, token).status_code == 201)
    stalled = [_stall(base, token) for _ in range(SLOTS)]
    try:
        # The client sends nothing more and closes nothing: the server gives up on each.
        answers = [sock.recv(4096) for sock in stalled]
        assert all(b" 400 " in a.split(b"\r\n", 1)[0] and b"incomplete_upload" in a for a in answers), [
            a.decode(errors="replace") for a in answers]
        # The slots are free again: a real upload goes through.
        done = _real_upload(base, token)
        assert done.status_code == 201, done.text
    finally:
        for sock in stalled:
            sock.close()
