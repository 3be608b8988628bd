"""The services' queues as quorum queues on the real broker: a message that keeps killing its
consumer ends parked with its reason, and an older broker's classic queues are upgraded with
their messages kept.

A consumer that dies with a message in hand is played by a connection closed without
acknowledging it, which is what the broker sees of a process killed mid-handler.
"""

from __future__ import annotations

import contextlib
import json
import subprocess
import time

import pytest
from kombu import Connection, Producer, Queue

from shared.infra.messaging import topology
from shared.infra.messaging.parked import list_parked, replay_parked
from shared.infra.messaging.upgrade import upgrade_queues
from tests.infra import wait_for

pytestmark = pytest.mark.integration

EXCHANGE = "ledger.quorum"


@pytest.fixture
def amqp_uri(make_vhost):
    return make_vhost("quorum")


def queue_types(amqp_uri: str) -> dict[str, str]:
    vhost = amqp_uri.rsplit("/", 1)[1]
    listed = subprocess.run(["rabbitmqctl", "-q", "list_queues", "-p", vhost, "name", "type", "--no-table-headers"],
                            capture_output=True, text=True, check=True, timeout=60).stdout
    return dict(line.split("\t") for line in listed.splitlines() if "\t" in line)


def publish(amqp_uri: str, routing_key: str, message_id: str, exchange: str = "", headers=None) -> None:
    with Connection(amqp_uri, transport_options={"confirm_publish": True}) as conn:
        Producer(conn.channel()).publish(json.dumps({"message_id": message_id}), exchange=exchange,
                                         routing_key=routing_key, message_id=message_id, headers=headers or {},
                                         content_type="application/json", delivery_mode=2)


def taken_and_dropped(amqp_uri: str, queue: str):
    """Takes the next message of `queue` and closes the connection without acknowledging it."""
    with Connection(amqp_uri) as conn:
        [message] = topology.take(conn, queue, most=1, idle=10)
        return message


def taken_ids(amqp_uri: str, queue: str, **kwargs) -> list[str]:
    with Connection(amqp_uri) as conn:
        messages = topology.take(conn, queue, **kwargs)
        for message in messages:
            message.ack()
        return [m.properties["message_id"] for m in messages]


def test_every_queue_of_every_service_is_a_quorum_queue(amqp_uri):
    with Connection(amqp_uri) as conn:
        topology.declare(conn.channel(), EXCHANGE)
    types = queue_types(amqp_uri)
    expected = {q.name for s in topology.SUBSCRIPTIONS for q in topology.service_queues(s, EXCHANGE)}
    assert {name: types.get(name) for name in expected} == {name: "quorum" for name in expected}


def test_a_message_that_keeps_killing_its_consumer_is_parked_with_the_reason_and_replayed_afresh(amqp_uri):
    with Connection(amqp_uri) as conn:
        topology.declare(conn.channel(), EXCHANGE, services=["audit"])
    main = topology.queue_name("audit")
    publish(amqp_uri, "case.SAMPLE", "SAMPLE-killer", exchange=EXCHANGE)

    counts = [taken_and_dropped(amqp_uri, main).headers.get("x-delivery-count", 0)
              for _ in range(topology.DELIVERY_LIMIT + 1)]
    assert counts == list(range(topology.DELIVERY_LIMIT + 1)), "redelivered, counted by the broker"

    parked = wait_for(lambda: list_parked(amqp_uri, "audit", EXCHANGE), timeout=10)
    assert [p["message_id"] for p in parked] == ["SAMPLE-killer"], "parked, not dropped"
    assert "without being acknowledged" in parked[0]["error"] and main in parked[0]["error"]
    assert taken_ids(amqp_uri, main) == [], "not looping in its queue"

    assert replay_parked(amqp_uri, "audit", EXCHANGE) == 1
    again = taken_and_dropped(amqp_uri, main)
    assert again.properties["message_id"] == "SAMPLE-killer" and again.headers.get("x-delivery-count", 0) == 0


def test_classic_queues_of_an_older_release_are_upgraded_with_their_messages(amqp_uri):
    main, retry, parked = (topology.queue_name("review") + suffix for suffix in ("", ".retry", ".parked"))
    with Connection(amqp_uri) as conn:
        # the older release's topology: classic queues, the main one dead-lettering to retry
        topology.ledger_exchange(EXCHANGE)(conn.channel()).declare()
        Queue(main, exchange=topology.ledger_exchange(EXCHANGE), routing_key="case.#", durable=True,
              queue_arguments={"x-dead-letter-exchange": "", "x-dead-letter-routing-key": retry})(
            conn.channel()).declare()
        Queue(retry, durable=True, queue_arguments={"x-message-ttl": 3_600_000, "x-dead-letter-exchange": "",
                                                    "x-dead-letter-routing-key": main})(conn.channel()).declare()
        Queue(parked, durable=True)(conn.channel()).declare()
        with pytest.raises(Exception, match="PRECONDITION_FAILED"):
            topology.declare(conn.channel(), EXCHANGE, services=["review"])
    for n in (1, 2):
        publish(amqp_uri, "case.SAMPLE", f"SAMPLE-queued-{n}", exchange=EXCHANGE)
    publish(amqp_uri, retry, "SAMPLE-retrying")
    publish(amqp_uri, parked, "SAMPLE-parked", headers={"x-error": "SAMPLE failure", "x-attempts": 5})

    assert upgrade_queues(amqp_uri, EXCHANGE, services=["review"]) == {"review": 4}
    assert upgrade_queues(amqp_uri, EXCHANGE, services=["review"]) == {}, "a second run finds nothing to do"

    types = queue_types(amqp_uri)
    assert [types[q] for q in (main, retry, parked)] == ["quorum"] * 3
    assert not any(name.endswith(".upgrading") for name in types)
    with Connection(amqp_uri) as conn:
        topology.declare(conn.channel(), EXCHANGE, services=["review"])  # as a service starting: accepted now
    assert taken_ids(amqp_uri, main) == ["SAMPLE-queued-1", "SAMPLE-queued-2", "SAMPLE-retrying"]
    assert [(p["message_id"], p["error"]) for p in list_parked(amqp_uri, "review", EXCHANGE)] == [
        ("SAMPLE-parked", "SAMPLE failure")]
    publish(amqp_uri, "case.SAMPLE", "SAMPLE-after", exchange=EXCHANGE)
    assert taken_ids(amqp_uri, main, idle=5) == ["SAMPLE-after"], "still bound to the exchange"



def drain(conn: Connection, received: list, count: int, timeout: float = 10.0) -> list:
    """Delivers `conn`'s messages until `received` holds `count` of them or `timeout` passes."""
    deadline = time.monotonic() + timeout
    while len(received) < count and time.monotonic() < deadline:
        with contextlib.suppress(TimeoutError):
            conn.drain_events(timeout=0.2)
    return received


def test_one_process_of_a_service_consumes_at_a_time_and_a_standby_takes_over_when_it_goes(amqp_uri):
    """Single active consumer: a case's events stay in one process's hands, in order."""
    with Connection(amqp_uri) as conn:
        topology.declare(conn.channel(), EXCHANGE, services=["intake"])
    main = topology.queue_name("intake")
    got: dict[str, list[str]] = {"active": [], "standby": []}
    active, standby = Connection(amqp_uri), Connection(amqp_uri)
    try:
        for name, conn in (("active", active), ("standby", standby)):
            channel = conn.channel()
            channel.basic_qos(0, 100, False)
            channel.basic_consume(main, callback=lambda m, name=name: got[name].append(m.properties["message_id"]))
        ids = [f"SAMPLE-{n}" for n in range(1, 4)]
        for message_id in ids:
            publish(amqp_uri, "case.SAMPLE", message_id, exchange=EXCHANGE)
        assert drain(active, got["active"], 3) == ids
        assert drain(standby, got["standby"], 1, timeout=1) == [], "the standby gets nothing while the other lives"
        active.close()  # it dies, nothing acknowledged
        assert drain(standby, got["standby"], 3) == ids, "the standby has them, in order"
    finally:
        active.close()
        standby.close()
