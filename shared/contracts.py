"""Integration events: what crosses RabbitMQ, one message per stored case event.

The body is the event as an auditor reads it (see shared.ledger.RecordedEvent);
the message id is `<case id>:<version>`, which is also what consumers record to
make redelivery harmless.
"""

from __future__ import annotations

from marshmallow import Schema, fields

ROUTING_PREFIX = "case."


class IntegrationEventSchema(Schema):
    message_id = fields.String(required=True)
    case_id = fields.UUID(required=True)
    version = fields.Integer(required=True, strict=True)
    type = fields.String(required=True)
    timestamp = fields.String(required=True)
    actor = fields.Dict(required=True)
    payload = fields.Dict(required=True)
    notification_id = fields.Integer(required=True, allow_none=True)


def message_id(case_id: str, version: int) -> str:
    return f"{case_id}:{version}"


def routing_key(event_type: str) -> str:
    return f"{ROUTING_PREFIX}{event_type}"
