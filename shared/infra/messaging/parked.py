"""Operator tools for parked messages: list them with their errors, and put them back.

A message is parked after `MAX_DELIVERY_ATTEMPTS` failed deliveries, or by the broker once
it was delivered more than `topology.DELIVERY_LIMIT` times unacknowledged. Once the
cause is mended (a missing predecessor arrived, a bug fixed and deployed),
`replay` moves a service's parked messages (all, or the ones named by message id) back
to its queue, with their delivery history cleared so each gets its full number of
attempts again. A message goes back byte for byte: one parked in the older envelope
(`case_id` as every stream's id) is read in that shape by the subscriber's schema
(shared/infra/messaging/contracts.py).
"""

from __future__ import annotations

import json

from kombu import Connection, Producer

from shared.infra.messaging import topology


def _parked_queue(conn: Connection, service: str, exchange: str):
    return topology.service_queues(service, exchange)[2](conn.channel())


def _error(headers: dict) -> str | None:
    """Why a message is parked: the subscriber's error, or the broker's delivery limit."""
    if "x-error" in headers:
        return headers["x-error"]
    for death in headers.get("x-death", []):
        if death.get("reason") == "delivery_limit":
            return (f"delivered {topology.DELIVERY_LIMIT + 1} times without being acknowledged "
                    f"(delivery limit of {death.get('queue')}): its consumer stopped or died with it each time")
    return None


def list_parked(amqp_uri: str, service: str, exchange: str) -> list[dict]:
    """The parked messages, left in place (read, then returned to the queue unacknowledged)."""
    with Connection(amqp_uri) as conn:
        queue = _parked_queue(conn, service, exchange)
        seen, out = [], []
        while (message := queue.get(no_ack=False)) is not None:
            seen.append(message)
            out.append({
                "message_id": message.properties.get("message_id"),
                "error": _error(message.headers or {}),
                "attempts": (message.headers or {}).get("x-attempts"),
                "event": json.loads(message.body),
            })
        for message in seen:
            message.requeue()
    return out


def replay_parked(amqp_uri: str, service: str, exchange: str, message_ids: set[str] | None = None) -> int:
    """Moves the parked messages back to the service's queue (all, or those of `message_ids`); how many.

    Messages not chosen stay parked, in their order: they are held unacknowledged until the end
    and then returned, since a message returned at once would be the next one got again.
    """
    moved = 0
    with Connection(amqp_uri, transport_options={"confirm_publish": True}) as conn:
        queue = _parked_queue(conn, service, exchange)
        producer = Producer(conn.channel())
        main_queue = topology.queue_name(service)
        kept = []
        while (message := queue.get(no_ack=False)) is not None:
            if message_ids is not None and message.properties.get("message_id") not in message_ids:
                kept.append(message)
                continue
            producer.publish(
                message.body, exchange="", routing_key=main_queue,
                content_type=message.content_type or "application/json",
                message_id=message.properties.get("message_id"), delivery_mode=2,
            )
            message.ack()  # only after the broker confirmed the copy
            moved += 1
        for message in kept:
            message.requeue()
    return moved
