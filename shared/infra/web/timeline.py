"""How a case's timeline is shown over HTTP (shared.application.timeline says what each reader sees):
the same shape from intake (applicant, ministry) and verification (city, province)."""

from marshmallow import Schema, fields


class TimelineWhoSchema(Schema):
    role = fields.String(required=True, allow_none=True)
    org = fields.String(required=True, allow_none=True, metadata={"description": "null where it is hidden from you"})
    sub = fields.String(required=True, allow_none=True, metadata={"description": "null where it is hidden from you"})


class TimelineEventSchema(Schema):
    sequence = fields.Integer(required=True, metadata={"description": "the case's version after this event"})
    recorded_at = fields.String(required=True)
    type = fields.String(required=True, metadata={
        "description": "the event type (Submitted, ReturnedForCorrection, ...)"})
    who = fields.Nested(TimelineWhoSchema, required=True)
    summary = fields.Dict(required=True, metadata={
        "description": "what the event recorded that you may read (shared.application.timeline.SHOWN)"})


class TimelineSchema(Schema):
    case_id = fields.String(required=True)
    version = fields.Integer(required=True)
    events = fields.List(fields.Nested(TimelineEventSchema), required=True)
