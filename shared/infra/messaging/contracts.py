"""Integration events: what crosses RabbitMQ, one message per stored ledger event.

The body is the event as an auditor reads it (see shared.infra.ledger.RecordedEvent);
the message id is `<stream id>:<version>`, which is also what consumers record to
make redelivery harmless. The routing key is `<stream kind>.<event type>`
(`case.Submitted`, `call.CallAmended`, `allocation.PlaceTaken`), so a service
binds only the kinds of stream it projects. `case_id` names the stream's id
whatever its kind: most streams are cases, and consumers key on it.
"""

from __future__ import annotations

from marshmallow import Schema, fields, validate

STREAMS = ("case", "call", "allocation", "panel", "dossier", "publiclist")


class IntegrationEventSchema(Schema):
    message_id = fields.String(required=True)
    stream = fields.String(load_default="case", validate=validate.OneOf(STREAMS))
    case_id = fields.UUID(required=True)
    version = fields.Integer(required=True, strict=True)
    type = fields.String(required=True)
    timestamp = fields.String(required=True)
    actor = fields.Dict(required=True)
    payload = fields.Dict(required=True)
    notification_id = fields.Integer(required=True, allow_none=True)


def message_id(case_id: str, version: int) -> str:
    return f"{case_id}:{version}"


def routing_key(stream: str, event_type: str) -> str:
    return f"{stream}.{event_type}"
