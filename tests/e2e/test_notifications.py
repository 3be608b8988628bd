"""Notifications through the running system (issue #20): the seven services on real PostgreSQL,
RabbitMQ, S3 and the provider, TWO processes of the notifications service on one read-model
database and queue, a real SMTP server (aiosmtpd, the sink `caseplatform run` uses) and a real
HTTP receiver that verifies the webhooks' signatures.

Each organisation registers its e-mail (and the province a webhook) on the service; a case walks
from submission to publication, another is returned with reasons; every notice arrives once, to
its recipient, with its content; the SMTP server down for a while delays mail and loses none.
All data is SAMPLE (services/cli/demo.py).
"""

from __future__ import annotations

import email
import json
import threading
import time
from collections import Counter
from datetime import date
from email import policy
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
import requests

from services.cli.demo import (
    SAMPLE_EXPERT,
    SAMPLE_OPEN_COMPETITION_APPLICATION,
    sample_call,
    upload_sample_evidence,
    walk_open_competition,
)
from services.cli.localinfra.mailsink import MailSink
from services.cli.localinfra.ports import free_port
from shared.infra.config import SERVICES
from shared.infra.notify import webhook
from tests.support.localsystem import start_system

pytestmark = pytest.mark.e2e

SECRET = "SAMPLE-webhook-secret-0123456789"
# Each organisation registers the address its SAMPLE person's profile carries too (the sample
# evaluator has none): a notice reaches an address once, however many sources name it.
ADDRESS = {"applicant": "applicant@sample.example.com", "city": "wuhan-official@sample.example.com",
           "province": "hubei-official@sample.example.com", "ministry": "miit-official@sample.example.com",
           "expert": "expert@sample.example.com", "evaluator": "evaluator@sample.example.com"}


class Receiver:
    """A province's own system: verifies each delivery (signature, time, not seen before)."""

    def __init__(self) -> None:
        self.seen = webhook.MemorySeen()
        self.accepted: list[dict] = []
        self.raw: list[tuple[bytes, dict]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.raw.append((body, dict(self.headers)))
                status, text = receiver.handle(body, self.headers)
                self.send_response(status)
                self.end_headers()
                self.wfile.write(text.encode())

            def log_message(self, *args) -> None:
                pass

        self.server = HTTPServer(("127.0.0.1", free_port()), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hooks/caseplatform"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def handle(self, body: bytes, headers) -> tuple[int, str]:
        try:
            delivery = webhook.verify(body, headers.get(webhook.SIGNATURE_HEADER), [SECRET], self.seen,
                                      delivery_header=headers.get(webhook.DELIVERY_HEADER))
        except webhook.Replayed:
            return 200, "replayed"  # as the scheme says: acknowledged, not applied again
        except webhook.Refused as refused:
            return 400, refused.reason
        self.accepted.append(delivery)
        return 200, "ok"


@pytest.fixture(scope="module")
def world(make_database, amqp_uri, s3_settings, tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("notify")
    sink = MailSink(data_dir / "mail", port=free_port()).start()
    ledger_url = make_database("ledger")
    urls = {service: make_database(service) for service in SERVICES}
    env = {"SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(sink.port), "NOTIFY_DELIVERY_INTERVAL": "0.3",
           "NOTIFY_RETRY_BASE": "0.5", "REMINDER_SCAN_INTERVAL": "3600", "DIGEST_SCAN_INTERVAL": "3600"}
    system = start_system(data_dir=data_dir, ledger_url=ledger_url, readmodel_urls=urls, amqp_uri=amqp_uri,
                          s3_settings=s3_settings, extra_env=env)
    # A second notifications process on the same database and queue: nothing may go twice.
    second = start_system(data_dir=tmp_path_factory.mktemp("notify-2"), ledger_url=ledger_url,
                          readmodel_urls={"notifications": urls["notifications"]}, amqp_uri=amqp_uri,
                          s3_settings=s3_settings, extra_env=env, identity=system.identity)
    receiver = Receiver()
    try:
        yield system.platform, sink, receiver
    finally:
        second.stop()
        system.stop()
        sink.stop()
        receiver.server.shutdown()


def mails(sink: MailSink) -> list[email.message.EmailMessage]:
    return [email.message_from_bytes(path.read_bytes(), policy=policy.default) for path in sink.messages()]


def text_of(message) -> str:
    return "\n".join(part.get_content() for part in message.iter_parts())


def wait_for(what: str, probe, timeout: float = 60.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = probe()
        if found:
            return found
        time.sleep(0.3)
    raise AssertionError(f"not within {timeout}s: {what}")


def test_each_notice_arrives_once_to_its_recipient_with_its_content(world):
    p, sink, receiver = world
    for role, address in ADDRESS.items():
        body = {"email": address}
        if role == "province":
            body.update(webhook_url=receiver.url, webhook_secret=SECRET)
        shown = p.call(role, "PUT", "notifications", "/channels", json_body=body)
        assert shown["email"] == address
        assert shown["webhook_url"] == (receiver.url if role == "province" else None)
    assert SECRET not in json.dumps(p.call("province", "GET", "notifications", "/channels"))
    # A case returned for correction, with its reasons.
    call_id = f"sample-returned-{time.monotonic_ns()}"
    p.call("ministry", "POST", "intake", "/calls", json_body=sample_call(call_id, date.today()), expect=201)
    upload_sample_evidence(p, p.tokens["applicant"], SAMPLE_OPEN_COMPETITION_APPLICATION)
    returned = p.call("applicant", "POST", "intake", f"/calls/{call_id}/cases", expect=201,
                      json_body=SAMPLE_OPEN_COMPETITION_APPLICATION)["case_id"]
    p.call("city", "POST", "verification", f"/cases/{returned}/return",
           json_body={"reasons": ["SAMPLE 缺少营业执照", "SAMPLE budget table incomplete"]})
    walked = walk_open_competition(p, log=lambda line: None)
    case_id = walked["case_id"]
    expected = Counter({
        ("city", returned, "case_in_inbox"): 1, ("applicant", returned, "returned_for_correction"): 1,
        ("city", case_id, "case_in_inbox"): 1, ("province", case_id, "case_in_inbox"): 1,
        ("expert", case_id, "expert_assigned"): 1, ("applicant", case_id, "shortlisted"): 1,
        ("applicant", case_id, "evaluator_commissioned"): 1, ("evaluator", case_id, "evaluator_commissioned_to_you"): 1,
        ("applicant", case_id, "selected"): 1, ("applicant", case_id, "published"): 1,
    })
    by_address = {address: role for role, address in ADDRESS.items()}

    def arrived():
        found = mails(sink)
        return found if len(found) >= sum(expected.values()) else None

    wait_for("every mail", arrived)
    time.sleep(2)  # time for a second copy to show itself, if the two processes made one
    found = mails(sink)
    ids = Counter(str(m["Message-ID"]) for m in found)
    assert all(n == 1 for n in ids.values()), f"a mail went twice: {ids}"
    listed = {row["id"]: row for row in p.call("ministry", "GET", "notifications", "/all", params={"status": "sent"})}
    got = Counter()
    for message in found:
        row = listed[str(message["X-Caseplatform-Notification"])]
        (to,) = [a.addr_spec for a in message["To"].addresses]
        assert row["recipient"].startswith(by_address[to] + ":")
        got[(by_address[to], row["case_id"], row["kind"])] += 1
        body = text_of(message)
        if row["kind"] == "returned_for_correction":
            assert "1. SAMPLE 缺少营业执照" in body and "2. SAMPLE budget table incomplete" in body
            assert "returned for correction by the city level" in body
        if row["kind"] == "published":
            assert f"{walked['call_id']}:successful" in body
        if row["kind"] == "expert_assigned":
            assert row["recipient"] == f"expert:{SAMPLE_EXPERT['id']}"
    assert got == expected

    # The province's own system heard of its case by a signed webhook, once; a replay is refused.
    wait_for("the webhook", lambda: receiver.accepted)
    assert [(d["type"], d["data"]["case_id"]) for d in receiver.accepted] == [("case_in_inbox", case_id)]
    body, headers = receiver.raw[0]
    with pytest.raises(webhook.Replayed):
        webhook.verify(body, headers[webhook.SIGNATURE_HEADER], [SECRET], receiver.seen)
    with pytest.raises(webhook.BadSignature):
        webhook.verify(body.replace(b"case_in_inbox", b"case_in_inbax"), headers[webhook.SIGNATURE_HEADER],
                       [SECRET], webhook.MemorySeen())

    # Each sees what was sent to it, and only that.
    mine = p.call("applicant", "GET", "notifications", "/mine")
    assert {row["kind"] for row in mine} == {k for (r, _, k) in expected if r == "applicant"}
    assert all(row["address"] == "a***@sample.example.com" for row in mine)
    assert {row["kind"] for row in p.call("city", "GET", "notifications", "/mine")} == {"case_in_inbox"}
    requests_of_auditor = requests.get(f"{p.base['notifications']}/notifications/all",
                                       headers={"Authorization": f"Bearer {p.tokens['auditor']}"}, timeout=10)
    assert requests_of_auditor.status_code == 403


def test_preferences_refuse_turning_off_a_refusal_and_keep_the_rest(world):
    p, _, _ = world
    answer = requests.put(f"{p.base['notifications']}/notifications/preferences",
                          json={"preferences": {"shortlisted": "daily_digest", "returned_for_correction": "off"}},
                          headers={"Authorization": f"Bearer {p.tokens['applicant']}"}, timeout=10)
    assert answer.status_code == 400
    assert "preferences.returned_for_correction" in answer.json()["fields"]
    before = p.call("applicant", "GET", "notifications", "/preferences")["preferences"]
    assert before["shortlisted"] == "immediately", "nothing stored when one choice is refused"
    chosen = p.call("applicant", "PUT", "notifications", "/preferences",
                    json_body={"preferences": {"shortlisted": "off", "returned_for_correction": "daily_digest"}})
    assert chosen["preferences"]["shortlisted"] == "off"
    assert chosen["preferences"]["returned_for_correction"] == "daily_digest"
    assert chosen["preferences"]["published"] == "immediately"


def test_the_smtp_server_down_delays_mail_and_loses_none(world):
    p, sink, _ = world
    p.call("city", "PUT", "notifications", "/channels", json_body={"email": ADDRESS["city"]})
    before = len(sink.messages())
    sink.stop()
    call_id = f"sample-outage-{time.monotonic_ns()}"
    p.call("ministry", "POST", "intake", "/calls", json_body=sample_call(call_id, date.today()), expect=201)
    upload_sample_evidence(p, p.tokens["applicant"], SAMPLE_OPEN_COMPETITION_APPLICATION)
    case_id = p.call("applicant", "POST", "intake", f"/calls/{call_id}/cases", expect=201,
                     json_body=SAMPLE_OPEN_COMPETITION_APPLICATION)["case_id"]

    def failing():
        rows = [r for r in p.call("ministry", "GET", "notifications", "/all", params={"status": "pending"})
                if r["case_id"] == case_id and r["attempts"] >= 2]
        return rows

    (row,) = wait_for("attempts against the stopped server", failing)
    assert "unreachable" in row["last_error"]
    sink.start()
    wait_for("the mail, once the server is back", lambda: len(sink.messages()) > before)
    time.sleep(2)
    late = [m for m in mails(sink) if m["X-Caseplatform-Notification"] == row["id"]]
    assert len(late) == 1
    statuses = {r["id"]: r["status"] for r in p.call("ministry", "GET", "notifications", "/all")}
    assert statuses[row["id"]] == "sent"


def test_a_person_s_profile_address_is_told_too_until_they_turn_it_off(world):
    """A second Wuhan official, whose provider profile has an address of their own: once they have
    used the service, their city's inbox notices reach them too, beside the city's registered
    address, each once; turned off, the address is deleted and the next case reaches only the city."""
    p, sink, _ = world
    # the city's registered address, as the first test of the module registers it: run alone, this one
    # found no address for the city and waited for a notice that could not come
    p.call("city", "PUT", "notifications", "/channels", json_body={"email": ADDRESS["city"]})
    second = {"sub": "sample-wuhan-official-2", "role": "city", "org": "420100",
              "email": "second-wuhan-official@sample.example.com"}
    token = p.token_for(**second)

    def as_second(method: str, body: dict | None = None) -> dict:
        answer = requests.request(method, f"{p.base['notifications']}/notifications/me", json=body, timeout=10,
                                  headers={"Authorization": f"Bearer {token}"})
        assert answer.status_code == 200, answer.text
        return answer.json()

    assert as_second("GET") == {"sub": second["sub"], "email": second["email"], "use_profile_email": True}

    def file_a_case() -> str:
        call_id = f"sample-profile-{time.monotonic_ns()}"
        p.call("ministry", "POST", "intake", "/calls", json_body=sample_call(call_id, date.today()), expect=201)
        upload_sample_evidence(p, p.tokens["applicant"], SAMPLE_OPEN_COMPETITION_APPLICATION)
        return p.call("applicant", "POST", "intake", f"/calls/{call_id}/cases", expect=201,
                      json_body=SAMPLE_OPEN_COMPETITION_APPLICATION)["case_id"]

    def inbox_mail_to(case_id: str) -> Counter:
        rows = {r["id"] for r in p.call("ministry", "GET", "notifications", "/all")
                if r["case_id"] == case_id and r["kind"] == "case_in_inbox"}
        return Counter(a.addr_spec for m in mails(sink) if str(m["X-Caseplatform-Notification"]) in rows
                       for a in m["To"].addresses)

    told = file_a_case()
    wait_for("the inbox notice at both addresses", lambda: len(inbox_mail_to(told)) == 2)
    time.sleep(2)
    assert inbox_mail_to(told) == Counter({ADDRESS["city"]: 1, second["email"]: 1})

    assert as_second("PUT", {"use_profile_email": False}) == {"sub": second["sub"], "email": None,
                                                              "use_profile_email": False}
    as_second("GET")  # a later request does not learn it again
    not_told = file_a_case()
    wait_for("the inbox notice at the city's address", lambda: inbox_mail_to(not_told))
    time.sleep(2)
    assert inbox_mail_to(not_told) == Counter({ADDRESS["city"]: 1})


def test_the_privacy_officer_finds_and_erases_an_address_notifications_holds(world):
    """Issue #21: what notifications keeps under an e-mail address in the clear (a profile's address,
    an organisation's registered address, the notices sent to it) is part of a person's copy and
    erased on a recorded request: the profile turned off for good, the channel cleared, each notice's
    record kept with its address erased; the next notice reaches the address no more."""
    p, sink, _ = world
    third = {"sub": "sample-wuhan-official-3", "role": "city", "org": "420100",
             "email": "third-wuhan-official@sample.example.com"}
    token = p.token_for(**third)
    officer = p.token_for(sub="sample-privacy-officer", role="privacy", org="MIIT-PRIVACY")

    def call(method: str, path: str, body: dict | None = None, who: str = officer) -> requests.Response:
        return requests.request(method, f"{p.base['notifications']}/notifications{path}", json=body, timeout=10,
                                headers={"Authorization": f"Bearer {who}"})

    assert call("GET", "/me", who=token).json()["email"] == third["email"]  # learnt from the token
    call_id = f"sample-address-{time.monotonic_ns()}"
    p.call("ministry", "POST", "intake", "/calls", json_body=sample_call(call_id, date.today()), expect=201)
    upload_sample_evidence(p, p.tokens["applicant"], SAMPLE_OPEN_COMPETITION_APPLICATION)
    p.call("applicant", "POST", "intake", f"/calls/{call_id}/cases", expect=201,
           json_body=SAMPLE_OPEN_COMPETITION_APPLICATION)
    wait_for("a notice to the third official", lambda: any(
        a.addr_spec == third["email"] for m in mails(sink) for a in m["To"].addresses))

    assert call("POST", "/personal-data/copies", {"email": "Not-An-Address"}).status_code == 400
    assert call("POST", "/personal-data/copies", {"email": third["email"]}, who=token).status_code == 403
    held = call("POST", "/personal-data/copies", {"email": third["email"].upper()}).json()
    assert [r["sub"] for r in held["profiles"]] == [third["sub"]]
    assert held["notices"] and {n["status"] for n in held["notices"]} <= {"sent", "pending"}
    assert "subject" not in held["notices"][0] and "payload" not in held["notices"][0]  # never their text

    erased = call("POST", "/personal-data/erasures", {"email": third["email"], "request": "SAMPLE-PIPL-2026-010",
                                                       "reason": "SAMPLE 本人申请删除"})
    assert erased.status_code == 201, erased.text
    assert erased.json()["erased"]["profiles"] == 1 and erased.json()["record"] == held["record"]
    assert call("GET", "/me", who=token).json() == {"sub": third["sub"], "email": None, "use_profile_email": False}
    after = call("POST", "/personal-data/copies", {"email": third["email"]}).json()
    assert (after["profiles"], after["channels"], after["notices"]) == ([], [], [])
    listed = requests.get(f"{p.base['audit']}/audit/personal-erasures", params={"record": held["record"]},
                          headers={"Authorization": f"Bearer {officer}"}, timeout=10).json()
    assert [e["request"] for e in listed] == ["SAMPLE-PIPL-2026-010"]
