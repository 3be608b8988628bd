"""Integration events: what crosses RabbitMQ, one message per stored ledger event.

The envelope, a JSON object (the event as an auditor reads it, shared.infra.ledger.RecordedEvent):

- `message_id`: `<stream id>:<version>`, also what consumers record to make redelivery harmless;
- `stream`: the kind of stream, one of shared.domain.streams (`case`, `call`, `allocation`,
  `panel`, `dossier`, `publiclist`, `calendar`), and `stream_id`, the stream's id: on every event;
- `case_id`: on a case's events only, where it equals `stream_id`. It means a case and only
  a case: a panel's or a list's events do not carry it, so no consumer can take their ids
  for a case's. Case events keep it because every projection of a case keys on it and the
  messages of older relays carry it: a case's consumer reads the same field in both shapes;
- `version`, `type`, `timestamp`, `actor`, `payload`, `notification_id`.

The routing key is `<stream>.<type>` (`case.Submitted`, `call.CallAmended`), looked up in
STREAM_EVENTS below: per kind of stream, every event type that crosses the wire, written
out rather than read off the classes. tests/unit/test_contracts.py holds it against the
aggregates both ways, so renaming an event or an aggregate fails the build instead of
silently unbinding a queue; a service's queue binds whole kinds (`binding`).

Messages queued or parked before `stream_id` existed have `case_id` as the stream's id
whatever its kind, and no `stream` when it is a case's: IntegrationEventSchema loads them
into this shape. Their type is not checked against STREAM_EVENTS on the way in: an event
a consumer does not know is its handler's to refuse (retried, then parked), as any failure.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from uuid import UUID

from marshmallow import Schema, ValidationError, fields, pre_load, validate, validates_schema

from shared.domain.personal import ACTOR, BY_SCHEMA, NOT_PERSONAL, PERSONAL_KEY, person
from shared.domain.streams import BY_NAME
from shared.infra.ledger import to_recorded

STREAM_EVENTS: dict[str, frozenset[str]] = {
    "case": frozenset({
        "Submitted", "Resubmitted", "Withdrawn",
        "VerificationRecorded", "CityRecommended", "ProvinceEndorsed", "EndorsementWithdrawn",
        "ReturnedForCorrection", "Rejected",
        "ExpertReviewed", "Shortlisted", "NotShortlisted", "TaskBookSigned", "TaskBookAmended",
        "MilestoneReported", "MilestoneOverdue", "MilestoneReportAccepted", "MilestoneReportReturned",
        "AnnualWorkPlanRecorded", "CompletionDeclared", "EvaluatorCommissioned", "ThirdPartyEvaluated",
        "Selected", "NotSelected",
        "PublicNoticeOpened", "ObjectionRaised", "ObjectionResolved", "Published",
        "EvidenceAttached", "EvidenceSuperseded", "PersonalDataErased",
    }),
    "call": frozenset({"CallDefined", "CallAmended"}),
    "allocation": frozenset({"AllocationOpened", "PlaceTaken", "PlaceReleased"}),
    "panel": frozenset({"PanelFormed", "ExpertAssigned", "AssignmentRefused", "NoConflictDeclared",
                        "ConflictDeclared", "PersonalDataErased"}),
    "dossier": frozenset({"DossierOpened", "DocumentDeposited"}),
    "publiclist": frozenset({"ListCreated", "NoticeOpened", "EntryDelisted", "NoticeClosed", "ListPublished"}),
    "calendar": frozenset({"YearRecorded", "YearAmended"}),
}


class UndeclaredEvent(LookupError):
    """An event type, or a kind of stream, that STREAM_EVENTS does not list: it has no routing key."""


def message_id(stream_id: str, version: int) -> str:
    return f"{stream_id}:{version}"


def routing_key(stream: str, event_type: str) -> str:
    if event_type not in STREAM_EVENTS.get(stream, ()):
        raise UndeclaredEvent(f"{stream}.{event_type} is not declared in shared.infra.messaging.contracts")
    return f"{stream}.{event_type}"


def binding(stream: str) -> str:
    """The pattern that binds every event of one kind of stream."""
    if stream not in STREAM_EVENTS:
        raise UndeclaredEvent(f"no kind of stream {stream!r} is declared")
    return f"{stream}.#"


def integration_event(event: Any, notification_id: int | None) -> dict:
    """The envelope of a stored domain event, as the relay publishes it."""
    recorded = to_recorded(event, notification_id)
    return {"message_id": message_id(recorded.stream_id, recorded.version), **recorded.as_dict()}


def _uuid(value: str) -> None:
    try:
        UUID(value)
    except ValueError:
        raise ValidationError("not a UUID") from None


class IntegrationEventSchema(Schema):
    """The envelope, checked; `load` also brings a message of the older shape into this one."""

    message_id = fields.String(metadata=NOT_PERSONAL, required=True)
    stream = fields.String(required=True, validate=validate.OneOf(sorted(BY_NAME)))
    stream_id = fields.String(metadata=NOT_PERSONAL, required=True, validate=_uuid)
    case_id = fields.String(metadata=NOT_PERSONAL, validate=_uuid)
    version = fields.Integer(required=True, strict=True)
    type = fields.String(metadata=NOT_PERSONAL, required=True)
    timestamp = fields.String(metadata=NOT_PERSONAL, required=True)
    actor = fields.Dict(metadata=person(ACTOR), required=True)
    payload = fields.Dict(metadata={PERSONAL_KEY: BY_SCHEMA}, required=True)
    notification_id = fields.Integer(required=True, allow_none=True)

    @pre_load
    def _from_the_older_shape(self, data: Any, **kwargs: Any) -> Any:
        if not isinstance(data, Mapping) or "stream_id" in data:
            return data
        upgraded = {"stream": "case", **data}
        if "case_id" in upgraded:
            if upgraded["stream"] == "case":
                upgraded["stream_id"] = upgraded["case_id"]
            else:
                upgraded["stream_id"] = upgraded.pop("case_id")
        return upgraded

    # Run even when a field failed, so that a case's message missing its ids names case_id too
    # (`original`: the message as it came, where a case_id that is no UUID is still present).
    @validates_schema(skip_on_field_errors=False, pass_original=True)
    def _case_id_on_cases_only(self, data: dict, original: Mapping, **kwargs: Any) -> None:
        stream = data.get("stream")
        if stream is None:
            return  # missing or undeclared: its own error says so
        if stream != "case":
            if "case_id" in data:  # an older message's was taken as its stream_id
                raise ValidationError(f"a {stream}'s event carries no case_id", "case_id")
        elif "case_id" not in original:
            raise ValidationError("a case's event carries its id as case_id", "case_id")
        elif "case_id" in data and "stream_id" in data and data["case_id"] != data["stream_id"]:
            raise ValidationError("a case's event carries its stream id as case_id", "case_id")
