"""The delivery machinery's pure parts (issue #20): the retry timing with an injected clock, the
webhook verifier, the e-mail's shape, and the outbox's record/claim/lease on SQLite."""

from __future__ import annotations

import email
from datetime import UTC, datetime, timedelta
from email import policy

import pytest
import sqlalchemy as sa

from shared.infra.notify import mail, outbox, webhook
from shared.infra.notify.retry import PARK, RetryPolicy, next_attempt

NOW = datetime(2026, 12, 4, 9, 0, tzinfo=UTC)


# ------------------------------------------------------------------------------ retry


def test_the_waits_double_are_capped_and_jitter_only_shortens_them():
    policy = RetryPolicy(base=timedelta(seconds=30), factor=2, cap=timedelta(minutes=10), jitter=0.2,
                         max_attempts=12)
    for attempts, full in [(1, 30), (2, 60), (3, 120), (4, 240), (5, 480), (6, 600), (11, 600)]:
        for key in ("SAMPLE-a", "SAMPLE-b", "SAMPLE-c"):
            wait = (next_attempt(attempts, NOW, policy=policy, key=key) - NOW).total_seconds()
            assert full * 0.8 <= wait <= full, (attempts, key, wait)
    many = RetryPolicy(max_attempts=1000)
    assert next_attempt(999, NOW, policy=many) - NOW <= many.cap


def test_the_answer_is_a_function_of_its_inputs_and_spreads_over_keys():
    assert next_attempt(3, NOW, key="SAMPLE-a") == next_attempt(3, NOW, key="SAMPLE-a")
    later = NOW + timedelta(hours=5)
    assert next_attempt(3, later, key="SAMPLE-a") - later == next_attempt(3, NOW, key="SAMPLE-a") - NOW
    assert len({next_attempt(3, NOW, key=f"SAMPLE-{i}") for i in range(20)}) > 10


def test_the_bound_parks():
    policy = RetryPolicy(max_attempts=3)
    assert next_attempt(2, NOW, policy=policy) != PARK
    assert next_attempt(3, NOW, policy=policy) is PARK
    assert next_attempt(40, NOW, policy=policy) is PARK


def test_nonsense_is_refused():
    with pytest.raises(ValueError):
        next_attempt(0, NOW)
    with pytest.raises(ValueError):
        next_attempt(1, datetime(2026, 12, 4, 9, 0))
    with pytest.raises(ValueError):
        RetryPolicy(jitter=1.0)
    with pytest.raises(ValueError):
        RetryPolicy(base=timedelta(hours=3), cap=timedelta(hours=1))


def test_the_longest_span_adds_the_waits_between_attempts():
    policy = RetryPolicy(base=timedelta(seconds=10), factor=3, cap=timedelta(seconds=100), max_attempts=4)
    assert policy.longest_span() == timedelta(seconds=10 + 30 + 90)


# ---------------------------------------------------------------------------- webhook

SECRET = "SAMPLE-whsec"


def _signed(delivery_id: str = "SAMPLE-d1", *, at: int = 1_800_000_000, secrets=(SECRET,)) -> tuple[bytes, str]:
    body = webhook.envelope(delivery_id, "case.arrived", {"case_id": "SAMPLE-c1"}, created=at)
    return body, webhook.signature_header(secrets, at, body)


def test_a_good_delivery_is_accepted_once():
    seen = webhook.MemorySeen()
    body, header = _signed()
    delivery = webhook.verify(body, header, [SECRET], seen, now=1_800_000_010)
    assert delivery == {"id": "SAMPLE-d1", "type": "case.arrived", "created": 1_800_000_000,
                        "data": {"case_id": "SAMPLE-c1"}}
    with pytest.raises(webhook.Replayed):
        webhook.verify(body, header, [SECRET], seen, now=1_800_000_020)


def test_the_signature_follows_stripes_scheme():
    body, header = _signed()
    import hashlib
    import hmac
    expected = hmac.new(SECRET.encode(), b"1800000000." + body, hashlib.sha256).hexdigest()
    assert header == f"t=1800000000,v1={expected}"


@pytest.mark.parametrize("header", [None, "", "t=1800000000", "v1=abc", "t=1800000000,v1=00ff"])
def test_a_missing_or_wrong_signature_is_refused_and_not_remembered(header):
    seen = webhook.MemorySeen()
    body, good = _signed()
    with pytest.raises(webhook.BadSignature):
        webhook.verify(body, header, [SECRET], seen, now=1_800_000_000)
    with pytest.raises(webhook.BadSignature):
        webhook.verify(body, good, ["SAMPLE-other"], seen, now=1_800_000_000)
    # nothing was recorded: the genuine one still goes through
    assert webhook.verify(body, good, [SECRET], seen, now=1_800_000_000)["id"] == "SAMPLE-d1"


def test_a_stale_or_future_timestamp_is_refused():
    body, header = _signed(at=1_800_000_000)
    for now in (1_800_000_301, 1_799_999_699):
        with pytest.raises(webhook.StaleTimestamp):
            webhook.verify(body, header, [SECRET], webhook.MemorySeen(), now=now)
    assert webhook.verify(body, header, [SECRET], webhook.MemorySeen(), now=1_800_000_300)
    with pytest.raises(webhook.StaleTimestamp):
        webhook.verify(body, header, [SECRET], webhook.MemorySeen(), now=1_800_000_100, tolerance=60)


def test_a_rotated_secret_is_accepted_by_either_side():
    body, header = _signed(secrets=("SAMPLE-old", "SAMPLE-new"))
    assert webhook.verify(body, header, ["SAMPLE-new"], webhook.MemorySeen(), now=1_800_000_000)
    assert webhook.verify(body, header, ["SAMPLE-old"], webhook.MemorySeen(), now=1_800_000_000)


def test_a_delivery_header_that_disagrees_with_the_body_is_refused():
    body, header = _signed()
    with pytest.raises(webhook.BadSignature):
        webhook.verify(body, header, [SECRET], webhook.MemorySeen(), now=1_800_000_000, delivery_header="other")


def test_the_seen_store_forgets_after_its_keep():
    seen = webhook.MemorySeen(keep=100)
    assert seen.add_if_new("SAMPLE-1", 1000) and not seen.add_if_new("SAMPLE-1", 1050)
    assert seen.add_if_new("SAMPLE-1", 1101)


# ------------------------------------------------------------------------------- mail


def test_the_message_has_chinese_first_then_english_and_a_stable_message_id():
    settings = mail.SmtpSettings(sender="notify@caseplatform.test", message_id_domain="caseplatform.test")
    message = mail.Mail("SAMPLE-n1", "unit@example.test", "里程碑已逾期（样例）", "您的里程碑已逾期。",
                        "Your milestone is overdue.", to_name="样例单位")
    raw = mail.build(message, settings, now=NOW).as_bytes()
    assert raw.isascii()  # headers encoded, Chinese bodies in base64: any SMTP server carries it
    parsed = email.message_from_bytes(raw, policy=policy.default)
    assert parsed["Subject"] == "里程碑已逾期（样例）" and str(parsed["To"]) == "样例单位 <unit@example.test>"
    assert parsed["Message-ID"] == "<SAMPLE-n1@caseplatform.test>"
    assert [(p["Content-Language"], p.get_content().strip()) for p in parsed.iter_parts()] == [
        ("zh-CN", "您的里程碑已逾期。"), ("en", "Your milestone is overdue.")]
    again = email.message_from_bytes(mail.build(message, settings).as_bytes(), policy=policy.default)
    assert again["Message-ID"] == parsed["Message-ID"]
    assert mail.message_id("a b<c>", "d.test") == mail.message_id("a b<c>", "d.test")
    assert " " not in mail.message_id("a b<c>", "d.test")


def test_smtp_settings_refuse_a_login_in_the_clear():
    with pytest.raises(ValueError):
        mail.SmtpSettings(username="SAMPLE", password="x")
    settings = mail.SmtpSettings.from_env({"SMTP_HOST": "smtp.example.test", "SMTP_SECURITY": "starttls",
                                           "SMTP_USERNAME": "SAMPLE", "SMTP_PASSWORD": "x"})
    assert (settings.port, settings.security) == (587, "starttls")


# ----------------------------------------------------------------------------- outbox


@pytest.fixture
def engine(tmp_path):
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'outbox.db'}")
    outbox.create_tables(engine)
    return engine


def _record(conn, key: str = "SAMPLE-e1"):
    return outbox.record(conn, dedupe_key=key, channel="email", recipient="org-SAMPLE", address="u@example.test",
                         kind="milestone.overdue", payload={"SAMPLE": True}, now=NOW)


def test_recorded_once_and_claimed_under_a_lease(engine):
    with engine.begin() as conn:
        ident, created = _record(conn)
        assert created and _record(conn) == (ident, False)
        [row] = outbox.claim(conn, now=NOW)
        assert row.attempts == 1 and outbox.as_utc(row.claimed_until) == NOW + outbox.DEFAULT_LEASE
        assert outbox.claim(conn, now=NOW + timedelta(minutes=4)) == []
        [again] = outbox.claim(conn, now=NOW + timedelta(minutes=6))
        assert again.claim_token != row.claim_token and again.attempts == 2
        assert outbox.mark_sent(conn, ident, row.claim_token, now=NOW) is False  # its lease was lost
        assert outbox.mark_sent(conn, ident, again.claim_token, now=NOW) is True
        assert outbox.claim(conn, now=NOW + timedelta(days=1)) == []
        assert [r.status for r in outbox.for_recipient(conn, "org-SAMPLE")] == ["sent"]


def test_a_failure_waits_for_the_policy_and_the_bound_parks(engine):
    policy = RetryPolicy(base=timedelta(minutes=1), max_attempts=2)
    with engine.begin() as conn:
        ident, _ = _record(conn)
        [row] = outbox.claim(conn, now=NOW)
        assert outbox.mark_failed(conn, ident, row.claim_token, now=NOW, error="451", policy=policy) == "pending"
        assert outbox.claim(conn, now=NOW + timedelta(seconds=40)) == []
        [row] = outbox.claim(conn, now=NOW + timedelta(minutes=1))
        assert outbox.mark_failed(conn, ident, row.claim_token, now=NOW, error="451", policy=policy) == "parked"
        assert [r.id for r in outbox.listing(conn, status="parked")] == [ident]


def test_a_sender_that_never_reports_back_is_parked_at_the_bound(engine):
    policy = RetryPolicy(max_attempts=2)
    with engine.begin() as conn:
        _record(conn)
        outbox.claim(conn, now=NOW)
        outbox.claim(conn, now=NOW + timedelta(minutes=6))
        assert outbox.park_abandoned(conn, now=NOW + timedelta(minutes=7), policy=policy) == 0  # lease still on
        assert outbox.park_abandoned(conn, now=NOW + timedelta(minutes=12), policy=policy) == 1
        [row] = outbox.listing(conn)
    assert row.status == "parked" and "no outcome" in row.last_error


def test_deliver_due_keeps_an_unexpected_error_as_temporary(engine):
    with engine.begin() as conn:
        ident, _ = _record(conn)

    def broken(row):
        raise KeyError("subject")

    passed = outbox.deliver_due(engine, broken, now=NOW)
    assert passed.retrying == [ident]
    with engine.connect() as conn:
        [row] = outbox.listing(conn)
    assert row.status == "pending" and row.last_error == "KeyError: 'subject'"
