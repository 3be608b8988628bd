"""A service's event subscription on real RabbitMQ and a real PostgreSQL read model:
redelivery changes nothing, out-of-order events wait for their predecessor, and a
message nobody can process is parked with its reason.

Every event published here is one the service's ledger holds (a SAMPLE case saved to it,
its envelopes made as the relay makes them): the subscriber applies nothing else
(tests/e2e/test_forged_messages.py shows the rest parked)."""

import json
import logging
import time

import pytest
import sqlalchemy as sa
from kombu import Connection, Producer
from nameko.testing.services import entrypoint_waiter

from services.intake import readmodels
from services.intake.service import IntakeService
from shared.infra.config import Settings, sqlalchemy_url
from shared.infra.ledger import CaseLedger
from shared.infra.messaging import topology
from shared.infra.messaging.contracts import integration_event
from shared.infra.messaging.parked import list_parked, replay_parked
from tests.infra import wait_for
from tests.unit.parties import APPLICANT
from tests.unit.test_contracts import submitted_case

pytestmark = pytest.mark.integration

EXCHANGE = "ledger.events"
def publish(amqp_uri: str, event: dict) -> None:
    with Connection(amqp_uri, transport_options={"confirm_publish": True}) as conn:
        Producer(conn.channel()).publish(
            json.dumps(event), exchange=topology.ledger_exchange(EXCHANGE),
            routing_key=f"case.{event['type']}", content_type="application/json",
            message_id=event["message_id"], delivery_mode=2,
        )


POISONED: set[str] = set()


class PoisonedIntake(IntakeService):
    """intake whose projection fails on the cases in POISONED, as a bug would: a real
    event of the ledger that cannot be processed."""

    @staticmethod
    def project(session, event):
        if event["stream_id"] in POISONED:
            raise RuntimeError("SAMPLE poison: this case cannot be projected")
        readmodels.project(session, event)


class IntakeSystem:
    """intake's vhost and read-model database, its topology declared: events published before
    a container starts wait in its queue, and arrive together."""

    def __init__(self, container_factory, amqp: str, readmodel_url: str, tmp_path):
        self.container_factory, self.amqp, self.readmodel_url, self.tmp_path = (
            container_factory, amqp, readmodel_url, tmp_path)
        with Connection(amqp) as conn:
            topology.declare(conn.channel(), EXCHANGE, services=["intake"])
        self.engine = sa.create_engine(sqlalchemy_url(readmodel_url))
        self.ledger_url = f"sqlite:///{tmp_path}/ledger.db"
        self.ledger = CaseLedger(self.ledger_url, owner="intake")

    def case(self) -> tuple[str, dict, dict]:
        """A SAMPLE case submitted then withdrawn, stored in the ledger: its id and the envelopes
        of its two events, as the relay publishes them."""
        case = submitted_case()
        case.withdraw(actor={**APPLICANT, "org": case.applicant["credit_code"]}, reason="SAMPLE")
        self.ledger.save_case(case)
        first, second = (integration_event(e, None) for e in self.ledger.events.get(case.id))
        return str(case.id), first, second

    def start(self, batch_size: int = 50, service=None):
        settings = Settings.from_env({
            "CASEPLATFORM_DATA_DIR": str(self.tmp_path), "LEDGER_URL": self.ledger_url,
            "READMODEL_URL": self.readmodel_url, "AMQP_URI": self.amqp,
            "MAX_DELIVERY_ATTEMPTS": "3", "PROJECTION_BATCH_SIZE": str(batch_size),
            # The test delivers the ledger's events itself, in the order and number it chooses.
            "RELAY_IN_PROCESS": "false",
        })
        config = settings.nameko_config("intake")
        config["WEB_SERVER_ADDRESS"] = "127.0.0.1:0"
        container = self.container_factory(service or PoisonedIntake, config)
        container.start()
        return container


@pytest.fixture
def intake_system(container_factory, make_database, make_vhost, tmp_path):
    system = IntakeSystem(container_factory, make_vhost("subscriber"), make_database("intake_rm"), tmp_path)
    yield system
    system.engine.dispose()
    system.ledger.close()


@pytest.fixture(params=[50, 1], ids=["in-batches", "one-by-one"])
def intake(request, intake_system):
    """A running intake, its subscriber in batches (the default) or with PROJECTION_BATCH_SIZE=1."""
    container = intake_system.start(request.param)
    return container, intake_system.amqp, intake_system.engine, intake_system


def rows(engine, case_id: str):
    with engine.connect() as conn:
        cases = conn.execute(sa.select(readmodels.applicant_cases).where(
            readmodels.applicant_cases.c.case_id == case_id)).all()
        processed = conn.execute(sa.text(
            "SELECT message_id FROM processed_events WHERE message_id LIKE :p ORDER BY message_id"
        ), {"p": f"{case_id}:%"}).scalars().all()
    return cases, processed


def test_the_same_event_delivered_twice_changes_the_read_model_once(intake):
    container, amqp, engine, system = intake
    case_id, submitted, withdrawn = system.case()
    for _ in range(2):
        with entrypoint_waiter(container, "on_case_event", timeout=10):
            publish(amqp, submitted)
    for _ in range(2):
        with entrypoint_waiter(container, "on_case_event", timeout=10):
            publish(amqp, withdrawn)

    cases, processed = rows(engine, case_id)
    assert len(cases) == 1
    assert (cases[0].state, cases[0].version) == ("withdrawn", 2)
    assert processed == [f"{case_id}:1", f"{case_id}:2"]


def test_events_queued_in_the_older_envelope_before_an_upgrade_are_applied(intake):
    """Relays before `stream_id` sent `case_id` as the stream's id, and no `stream` for a case."""
    container, amqp, engine, system = intake
    case_id, submitted, withdrawn = system.case()
    for event in (submitted, withdrawn):
        older = {key: value for key, value in event.items() if key not in ("stream", "stream_id")}
        with entrypoint_waiter(container, "on_case_event", timeout=10):
            publish(amqp, older)

    cases, processed = rows(engine, case_id)
    assert [(c.state, c.version) for c in cases] == [("withdrawn", 2)]
    assert processed == [f"{case_id}:1", f"{case_id}:2"]
    assert list_parked(amqp, "intake", EXCHANGE) == []


def test_an_event_that_arrives_before_its_predecessor_is_applied_after_it(intake):
    _, amqp, engine, system = intake
    case_id, submitted, withdrawn = system.case()
    publish(amqp, withdrawn)  # version 2 first: it goes to the retry queue
    time.sleep(0.3)
    publish(amqp, submitted)
    cases = wait_for(lambda: [c for c in rows(engine, case_id)[0] if c.version == 2], timeout=15)
    assert cases and cases[0].state == "withdrawn"
    assert rows(engine, case_id)[1] == [f"{case_id}:1", f"{case_id}:2"]


def test_a_message_that_cannot_be_processed_is_parked_with_its_reason_after_bounded_retries(intake):
    container, amqp, engine, system = intake
    case_id, poison, _ = system.case()
    POISONED.add(case_id)
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
    assert "SAMPLE poison" in message.headers["x-error"]
    assert json.loads(message.body)["message_id"] == poison["message_id"]
    assert rows(engine, case_id) == ([], [])

    # The consumer went on: the next event is processed normally.
    good, submitted, _ = system.case()
    with entrypoint_waiter(container, "on_case_event", timeout=10):
        publish(amqp, submitted)
    assert rows(engine, good)[1] == [f"{good}:1"]


def test_a_parked_event_replayed_by_the_operator_after_its_cause_is_mended_is_applied(intake):
    container, amqp, engine, system = intake
    case_id, submitted, withdrawn = system.case()
    publish(amqp, withdrawn)  # its predecessor never came: parked after 3 attempts
    parked = wait_for(lambda: list_parked(amqp, "intake", EXCHANGE), timeout=20)
    assert [p["message_id"] for p in parked] == [f"{case_id}:2"]
    assert "expected 1" in parked[0]["error"]
    assert list_parked(amqp, "intake", EXCHANGE) == parked, "listing leaves the messages parked"

    with entrypoint_waiter(container, "on_case_event", timeout=10):
        publish(amqp, submitted)  # the cause is mended
    assert replay_parked(amqp, "intake", EXCHANGE) == 1
    cases = wait_for(lambda: [c for c in rows(engine, case_id)[0] if c.version == 2], timeout=15)
    assert cases and cases[0].state == "withdrawn"
    assert list_parked(amqp, "intake", EXCHANGE) == []


# ------------------------------------------------------------------ events arriving together


def burst(system, n: int) -> tuple[list[str], list[dict], dict[str, str]]:
    """n cases' two events each, as the relay would publish them: each case's in version
    order; their ids, the events, and each case's Withdrawn time."""
    cases = [system.case() for _ in range(n)]
    ids = [c for c, _, _ in cases]
    events = [s for _, s, _ in cases] + [w for _, _, w in cases]
    return ids, events, {c: w["timestamp"] for c, _, w in cases}


def processed_rows(engine) -> dict[str, object]:
    """message id -> processed_at: PostgreSQL's now(), the start of the transaction that applied it."""
    with engine.connect() as conn:
        return dict(conn.execute(sa.text("SELECT message_id, processed_at FROM processed_events")).all())


def applicant_cases(engine) -> dict[str, tuple]:
    with engine.connect() as conn:
        return {c.case_id: (c.state, c.version, c.updated_at)
                for c in conn.execute(sa.select(readmodels.applicant_cases)).all()}


def test_a_burst_of_events_is_applied_once_each_in_fewer_transactions_than_events(intake_system):
    cases, events, withdrawn_at = burst(intake_system, 12)
    for event in events:
        publish(intake_system.amqp, event)
    intake_system.start()

    ids = {e["message_id"] for e in events}
    assert wait_for(lambda: set(processed_rows(intake_system.engine)) == ids, timeout=30)
    transactions = set(processed_rows(intake_system.engine).values())
    assert len(transactions) < len(events), "each event had a transaction of its own"
    assert applicant_cases(intake_system.engine) == {
        c: ("withdrawn", 2, withdrawn_at[c]) for c in cases
    }, "every case's two events applied once, in order"


def test_a_poison_event_in_the_middle_of_a_burst_is_parked_alone_and_its_neighbours_applied(
    intake_system, caplog
):
    caplog.set_level(logging.INFO, logger="shared.infra.messaging.subscriber")
    _, before_events, before_at = burst(intake_system, 4)
    _, after_events, after_at = burst(intake_system, 4)
    poisoned, poison, _ = intake_system.case()
    POISONED.add(poisoned)
    events = [*before_events, poison, *after_events]
    for event in events:
        publish(intake_system.amqp, event)
    intake_system.start()

    parked = wait_for(lambda: list_parked(intake_system.amqp, "intake", EXCHANGE), timeout=30)
    assert [(p["message_id"], p["attempts"]) for p in parked] == [(poison["message_id"], 3)]
    assert "SAMPLE poison" in parked[0]["error"]
    good = {e["message_id"] for e in events} - {poison["message_id"]}
    assert wait_for(lambda: set(processed_rows(intake_system.engine)) == good, timeout=30)
    assert applicant_cases(intake_system.engine) == {
        c: ("withdrawn", 2, at) for c, at in {**before_at, **after_at}.items()
    }
    assert "not applied whole" in caplog.text, "the poison met its neighbours in a batch"
    assert caplog.text.count(f"{poison['message_id']} failed, attempt") == 2, "its attempts are its own"


def test_a_redelivered_batch_changes_nothing(intake_system, caplog):
    caplog.set_level(logging.INFO, logger="shared.infra.service_base")
    _, events, _ = burst(intake_system, 6)
    for event in events:
        publish(intake_system.amqp, event)
    first = intake_system.start()
    assert wait_for(lambda: len(processed_rows(intake_system.engine)) == len(events), timeout=30)
    applied = processed_rows(intake_system.engine), applicant_cases(intake_system.engine)
    first.stop()

    # The same events again, waiting together for the next start (a relay re-sending its batch).
    for event in events:
        publish(intake_system.amqp, event)
    intake_system.start()
    absorbed = lambda: caplog.text.count("already applied: redelivery absorbed")  # noqa: E731
    assert wait_for(lambda: absorbed() == len(events), timeout=30), absorbed()
    assert (processed_rows(intake_system.engine), applicant_cases(intake_system.engine)) == applied
