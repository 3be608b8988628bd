"""Events applied a batch at a time: what a batch takes from the queue, what becomes of its
messages when it fails, and the read-model store applying a batch in one transaction
(SQLite here; tests/integration/test_subscriber.py runs it on RabbitMQ and PostgreSQL)."""

import queue

import psycopg
import pytest
import sqlalchemy as sa

from services.intake import readmodels
from shared.infra.messaging import batches
from shared.infra.messaging.batches import Outcome
from shared.infra.readmodels.projection import OutOfOrder
from shared.infra.readmodels.store import ReadModelStore
from tests.samples import integration_event, submitted, withdrawn


def waiting(*items):
    q = queue.Queue()
    for item in items:
        q.put(item)
    return q


def test_a_batch_takes_what_has_arrived_up_to_its_size_in_order():
    q = waiting(*range(7))
    assert batches.take(q, 3) == [0, 1, 2]
    assert batches.take(q, 3) == [3, 4, 5]
    assert batches.take(q, 3) == [6], "what has arrived, without waiting for more"


def test_a_batch_of_size_one_takes_one_at_a_time():
    q = waiting("a", "b")
    assert batches.take(q, 1) == ["a"]
    assert batches.take(q, 1) == ["b"]


class Recorder:
    def __init__(self, error=None):
        self.error, self.calls = error, []

    def run_batch(self, batch):
        self.calls.append(("batch", list(batch)))
        return self.error

    def one_by_one(self, batch):
        self.calls.append(("one by one", list(batch)))

    def acknowledge(self, batch):
        self.calls.append(("ack", list(batch)))

    def requeue(self, batch, error):
        self.calls.append(("requeue", list(batch), error))

    def handle(self, batch):
        return batches.handle(batch, run_batch=self.run_batch, one_by_one=self.one_by_one,
                              acknowledge=self.acknowledge, requeue=self.requeue)


def test_a_batch_applied_whole_acknowledges_every_message():
    r = Recorder()
    assert r.handle(["m1", "m2", "m3"]) is Outcome.APPLIED
    assert r.calls == [("batch", ["m1", "m2", "m3"]), ("ack", ["m1", "m2", "m3"])]


def test_one_message_alone_takes_the_one_by_one_path_and_is_not_run_as_a_batch():
    r = Recorder()
    assert r.handle(["m1"]) is Outcome.ONE_BY_ONE
    assert r.calls == [("one by one", ["m1"])]


@pytest.mark.parametrize("error", [
    OutOfOrder("case c: got version 2, expected 1"),
    KeyError("Bogus"),
    sa.exc.IntegrityError("INSERT INTO processed_events", {}, Exception("duplicate key")),
], ids=["out of order", "poison", "concurrent duplicate"])
def test_a_batch_that_fails_is_applied_one_by_one_and_nothing_acknowledged_for_it(error):
    r = Recorder(error)
    assert r.handle(["m1", "m2", "m3"]) is Outcome.ONE_BY_ONE
    assert r.calls == [("batch", ["m1", "m2", "m3"]), ("one by one", ["m1", "m2", "m3"])]


@pytest.mark.parametrize("error", [
    sa.exc.OperationalError("SELECT", {}, psycopg.OperationalError("connection refused")),
    ConnectionResetError("reset by peer"),
], ids=["database", "socket"])
def test_a_batch_that_meets_an_outage_goes_back_to_the_queue_whole(error):
    r = Recorder(error)
    assert r.handle(["m1", "m2"]) is Outcome.OUTAGE
    assert r.calls == [("batch", ["m1", "m2"]), ("requeue", ["m1", "m2"], error)]


def test_an_outage_behind_another_error_is_still_an_outage():
    try:
        try:
            raise ConnectionRefusedError("refused")
        except ConnectionRefusedError as exc:
            raise RuntimeError("projection failed") from exc
    except RuntimeError as exc:
        assert batches.outcome(exc) is Outcome.OUTAGE
    assert batches.outcome(None) is Outcome.APPLIED


# --------------------------------------------------------------------------- the store


@pytest.fixture
def store(tmp_path):
    store = ReadModelStore(f"sqlite:///{tmp_path}/intake.db", readmodels.metadata)
    commits = []
    sa.event.listen(store.engine, "commit", lambda conn: commits.append(1))
    store.commits = commits
    yield store
    store.dispose()


def cases(store) -> dict:
    with store.session() as session:
        return {c.case_id: (c.state, c.version) for c in session.execute(sa.select(readmodels.applicant_cases))}


def test_a_batch_is_applied_in_one_transaction_each_event_in_its_order(store):
    events = [submitted("a"), submitted("b"), withdrawn("a"), withdrawn("b"), submitted("c")]
    assert store.apply_batch(events, readmodels.project) == []
    assert len(store.commits) == 1
    assert cases(store) == {"a": ("withdrawn", 2), "b": ("withdrawn", 2), "c": ("submitted", 1)}
    assert store.processed_count() == 5


def test_a_batch_skips_and_returns_what_was_applied_before_or_repeats_in_it(store):
    assert store.apply_once(submitted("a"), readmodels.project)
    again = [submitted("a"), submitted("b"), submitted("b"), withdrawn("a")]
    skipped = store.apply_batch(again, readmodels.project)
    assert [e["message_id"] for e in skipped] == ["a:1", "b:1"]
    assert cases(store) == {"a": ("withdrawn", 2), "b": ("submitted", 1)}
    assert store.processed_count() == 3

    commits = len(store.commits)
    assert [e["message_id"] for e in store.apply_batch(again, readmodels.project)] == ["a:1", "b:1", "b:1", "a:2"]
    assert len(store.commits) == commits + 1
    assert cases(store) == {"a": ("withdrawn", 2), "b": ("submitted", 1)}, "a redelivered batch changes nothing"
    assert store.processed_count() == 3


@pytest.mark.parametrize("bad", [
    integration_event("p", 1, "Bogus", {}),
    withdrawn("p"),  # its predecessor has not been applied
], ids=["poison", "out of order"])
def test_a_batch_with_an_event_that_cannot_be_applied_writes_nothing(store, bad):
    with pytest.raises((KeyError, ValueError, OutOfOrder)):
        store.apply_batch([submitted("a"), bad, submitted("b")], readmodels.project)
    assert cases(store) == {}
    assert store.processed_count() == 0
