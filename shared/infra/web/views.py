"""How a case is shown over HTTP to those allowed to see it (never to the public)."""

from marshmallow import Schema, fields, validate

from shared.domain.case import Case
from shared.domain.registration_area import Outcome


def case_view(case: Case) -> dict:
    return {
        "case_id": str(case.id),
        "version": case.version,
        "state": case.state,
        "program": case.program,
        "call_id": case.call_id,
        "call_version": case.call_version,
        "direction": case.direction,
        "title": case.title,
        "applicant": case.applicant,
        "province": case.province,
        "city": case.city,
        "awaiting_level": case.awaiting_level,
        "round": case.round,
        "milestones": case.milestones,
        "evaluator": case.evaluator,
        "notice_ends_on": case.notice_ends_on.isoformat() if case.notice_ends_on else None,
        "open_objections": list(case.open_objections),
        "evidence": list(case.evidence),
        "application": case.application,
        "registration_check": {**case.registration_check.as_record(), "mismatch": case.registration_check.mismatch},
    }


class RegistrationCheckSchema(Schema):
    """The credit code's registration area against the region the unit filed as, for 真实性 verification."""

    outcome = fields.String(required=True, validate=validate.OneOf(Outcome.ALL))
    mismatch = fields.Boolean(required=True, metadata={
        "description": "the areas differ: flagged to the verifying authorities (never a refusal)"})
    registered_area = fields.String(required=True, allow_none=True, metadata={
        "description": "characters 3-8 of the credit code; null when not checked"})
    claimed_region = fields.String(required=True, allow_none=True, metadata={
        "description": "the claimed city where the unit names one, else its province"})
    note = fields.String(required=True, metadata={"description": "in Chinese and English"})


class CaseViewSchema(Schema):
    """The case as `case_view` shows it: the response of every route that answers with a case."""

    case_id = fields.String(required=True)
    version = fields.Integer(required=True)
    state = fields.String(required=True)
    program = fields.String(required=True)
    call_id = fields.String(required=True)
    call_version = fields.Integer(required=True)
    direction = fields.String(required=True, allow_none=True)
    title = fields.String(required=True, allow_none=True)
    applicant = fields.Dict(required=True)
    province = fields.String(required=True)
    city = fields.String(required=True, allow_none=True)
    awaiting_level = fields.String(required=True, allow_none=True)
    round = fields.Integer(required=True)
    milestones = fields.Dict(required=True, keys=fields.String(), values=fields.String())
    evaluator = fields.String(required=True, allow_none=True)
    notice_ends_on = fields.String(required=True, allow_none=True)
    open_objections = fields.List(fields.String(), required=True)
    evidence = fields.List(fields.String(), required=True)
    application = fields.Dict(required=True)
    registration_check = fields.Nested(RegistrationCheckSchema, required=True)


CASE_VIEW = CaseViewSchema()
