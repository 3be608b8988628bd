"""Query parameters and response shapes of the audit API.

The integrity reports (verify, proofs, bundle, checkpoints) name their main fields and
pass the rest through: their full shape is `shared.infra.integrity`'s, and `caseplatform
verify-bundle` is what reads a bundle.
"""

from marshmallow import Schema, fields, validate

from shared.domain.personal import ACTOR, person
from shared.infra.web.openapi import OpenSchema
from shared.infra.web.views import CaseViewSchema

from .application import MAX_NUMBER


def _version(what: str, required: bool = False) -> fields.Integer:
    return fields.Integer(required=required, strict=False, validate=validate.Range(min=1, max=MAX_NUMBER),
                          metadata={"description": what})


def _moment(what: str, required: bool = False) -> fields.String:
    return fields.String(required=required, metadata={
        "description": f"{what}: a date (YYYY-MM-DD) or an ISO 8601 date-time, China time unless it names a zone"})


STATE_QUERY = {"version": _version("the case as of this version"), "at": _moment("the case as it stood then")}
DIFF_QUERY = {"from": _version("the earlier version", True), "to": _version("the later version", True)}
PERIOD_QUERY = {"from": _moment("the start of the period", True), "to": _moment("the end of the period", True)}
CONSISTENCY_QUERY = {"from": _version("the earlier checkpoint", True), "to": _version("the later checkpoint", True)}
ACCESS_QUERY = {
    "case_id": fields.String(validate=validate.Regexp(
        r"^([0-9a-f-]{32,36}|authority:[0-9A-Za-z-]{1,32}|address:[0-9a-f]{24})$"),
        metadata={"description": "only readings of this case or panel (its id), of an authority's contact "
                                 "(authority:<code>), or of what notifications holds under an address "
                                 "(address:<hash>, as the copy names it)"}),
    "sub": fields.String(validate=validate.Length(min=1, max=200),
                         metadata={**person(ACTOR), "description": "only readings by this account"}),
    "offset": fields.Integer(strict=False, validate=validate.Range(min=0, max=MAX_NUMBER),
                             metadata={"description": "skip this many readings (500 are listed at most)"}),
}


ERASURES_QUERY = {
    "record": fields.String(validate=validate.Regexp(
        r"^(authority:[0-9A-Za-z-]{1,32}|draft:[0-9a-f]{32}|address:[0-9a-f]{24})$"),
        metadata={"description": "only erasures of this record (authority:<code>, draft:<id>, address:<hash>)"}),
    "offset": ACCESS_QUERY["offset"],
}


class AccessSchema(Schema):
    """One reading of personal data: who, when, which case and data subjects, on which route (why)."""

    at = fields.String(required=True)
    sub = fields.String(required=True)
    role = fields.String(required=True)
    org = fields.String(required=True)
    case_id = fields.String(required=True)
    route = fields.String(required=True)
    subjects = fields.List(fields.String(), required=True)


class ActorSchema(Schema):
    sub = fields.String(required=True)
    role = fields.String(required=True)
    org = fields.String(required=True)


class EventSchema(OpenSchema):
    stream = fields.String(required=True)
    case_id = fields.String(required=True)
    version = fields.Integer(required=True)
    type = fields.String(required=True)
    timestamp = fields.String(required=True)
    actor = fields.Dict(required=True)
    payload = fields.Dict(required=True)


class HistorySchema(Schema):
    case_id = fields.String(required=True)
    version = fields.Integer(required=True)
    events = fields.List(fields.Nested(EventSchema), required=True)


class StateSchema(Schema):
    case_id = fields.String(required=True)
    version = fields.Integer(required=True)
    latest_version = fields.Integer(required=True)
    as_of = fields.String(required=True, allow_none=True)
    last_event = fields.Dict(required=True)
    case = fields.Nested(CaseViewSchema, required=True)


class DiffSchema(Schema):
    case_id = fields.String(required=True)
    from_ = fields.Integer(data_key="from", attribute="from", required=True)
    to = fields.Integer(required=True)
    changes = fields.Dict(required=True, keys=fields.String(), values=fields.Dict())
    events = fields.List(fields.Nested(EventSchema), required=True)


class TouchSchema(Schema):
    case_id = fields.String(required=True)
    version = fields.Integer(required=True)
    event_type = fields.String(required=True)
    actor_org = fields.String(required=True)
    actor_sub = fields.String(required=True)
    actor_role = fields.String(required=True)
    timestamp = fields.String(required=True)


class TouchedCaseSchema(Schema):
    case_id = fields.String(required=True)
    events = fields.Integer(required=True)
    actors = fields.List(fields.String(), required=True)


class PeriodSchema(Schema):
    from_ = fields.String(data_key="from", attribute="from", required=True)
    to = fields.String(required=True)
    cases = fields.List(fields.Nested(TouchedCaseSchema), required=True)
    events = fields.List(fields.Nested(TouchSchema), required=True)


class VerificationSchema(OpenSchema):
    subject = fields.String(required=True)
    ok = fields.Boolean(required=True)
    problems = fields.List(fields.Raw(), required=True)
    checked_events = fields.Integer(required=True)
    unchecked_events = fields.Integer(required=True)


class ProofsSchema(OpenSchema):
    case_id = fields.String(required=True)
    ok = fields.Boolean(required=True)
    problems = fields.List(fields.Raw(), required=True)
    checkpoint = fields.Dict(required=True, allow_none=True)


class CheckpointsSchema(OpenSchema):
    key_id = fields.String(required=True)
    public_key = fields.String(required=True)
    checkpoints = fields.List(fields.Dict(), required=True)


class ConsistencySchema(OpenSchema):
    first = fields.Dict(required=True)
    second = fields.Dict(required=True)
    proof = fields.List(fields.String(), required=True)
