"""Delivery of notifications (issue #20) against real servers: an SMTP server (aiosmtpd) on a
free port, an HTTP receiver (http.server in a thread) checking signatures with the verifier a
province's system would use, and the outbox on the session's real PostgreSQL. The clock is
passed in; nothing sleeps.
"""

from __future__ import annotations

import collections
import email
import json
import socket
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from email import policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests
import sqlalchemy as sa
from aiosmtpd.controller import Controller

from shared.infra.config import sqlalchemy_url
from shared.infra.notify import dispatch, mail, outbox, webhook
from shared.infra.notify.errors import TemporaryFailure
from shared.infra.notify.retry import RetryPolicy

pytestmark = pytest.mark.integration

T0 = datetime(2026, 12, 4, 9, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ------------------------------------------------------------------------- SMTP server


class Mailbox:
    """aiosmtpd's handler: keeps every message it accepted; refuses the recipients it is told to."""

    def __init__(self) -> None:
        self.messages: list[tuple[list[str], email.message.EmailMessage]] = []
        self.refuse: dict[str, str] = {}

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse:
            return self.refuse[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        parsed = email.message_from_bytes(envelope.content, policy=policy.default)
        self.messages.append((list(envelope.rcpt_tos), parsed))
        return "250 Message accepted for delivery"

    def ids(self) -> collections.Counter:
        return collections.Counter(str(message["Message-ID"]) for _, message in self.messages)


class SmtpServer:
    """A real SMTP server on a fixed free port, which the test can stop and start again."""

    def __init__(self) -> None:
        self.port = _free_port()
        self.mailbox = Mailbox()
        self.controller: Controller | None = None

    def start(self) -> None:
        self.controller = Controller(self.mailbox, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    server = SmtpServer()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def engine(make_database):
    engine = sa.create_engine(sqlalchemy_url(make_database("notify")))
    outbox.create_tables(engine)
    try:
        yield engine
    finally:
        engine.dispose()


def _settings(server: SmtpServer) -> mail.SmtpSettings:
    return mail.SmtpSettings(host="127.0.0.1", port=server.port, timeout=5, sender="notify@caseplatform.test",
                             message_id_domain="caseplatform.test")


def _record_mail(engine, n: int, *, to: str | None = None, key: str = "") -> list[str]:
    ids = []
    with engine.begin() as conn:
        for i in range(n):
            address = to or f"unit{i}@example.test"
            ident, _ = outbox.record(
                conn, dedupe_key=f"SAMPLE-event-{key}{i}:{address}:email", channel="email",
                recipient=f"org-SAMPLE-{i}", address=address, kind="application.returned",
                payload={"subject": f"申请已退回补正（样例 {i}）", "text_zh": f"您的申请已退回补正。原因：样例 {i}",
                         "text_en": f"Your application was returned for correction. Reason: SAMPLE {i}"},
                now=T0)
            ids.append(ident)
    return ids


def _mailer(server: SmtpServer):
    return dispatch.sender(smtp=_settings(server))


def _statuses(engine) -> dict[str, str]:
    with engine.connect() as conn:
        return {row.id: row.status for row in outbox.listing(conn, limit=1000)}


def _deliver_all(engine, send, now, **options) -> outbox.Pass:
    total = outbox.Pass()
    while True:
        one = outbox.deliver_due(engine, send, now=now, **options)
        if not (one.sent or one.retrying or one.parked or one.lost):
            return total
        for name in ("sent", "retrying", "parked", "lost"):
            getattr(total, name).extend(getattr(one, name))


# ------------------------------------------------------------------------------ e-mail


def test_each_mail_arrives_once_with_its_recipient_subject_and_both_parts(smtp, engine):
    smtp.start()
    ids = _record_mail(engine, 3)
    passed = _deliver_all(engine, _mailer(smtp), T0)
    assert sorted(passed.sent) == sorted(ids)

    assert len(smtp.mailbox.messages) == 3
    by_id = {str(message["X-Caseplatform-Notification"]): (rcpts, message) for rcpts, message in smtp.mailbox.messages}
    for i, ident in enumerate(ids):
        rcpts, message = by_id[ident]
        assert rcpts == [f"unit{i}@example.test"] and message["To"].addresses[0].addr_spec == rcpts[0]
        assert message["Subject"] == f"申请已退回补正（样例 {i}）"
        assert message["Message-ID"] == f"<{ident}@caseplatform.test>"
        assert message.get_content_type() == "multipart/mixed"
        zh, en = message.iter_parts()
        assert (zh["Content-Language"], en["Content-Language"]) == ("zh-CN", "en")
        assert zh.get_content().strip() == f"您的申请已退回补正。原因：样例 {i}"
        assert en.get_content().strip() == f"Your application was returned for correction. Reason: SAMPLE {i}"
    assert set(_statuses(engine).values()) == {"sent"}

    # recorded again (a redelivered event) and delivered again: nothing new anywhere
    assert _record_mail(engine, 3) == ids
    assert _deliver_all(engine, _mailer(smtp), T0 + HOUR).sent == []
    assert len(smtp.mailbox.messages) == 3
    with engine.connect() as conn:
        mine = outbox.for_recipient(conn, "org-SAMPLE-1")
    assert [(row.id, row.status, row.address) for row in mine] == [(ids[1], "sent", "unit1@example.test")]


def test_the_server_down_delays_delivery_and_loses_nothing(smtp, engine):
    ids = _record_mail(engine, 4)
    # never started: the connection is refused, every send fails for now
    down = _deliver_all(engine, _mailer(smtp), T0)
    assert sorted(down.retrying) == sorted(ids) and not down.sent
    with engine.connect() as conn:
        rows = outbox.listing(conn)
    assert all(row.attempts == 1 and outbox.as_utc(row.next_attempt_at) > T0 for row in rows)
    assert all("unreachable" in row.last_error for row in rows)
    # not due yet: nothing is tried again at once
    assert _deliver_all(engine, _mailer(smtp), T0 + timedelta(seconds=1)).retrying == []

    smtp.start()
    first = outbox.deliver_due(engine, _mailer(smtp), now=T0 + HOUR, limit=2)
    assert len(first.sent) == 2
    smtp.stop()
    stopped = _deliver_all(engine, _mailer(smtp), T0 + HOUR)
    assert sorted(stopped.retrying) == sorted(set(ids) - set(first.sent))

    smtp.start()
    again = _deliver_all(engine, _mailer(smtp), T0 + 3 * HOUR)
    assert sorted(first.sent + again.sent) == sorted(ids)
    assert smtp.mailbox.ids() == collections.Counter({f"<{ident}@caseplatform.test>": 1 for ident in ids})
    assert set(_statuses(engine).values()) == {"sent"}


def test_a_refused_recipient_parks_at_once_and_a_4xx_is_retried(smtp, engine):
    smtp.mailbox.refuse = {"nobody@example.test": "550 5.1.1 No such user",
                           "busy@example.test": "451 4.3.0 Try again later"}
    smtp.start()
    [nobody] = _record_mail(engine, 1, to="nobody@example.test", key="a")
    [busy] = _record_mail(engine, 1, to="busy@example.test", key="b")
    passed = _deliver_all(engine, _mailer(smtp), T0)
    assert passed.parked == [nobody] and passed.retrying == [busy]
    with engine.connect() as conn:
        parked = outbox.listing(conn, status="parked")
    assert [(row.id, row.last_error) for row in parked] == [(nobody, "recipient refused: 550 5.1.1 No such user")]
    assert smtp.mailbox.messages == []


def test_a_crash_between_accepted_and_marked_repeats_with_the_same_message_id(smtp, engine):
    smtp.start()
    [ident] = _record_mail(engine, 1)
    with engine.begin() as conn:
        [row] = outbox.claim(conn, now=T0)
    _mailer(smtp)(row)  # accepted by the server; the process dies before marking it
    # the lease runs out; the next claim sends it again
    assert _deliver_all(engine, _mailer(smtp), T0 + outbox.DEFAULT_LEASE - timedelta(seconds=1)).sent == []
    assert _deliver_all(engine, _mailer(smtp), T0 + outbox.DEFAULT_LEASE + timedelta(seconds=1)).sent == [ident]
    # the receiver can tell the copy: the same Message-ID
    assert smtp.mailbox.ids() == collections.Counter({f"<{ident}@caseplatform.test>": 2})
    # the first holder's late mark is refused: its lease was taken over
    with engine.begin() as conn:
        assert outbox.mark_sent(conn, ident, row.claim_token, now=T0 + HOUR) is False


def test_two_processes_claiming_the_same_outbox_never_send_one_twice(smtp, engine):
    smtp.start()
    ids = _record_mail(engine, 40)
    start = threading.Barrier(2)

    def process() -> list[str]:
        own = sa.create_engine(engine.url)  # its own pool, its own connections
        try:
            start.wait(timeout=30)
            return _deliver_all(own, _mailer(smtp), T0, limit=3).sent
        finally:
            own.dispose()

    with ThreadPoolExecutor(max_workers=2) as pool:
        a, b = (future.result(timeout=120) for future in [pool.submit(process), pool.submit(process)])
    assert not set(a) & set(b)
    assert sorted(a + b) == sorted(ids)
    assert smtp.mailbox.ids() == collections.Counter({f"<{ident}@caseplatform.test>": 1 for ident in ids})


def test_a_claim_in_progress_and_a_live_lease_keep_others_off(engine):
    ids = _record_mail(engine, 4)
    with engine.connect() as first, engine.connect() as second:
        with first.begin():
            mine = outbox.claim(first, now=T0, limit=2)
            # the first claim is not committed yet: the second skips its rows and takes the others
            with second.begin():
                second.exec_driver_sql("SET LOCAL lock_timeout = '5s'")  # were it to wait: fail, not hang
                theirs = outbox.claim(second, now=T0, limit=4)
        assert len(mine) == 2 and len(theirs) == 2
        assert {row.id for row in mine} | {row.id for row in theirs} == set(ids)
    # while the leases last nobody gets them; once they ran out, they are due again
    with engine.begin() as conn:
        assert outbox.claim(conn, now=T0 + outbox.DEFAULT_LEASE) == []
        again = outbox.claim(conn, now=T0 + outbox.DEFAULT_LEASE + timedelta(seconds=1))
    assert sorted(row.id for row in again) == sorted(ids) and {row.attempts for row in again} == {2}


def _certificate(tmp_path) -> tuple[str, str]:
    """A self-signed certificate for 127.0.0.1: (certificate file, key file); the test's own CA."""
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "SAMPLE test SMTP server")])
    now = datetime.now(UTC)
    certificate = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
                   .serial_number(x509.random_serial_number()).not_valid_before(now - HOUR)
                   .not_valid_after(now + HOUR)
                   .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                                  critical=False)
                   .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
                   .sign(key, hashes.SHA256()))
    cert_file, key_file = tmp_path / "smtp.crt", tmp_path / "smtp.key"
    cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return str(cert_file), str(key_file)


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")  # see auth_require_tls below
@pytest.mark.parametrize("security", ["starttls", "ssl"])
def test_tls_and_login_when_the_settings_ask(tmp_path, security):
    import ssl

    from aiosmtpd.smtp import AuthResult, LoginPassword

    cert_file, key_file = _certificate(tmp_path)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert_file, key_file)
    logins: list[tuple[str, bool]] = []

    def authenticator(server, session, envelope, mechanism, data):
        good = isinstance(data, LoginPassword) and (data.login, data.password) == (b"SAMPLE-user", b"SAMPLE-pass")
        logins.append((mechanism, good))
        return AuthResult(success=good, handled=False)  # handled=False: aiosmtpd answers 535 itself

    mailbox, port = Mailbox(), _free_port()
    # aiosmtpd's auth_require_tls looks for STARTTLS only; on implicit TLS the whole connection is TLS.
    tls = {"tls_context": context, "require_starttls": True} if security == "starttls" else {
        "ssl_context": context, "server_hostname": "127.0.0.1", "auth_require_tls": False}
    controller = Controller(mailbox, hostname="127.0.0.1", port=port, authenticator=authenticator,
                            auth_required=True, auth_exclude_mechanism=["LOGIN"], **tls)
    controller.start()
    try:
        settings = mail.SmtpSettings(host="127.0.0.1", port=port, security=security, username="SAMPLE-user",
                                     password="SAMPLE-pass", ca_file=cert_file, timeout=5,
                                     message_id_domain="caseplatform.test")
        sent = mail.send(mail.Mail("SAMPLE-tls", "unit@example.test", "样例", "样例正文", "SAMPLE body"), settings)
        wrong = mail.SmtpSettings(**{**settings.__dict__, "password": "SAMPLE-wrong"})
        with pytest.raises(TemporaryFailure, match="535"):
            mail.send(mail.Mail("SAMPLE-tls-2", "unit@example.test", "样例", "样例正文", "SAMPLE body"), wrong)
        untrusted = mail.SmtpSettings(**{**settings.__dict__, "ca_file": ""})
        with pytest.raises(TemporaryFailure, match="CERTIFICATE_VERIFY_FAILED"):
            mail.send(mail.Mail("SAMPLE-tls-3", "unit@example.test", "样例", "样例正文", "SAMPLE body"), untrusted)
    finally:
        controller.stop()
    assert sent == "<SAMPLE-tls@caseplatform.test>"
    assert [str(message["Message-ID"]) for _, message in mailbox.messages] == [sent]
    assert [good for _, good in logins] == [True, False]


# ----------------------------------------------------------------------------- webhooks


SECRET = "SAMPLE-whsec-province-hubei"


class Receiver:
    """A province's system: verifies each delivery and applies it once; the outcomes it answered."""

    def __init__(self, secrets: tuple[str, ...] = (SECRET,)) -> None:
        self.secrets = secrets
        self.seen = webhook.MemorySeen()
        self.applied: list[dict] = []
        self.outcomes: list[str] = []
        self.raw: list[tuple[bytes, dict[str, str]]] = []
        self.answer_status: int | None = None  # answer this instead (410, 503)
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.raw.append((body, dict(self.headers)))
                status, outcome = receiver.handle(body, self.headers)
                receiver.outcomes.append(outcome)
                self.send_response(status)
                self.send_header("Content-Length", str(len(outcome)))
                self.end_headers()
                self.wfile.write(outcome.encode())

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/caseplatform/hooks"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def handle(self, body: bytes, headers) -> tuple[int, str]:
        if self.answer_status is not None:
            return self.answer_status, "answered"
        try:
            delivery = webhook.verify(body, headers.get(webhook.SIGNATURE_HEADER), self.secrets, self.seen,
                                      delivery_header=headers.get(webhook.DELIVERY_HEADER))
        except webhook.Replayed:
            return 200, "replayed"  # known already: acknowledged, not applied again
        except webhook.StaleTimestamp:
            return 400, "stale_timestamp"
        except webhook.BadSignature:
            return 401, "bad_signature"
        self.applied.append(delivery)
        return 200, "applied"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    try:
        yield server
    finally:
        server.close()


def _record_hook(engine, receiver: Receiver, key: str = "1") -> str:
    with engine.begin() as conn:
        ident, _ = outbox.record(
            conn, dedupe_key=f"SAMPLE-event-{key}:province-hubei:webhook", channel="webhook",
            recipient="org-SAMPLE-hubei", address=receiver.url, kind="case.arrived",
            payload={"case_id": f"SAMPLE-case-{key}", "level": "province"}, now=T0)
    return ident


def _poster(secret: str = SECRET, *, signed_at: float | None = None):
    if signed_at is None:  # the service's own path: the endpoint looked up by the row's address
        return dispatch.sender(endpoints=lambda address: webhook.Endpoint(url=address, secrets=(secret,), timeout=5))

    def send(row) -> None:
        webhook.post(webhook.Endpoint(url=row.address, secrets=(secret,), timeout=5), row.id, row.kind,
                     row.payload, now=signed_at)
    return send


def test_a_webhook_arrives_once_signed_and_is_listed(engine, receiver):
    ident = _record_hook(engine, receiver)
    assert _deliver_all(engine, _poster(), T0).sent == [ident]
    assert receiver.outcomes == ["applied"]
    [delivery] = receiver.applied
    assert delivery["id"] == ident and delivery["type"] == "case.arrived"
    assert delivery["data"] == {"case_id": "SAMPLE-case-1", "level": "province"}
    assert _deliver_all(engine, _poster(), T0 + HOUR).sent == []
    assert len(receiver.applied) == 1 and _statuses(engine) == {ident: "sent"}


def test_the_receiver_refuses_a_wrong_signature_a_stale_timestamp_and_a_replay(engine, receiver):
    ident = _record_hook(engine, receiver)
    wrong = _deliver_all(engine, _poster("SAMPLE-not-the-secret"), T0)
    stale = _deliver_all(engine, _poster(signed_at=time.time() - 3600), T0 + HOUR)
    assert wrong.retrying == [ident] and stale.retrying == [ident]
    assert receiver.outcomes == ["bad_signature", "stale_timestamp"] and receiver.applied == []

    assert _deliver_all(engine, _poster(), T0 + 3 * HOUR).sent == [ident]
    assert receiver.outcomes[-1] == "applied"
    # a captured request sent again byte for byte, within the tolerance: refused as a replay
    body, headers = receiver.raw[-1]
    resent = requests.post(receiver.url, data=body, timeout=5, headers={
        name: headers[name] for name in (webhook.SIGNATURE_HEADER, webhook.DELIVERY_HEADER, "Content-Type")})
    assert (resent.status_code, resent.text) == (200, "replayed")
    # the body's id swapped for a fresh one breaks the signature
    forged = body.replace(ident.encode(), b"00000000-0000-0000-0000-000000000000")
    refused = requests.post(receiver.url, data=forged, timeout=5,
                            headers={webhook.SIGNATURE_HEADER: headers[webhook.SIGNATURE_HEADER]})
    assert (refused.status_code, refused.text) == (401, "bad_signature")
    # a redelivery after a lost acknowledgement, freshly signed: acknowledged, not applied twice
    with engine.begin() as conn:
        [row] = outbox.listing(conn)
    _poster()(row)
    assert receiver.outcomes[-1] == "replayed"
    assert [delivery["id"] for delivery in receiver.applied] == [ident]


def test_an_endpoint_gone_parks_at_once(engine, receiver):
    receiver.answer_status = 410
    ident = _record_hook(engine, receiver)
    assert _deliver_all(engine, _poster(), T0).parked == [ident]
    with engine.connect() as conn:
        [row] = outbox.listing(conn, status="parked")
    assert row.attempts == 1 and row.last_error.startswith("endpoint answered 410")


def test_an_endpoint_no_longer_registered_parks_at_once(engine, receiver):
    ident = _record_hook(engine, receiver)
    assert _deliver_all(engine, dispatch.sender(endpoints=lambda address: None), T0).parked == [ident]
    assert receiver.raw == []


def test_the_bound_parks_and_an_operator_puts_it_back(engine, receiver):
    policy = RetryPolicy(base=timedelta(minutes=1), cap=timedelta(minutes=10), max_attempts=3)
    receiver.answer_status = 503
    ident = _record_hook(engine, receiver)
    passes = [_deliver_all(engine, _poster(), T0 + n * HOUR, policy=policy) for n in range(4)]
    assert [p.retrying for p in passes] == [[ident], [ident], [], []]
    assert [p.parked for p in passes] == [[], [], [ident], []]
    assert receiver.outcomes == ["answered"] * 3
    with engine.begin() as conn:
        assert [row.id for row in outbox.listing(conn, status="parked")] == [ident]
        assert outbox.requeue(conn, [ident], now=T0 + 5 * HOUR) == 1
    receiver.answer_status = None
    assert _deliver_all(engine, _poster(), T0 + 5 * HOUR, policy=policy).sent == [ident]
    assert [delivery["id"] for delivery in receiver.applied] == [ident]


def test_an_unreachable_endpoint_is_a_temporary_failure():
    endpoint = webhook.Endpoint(url=f"http://127.0.0.1:{_free_port()}/hooks", secrets=(SECRET,), timeout=5)
    with pytest.raises(TemporaryFailure, match="unreachable"):
        webhook.post(endpoint, "SAMPLE-1", "case.arrived", {"SAMPLE": True})
    assert json.loads(webhook.envelope("SAMPLE-1", "k", {"a": "中"}, created=1))["data"] == {"a": "中"}
