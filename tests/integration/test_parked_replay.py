"""An operator puts back the parked messages it chose, by message id; the others stay parked, in order.

Real RabbitMQ (this session's own vhost); the messages are parked directly, as the
subscriber parks them (tests/integration/test_subscriber.py shows how one gets there).
"""

import json

import pytest
from kombu import Connection, Producer

from shared.infra.messaging import topology
from shared.infra.messaging.parked import list_parked, replay_parked

pytestmark = pytest.mark.integration

EXCHANGE = "ledger.parked-replay"


def park(amqp_uri: str, service: str, message_ids: list[str]) -> None:
    with Connection(amqp_uri, transport_options={"confirm_publish": True}) as conn:
        topology.declare(conn.channel(), EXCHANGE, services=[service])
        parked_queue = topology.service_queues(service, EXCHANGE)[2].name
        producer = Producer(conn.channel())
        for mid in message_ids:
            producer.publish(json.dumps({"message_id": mid}), exchange="", routing_key=parked_queue,
                             message_id=mid, headers={"x-error": f"SAMPLE failure of {mid}", "x-attempts": 5},
                             content_type="application/json", delivery_mode=2)


def queued_ids(amqp_uri: str, queue_name: str) -> list[str]:
    """Takes every message off `queue_name` (acknowledged) and returns their message ids in order."""
    ids = []
    with Connection(amqp_uri) as conn:
        queue = conn.SimpleQueue(queue_name, no_ack=True, queue_opts={"no_declare": True})
        while True:
            try:
                ids.append(queue.get(block=True, timeout=0.5).properties["message_id"])
            except queue.Empty:
                return ids


@pytest.fixture
def amqp_uri(make_vhost):
    """A vhost of this test's own: the session's holds what other tests' services parked."""
    return make_vhost("parked")


def test_only_the_named_messages_go_back_and_the_rest_stay_parked_in_their_order(amqp_uri):
    park(amqp_uri, "review", ["m1", "m2", "m3", "m4"])

    assert replay_parked(amqp_uri, "review", EXCHANGE, {"m2", "m4", "not-parked"}) == 2

    assert [p["message_id"] for p in list_parked(amqp_uri, "review", EXCHANGE)] == ["m1", "m3"]
    assert [p["error"] for p in list_parked(amqp_uri, "review", EXCHANGE)] == [
        "SAMPLE failure of m1", "SAMPLE failure of m3"]
    assert queued_ids(amqp_uri, topology.queue_name("review")) == ["m2", "m4"]


def test_without_ids_every_parked_message_goes_back(amqp_uri):
    park(amqp_uri, "audit", ["a1", "a2"])

    assert replay_parked(amqp_uri, "audit", EXCHANGE) == 2

    assert list_parked(amqp_uri, "audit", EXCHANGE) == []
    assert queued_ids(amqp_uri, topology.queue_name("audit")) == ["a1", "a2"]
