"""The outbox relay against a real PostgreSQL ledger and a real RabbitMQ vhost."""

import json
from urllib.parse import urlsplit, urlunsplit

import eventlet
import psycopg
import pytest
from amqp.exceptions import MessageNacked
from kombu import Connection, Queue
from nameko.testing.utils import get_extension

from shared.domain.case import Case
from shared.domain.registration_area import check_registration_area
from shared.infra.config import Settings
from shared.infra.dependencies import RelayRunner
from shared.infra.ledger import CaseLedger
from shared.infra.messaging import topology
from shared.infra.messaging.leadership import PositionStore
from shared.infra.messaging.relay import Relay
from tests.faultproxy import FaultProxy
from tests.infra import wait_for

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
        registration_check=check_registration_area(APPLICANT["org"], "420000", None),
    )
    ledger.save_case(case)
    return case


def drain(amqp_uri: str, service: str = "intake") -> list:
    """Every message waiting in a service's queue, acknowledged, in queue order."""
    got = []
    with Connection(amqp_uri) as conn:
        topology.service_queues(service, EXCHANGE)[0](conn.channel()).declare()
        for message in topology.take(conn, topology.queue_name(service), idle=0.5):
            message.ack()
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


def test_a_relay_taking_the_lead_again_goes_on_from_where_the_other_leader_left_it(ledger, make_relay, amqp):
    """A leader keeps its position in memory while it holds the lock; a new term reads it again."""
    first, second = make_relay(), make_relay()
    try:
        a = submit(ledger)
        assert first.run_once() == 1 and second.run_once() == 0  # first leads, second stands by
        first.leadership.release()  # first loses the lead (its session ended, say)
        b = submit(ledger)
        assert second.run_once() == 1  # second leads now and moves the position past b
        second.leadership.release()
        c = submit(ledger)
        assert first.run_once() == 1  # first leads again: only c is new
        assert [m[0] for m in drain(amqp)] == [f"{a.id}:1", f"{b.id}:1", f"{c.id}:1"]
    finally:
        first.close()
        second.close()


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

    def crash(self, conn, position):
        raise ConnectionError("the process died before recording its position")

    monkeypatch.setattr(PositionStore, "set_on", crash)
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


def through(url: str, proxy: FaultProxy) -> str:
    """`url` reaching its server through the fault proxy."""
    parts = urlsplit(url)
    userinfo = parts.netloc.rpartition("@")[0]
    return urlunsplit(parts._replace(netloc=f"{userinfo}@127.0.0.1:{proxy.port}"))


def proxy_for(url: str, name: str) -> FaultProxy:
    parts = urlsplit(url)
    return FaultProxy(parts.hostname, parts.port, name=name)


def position(relay: Relay) -> int:
    return relay.positions.get()


def test_a_batch_is_confirmed_and_the_position_moves_to_its_last_event(ledger, make_relay, amqp):
    cases = [submit(ledger) for _ in range(5)]
    last = ledger.max_notification_id()
    relay = make_relay()
    relay.batch_size = 2
    try:
        assert [relay.run_once() for _ in range(4)] == [2, 2, 1, 0]
        assert position(relay) == last
        # Every message was published on one confirming channel and the broker confirmed them all.
        assert relay.confirms.published == 5 and not relay.confirms.unconfirmed
    finally:
        relay.close()
    messages = drain(amqp)
    assert [m[0] for m in messages] == [f"{c.id}:1" for c in cases]
    assert {m[1] for m in messages} == {"case.Submitted"}


def test_a_batch_the_broker_refused_leaves_the_position_and_is_sent_again(ledger, make_relay, amqp):
    cases = [submit(ledger) for _ in range(3)]
    # A queue that takes nothing and says so: RabbitMQ nacks what is routed to it.
    full = Queue("ledger.full", exchange=topology.ledger_exchange(EXCHANGE), routing_key="case.#",
                 queue_arguments={"x-max-length": 0, "x-overflow": "reject-publish"})
    relay = make_relay()
    try:
        with Connection(amqp) as conn:
            topology.declare(conn.channel(), EXCHANGE)
            full(conn.channel()).declare()
            with pytest.raises(MessageNacked):
                relay.run_once()
            assert position(relay) == 0
            full(conn.channel()).delete()
        assert relay.run_once() == 3
        assert position(relay) == ledger.max_notification_id()
    finally:
        relay.close()
    # The other queues took the refused batch too: at-least-once, the inboxes absorb the copies.
    ids = [f"{c.id}:1" for c in cases]
    assert [m[0] for m in drain(amqp)] == ids + ids


def test_a_broker_connection_dropped_mid_batch_leaves_the_position_and_the_batch_is_sent_again(
    ledger, ledger_url, amqp
):
    first = submit(ledger)
    reader = CaseLedger(ledger_url, owner=None)
    with proxy_for(amqp, "rabbitmq") as proxy:
        relay = Relay(reader, ledger_url, through(amqp, proxy), EXCHANGE)
        try:
            assert relay.run_once() == 1  # connected, topology declared
            sent = position(relay)
            cases = [submit(ledger) for _ in range(20)]
            proxy.cut_after(3000)  # a few of the twenty messages, then the connection is reset
            with pytest.raises(OSError):  # the socket reset under the publisher (or its confirms)
                relay.run_once()
            assert position(relay) == sent
            proxy.restore()
            assert relay.run_once() == 20
            assert position(relay) == ledger.max_notification_id()
        finally:
            relay.close()
            reader.close()
    ids = [m[0] for m in drain(amqp)]
    batch = [f"{c.id}:1" for c in cases]
    assert ids[0] == f"{first.id}:1"
    assert ids[-20:] == batch, "the whole batch went again, in order"
    assert set(ids[1:]) == set(batch)


def test_the_leader_listens_for_commits_and_polls_while_its_listen_connection_is_down(ledger, ledger_url, amqp):
    with proxy_for(ledger_url, "postgres") as proxy:
        reader = CaseLedger(through(ledger_url, proxy), owner=None)
        relay = Relay(reader, through(ledger_url, proxy), amqp, EXCHANGE,
                      listener_name="caseplatform-test-relay-listen")
        try:
            assert relay.await_commit(30) is False, "no leader yet: nothing to listen for"
            assert relay.run_once() == 0 and relay.leads
            assert relay.await_commit(30) is True  # just connected: back at once to look again

            proxy.cut()
            assert relay.await_commit(30) is False, "the reset is seen at once: the loop polls"
            assert relay.listener.conn is None
            proxy.restore()
            assert relay.run_once() == 0 and relay.leads
            assert relay.await_commit(30) is True  # listening again

            # Committed while the relay waits: the wait yields to eventlet's hub, and the NOTIFY ends it.
            committing = eventlet.spawn(submit, ledger)
            with eventlet.Timeout(10):
                assert relay.await_commit(30) is True
            case = committing.wait()
            assert relay.run_once() == 1
        finally:
            relay.close()
            reader.close()
    assert [m[0] for m in drain(amqp)] == [f"{case.id}:1"]


class WatchedRelayRunner(RelayRunner):
    """The service's relay loop, counting the listener's waits that really wait."""

    def setup(self) -> None:
        super().setup()
        self.waits = {"begun": 0, "ended": 0}
        listener = self.relay.listener
        listen = listener.wait

        def watched(timeout):
            blocking = listener.conn is not None  # not the first call, which connects and returns
            self.waits["begun"] += blocking
            try:
                return listen(timeout)
            finally:
                self.waits["ended"] += blocking

        listener.wait = watched


class RelayOnly:
    name = "intake"
    relay = WatchedRelayRunner()


def test_an_idle_leader_publishes_a_commit_at_once_with_a_poll_interval_of_thirty_seconds(
    ledger, ledger_url, amqp, container_factory, tmp_path
):
    settings = Settings.from_env({
        "CASEPLATFORM_DATA_DIR": str(tmp_path), "LEDGER_URL": ledger_url, "AMQP_URI": amqp,
        "RELAY_POLL_INTERVAL": "30",
    })
    container = container_factory(RelayOnly, settings.nameko_config("intake"))
    container.start()
    waits = get_extension(container, WatchedRelayRunner).waits
    # The loop sits in its 30 s wait while this greenthread goes on: the hub is not blocked.
    assert wait_for(lambda: waits["begun"] > waits["ended"], timeout=10), "the idle leader waits for a commit"
    with psycopg.connect(ledger_url, autocommit=True) as conn:
        names = [row[0] for row in conn.execute(
            "SELECT application_name FROM pg_stat_activity WHERE datname = current_database()")]
    assert names.count("caseplatform-intake-relay-listen") == 1, names
    with Connection(amqp) as conn:
        topology.declare(conn.channel(), EXCHANGE)  # as the services do before consuming
    case = submit(ledger)
    received = wait_for(lambda: drain(amqp), timeout=10)  # far less than the poll interval
    assert [m[0] for m in received] == [f"{case.id}:1"]
    assert waits["ended"] >= 1, "woken by the commit's NOTIFY"
