"""A service's event subscription on real RabbitMQ and a real PostgreSQL read model:
redelivery changes nothing, out-of-order events wait for their predecessor, and a
message nobody can process is parked with its reason."""

import json
import time
import uuid

import pytest
import sqlalchemy as sa
from kombu import Connection, Producer
from nameko.testing.services import entrypoint_waiter

from services.intake import readmodels
from services.intake.service import IntakeService
from shared import topology
from shared.config import Settings, sqlalchemy_url
from shared.contracts import message_id
from shared.parked import list_parked, replay_parked
from tests.infra import wait_for

pytestmark = pytest.mark.integration

EXCHANGE = "ledger.events"
APPLICANT = {"sub": "u", "role": "applicant", "org": "91420100MA4K0000X0"}


def integration_event(case_id: str, version: int, event_type: str, payload: dict) -> dict:
    return {
        "message_id": message_id(case_id, version), "case_id": case_id, "version": version,
        "type": event_type, "timestamp": f"2025-06-0{version}T08:00:00+00:00", "actor": APPLICANT,
        "payload": payload, "notification_id": None,
    }


def submitted(case_id: str) -> dict:
    return integration_event(case_id, 1, "Submitted", {
        "call_id": "sample", "call_version": 1, "program": "signature_product", "direction": "酶制剂",
        "applicant": {"credit_code": APPLICANT["org"], "name": "SAMPLE unit"}, "province": "420000",
        "city": None, "chain": ["province"], "public_notice_required": True, "title": "SAMPLE product",
        "application": {},
    })


def withdrawn(case_id: str) -> dict:
    return integration_event(case_id, 2, "Withdrawn", {"reason": "SAMPLE"})


def publish(amqp_uri: str, event: dict) -> None:
    with Connection(amqp_uri, transport_options={"confirm_publish": True}) as conn:
        Producer(conn.channel()).publish(
            json.dumps(event), exchange=topology.ledger_exchange(EXCHANGE),
            routing_key=f"case.{event['type']}", content_type="application/json",
            message_id=event["message_id"], delivery_mode=2,
        )


@pytest.fixture
def intake(container_factory, make_database, make_vhost, tmp_path):
    amqp = make_vhost("subscriber")
    readmodel_url = make_database("intake_rm")
    settings = Settings.from_env({
        "CASEPLATFORM_DATA_DIR": str(tmp_path), "LEDGER_URL": f"sqlite:///{tmp_path}/ledger.db",
        "READMODEL_URL": readmodel_url, "AMQP_URI": amqp, "JWT_SECRET": "x" * 48,
        "MAX_DELIVERY_ATTEMPTS": "3",
    })
    config = settings.nameko_config("intake")
    config["WEB_SERVER_ADDRESS"] = "127.0.0.1:0"
    container = container_factory(IntakeService, config)
    container.start()
    engine = sa.create_engine(sqlalchemy_url(readmodel_url))
    yield container, amqp, engine
    engine.dispose()


def rows(engine, case_id: str):
    with engine.connect() as conn:
        cases = conn.execute(sa.select(readmodels.applicant_cases).where(
            readmodels.applicant_cases.c.case_id == case_id)).all()
        processed = conn.execute(sa.text(
            "SELECT message_id FROM processed_events WHERE message_id LIKE :p ORDER BY message_id"
        ), {"p": f"{case_id}:%"}).scalars().all()
    return cases, processed


def test_the_same_event_delivered_twice_changes_the_read_model_once(intake):
    container, amqp, engine = intake
    case_id = str(uuid.uuid4())
    for _ in range(2):
        with entrypoint_waiter(container, "on_case_event", timeout=10):
            publish(amqp, submitted(case_id))
    for _ in range(2):
        with entrypoint_waiter(container, "on_case_event", timeout=10):
            publish(amqp, withdrawn(case_id))

    cases, processed = rows(engine, case_id)
    assert len(cases) == 1
    assert (cases[0].state, cases[0].version) == ("withdrawn", 2)
    assert processed == [f"{case_id}:1", f"{case_id}:2"]


def test_an_event_that_arrives_before_its_predecessor_is_applied_after_it(intake):
    container, amqp, engine = intake
    case_id = str(uuid.uuid4())
    publish(amqp, withdrawn(case_id))  # version 2 first: it goes to the retry queue
    time.sleep(0.3)
    publish(amqp, submitted(case_id))
    cases = wait_for(lambda: [c for c in rows(engine, case_id)[0] if c.version == 2], timeout=15)
    assert cases and cases[0].state == "withdrawn"
    assert rows(engine, case_id)[1] == [f"{case_id}:1", f"{case_id}:2"]


def test_a_message_that_cannot_be_processed_is_parked_with_its_reason_after_bounded_retries(intake):
    container, amqp, engine = intake
    case_id = str(uuid.uuid4())
    poison = integration_event(case_id, 1, "Bogus", {})
    publish(amqp, poison)

    def parked():
        with Connection(amqp) as conn:
            queue = topology.service_queues("intake", EXCHANGE)[2](conn.channel())
            message = queue.get(no_ack=True)
            return message

    message = wait_for(parked, timeout=20)
    assert message is not None, "the poison message was not parked"
    assert message.properties["message_id"] == poison["message_id"]
    assert message.headers["x-attempts"] == 3
    assert "Bogus" in message.headers["x-error"]
    assert json.loads(message.body)["type"] == "Bogus"
    assert rows(engine, case_id) == ([], [])

    # The consumer went on: the next event is processed normally.
    good = str(uuid.uuid4())
    with entrypoint_waiter(container, "on_case_event", timeout=10):
        publish(amqp, submitted(good))
    assert rows(engine, good)[1] == [f"{good}:1"]


def test_a_parked_event_replayed_by_the_operator_after_its_cause_is_mended_is_applied(intake):
    container, amqp, engine = intake
    case_id = str(uuid.uuid4())
    publish(amqp, withdrawn(case_id))  # its predecessor never came: parked after 3 attempts
    parked = wait_for(lambda: list_parked(amqp, "intake", EXCHANGE), timeout=20)
    assert [p["message_id"] for p in parked] == [f"{case_id}:2"]
    assert "expected 1" in parked[0]["error"]
    assert list_parked(amqp, "intake", EXCHANGE) == parked, "listing leaves the messages parked"

    with entrypoint_waiter(container, "on_case_event", timeout=10):
        publish(amqp, submitted(case_id))  # the cause is mended
    assert replay_parked(amqp, "intake", EXCHANGE) == 1
    cases = wait_for(lambda: [c for c in rows(engine, case_id)[0] if c.version == 2], timeout=15)
    assert cases and cases[0].state == "withdrawn"
    assert list_parked(amqp, "intake", EXCHANGE) == []
