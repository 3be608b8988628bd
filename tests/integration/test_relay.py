"""The outbox relay against a real PostgreSQL ledger and a real RabbitMQ vhost."""

import json

import pytest
from kombu import Connection

from shared import topology
from shared.case import Case
from shared.ledger import CaseLedger
from shared.relay import PositionStore, Relay

pytestmark = pytest.mark.integration

EXCHANGE = "ledger.events"
APPLICANT = {"sub": "u", "role": "applicant", "org": "91420100MA4K0000X0"}
PROVINCE = {"sub": "p", "role": "province", "org": "420000"}


def submit(ledger: CaseLedger) -> Case:
    case = Case.submit(
        actor=APPLICANT, call_id="sample", call_version=1, program="signature_product",
        direction="酶制剂", applicant={"credit_code": APPLICANT["org"], "name": "SAMPLE unit"},
        province="420000", city=None, chain=["province"], public_notice_required=True,
        title="SAMPLE product", application={},
    )
    ledger.save_case(case)
    return case


def drain(amqp_uri: str, service: str = "intake") -> list:
    """Every message waiting in a service's queue, acknowledged, in queue order."""
    got = []
    with Connection(amqp_uri) as conn:
        queue = topology.service_queues(service, EXCHANGE)[0](conn.channel())
        while (message := queue.get(no_ack=True)) is not None:
            got.append((message.properties["message_id"], message.delivery_info["routing_key"],
                        json.loads(message.body)))
    return got


@pytest.fixture
def ledger_url(make_database):
    return make_database("ledger")


@pytest.fixture
def amqp(make_vhost):
    return make_vhost("relay")


@pytest.fixture
def ledger(ledger_url):
    intake = CaseLedger(ledger_url, owner="intake")
    yield intake
    intake.close()


@pytest.fixture
def make_relay(ledger_url, amqp):
    """Factory of relays on this test's ledger and vhost; closes what they opened."""
    readers = []

    def make():
        readers.append(CaseLedger(ledger_url, owner=None))
        return Relay(readers[-1], ledger_url, amqp, EXCHANGE)

    yield make
    for reader in readers:
        reader.close()


@pytest.fixture
def verification_ledger(ledger_url):
    verification = CaseLedger(ledger_url, owner="verification")
    yield verification
    verification.close()


def test_committed_events_reach_every_service_queue_in_order_with_case_version_ids(
    ledger, verification_ledger, make_relay, amqp
):
    case = submit(ledger)
    case.endorse_by_province(actor=PROVINCE, reason="SAMPLE", rank=1)
    verification_ledger.save_case(case)
    relay = make_relay()
    try:
        assert relay.run_once() == 2
    finally:
        relay.close()
    for service in ("intake", "verification", "review", "publication", "documents", "audit"):
        messages = drain(amqp, service)
        assert [m[0] for m in messages] == [f"{case.id}:1", f"{case.id}:2"], service
        assert [m[1] for m in messages] == ["case.Submitted", "case.ProvinceEndorsed"]
        assert messages[1][2]["payload"] == {"reason": "SAMPLE", "rank": 1}
        assert messages[1][2]["actor"] == PROVINCE


def test_the_position_is_persisted_so_a_new_relay_sends_only_what_is_new(ledger, make_relay, amqp):
    first_case = submit(ledger)
    relay = make_relay()
    assert relay.run_once() == 1
    relay.close()

    second = make_relay()
    try:
        assert second.run_once() == 0
        second_case = submit(ledger)
        assert second.run_once() == 1
    finally:
        second.close()
    assert [m[0] for m in drain(amqp)] == [f"{first_case.id}:1", f"{second_case.id}:1"]


def test_only_one_relay_publishes_at_a_time_and_another_takes_over_when_it_stops(ledger, make_relay, amqp):
    submit(ledger)
    leader, standby = make_relay(), make_relay()
    try:
        assert leader.run_once() == 1
        submit(ledger)
        assert standby.run_once() == 0, "a second relay must not publish while the first leads"
        leader.close()
        assert standby.run_once() == 1
    finally:
        standby.close()
    assert len(drain(amqp)) == 2


def test_a_batch_the_relay_could_not_record_as_sent_is_sent_again(ledger, make_relay, amqp, monkeypatch):
    case = submit(ledger)
    crashing = make_relay()

    def crash(self, position):
        raise ConnectionError("the process died before recording its position")

    monkeypatch.setattr(PositionStore, "set", crash)
    with pytest.raises(ConnectionError):
        crashing.run_once()
    crashing.close()
    monkeypatch.undo()

    again = make_relay()
    try:
        assert again.run_once() == 1
    finally:
        again.close()
    # At-least-once: the consumer sees the event twice and its inbox absorbs the copy.
    assert [m[0] for m in drain(amqp)] == [f"{case.id}:1", f"{case.id}:1"]
