"""Request and response shapes of the intake API.

The call definition is `shared.domain.call_rules.CallDefinitionSchema`; the application
forms are in `shared.domain.forms` and depend on the call, so they are applied
by the application layer rather than by the route.
"""

from marshmallow import Schema, fields, validate

from shared.infra.web.openapi import OpenSchema


class ResubmitSchema(Schema):
    application = fields.Dict(required=True)
    changes = fields.String(required=True, validate=validate.Length(min=1, max=2000))


class WithdrawSchema(Schema):
    reason = fields.String(required=True, validate=validate.Length(min=1, max=2000))


class DraftSchema(Schema):
    call_id = fields.String(required=True, validate=validate.Length(min=1, max=64))
    form = fields.Dict(required=True)


class DraftUpdateSchema(Schema):
    form = fields.Dict(required=True)


class CaseRowSchema(Schema):
    case_id = fields.String(required=True)
    call_id = fields.String(required=True)
    program = fields.String(required=True)
    direction = fields.String(required=True)
    title = fields.String(required=True)
    applicant = fields.String(required=True)
    applicant_name = fields.String(required=True)
    province = fields.String(required=True)
    state = fields.String(required=True)
    version = fields.Integer(required=True)
    updated_at = fields.String(required=True)


CALL_QUERY = {"version": fields.Integer(strict=False, validate=validate.Range(min=1), metadata={
    "description": "an earlier version of the call (default: the latest)"})}


class CallVersionSchema(Schema):
    call_id = fields.String(required=True)
    version = fields.Integer(required=True)


class CallSchema(OpenSchema):
    """A call definition (shared.domain.call_rules.CallDefinitionSchema), as stored."""

    call_id = fields.String(required=True)
    version = fields.Integer(required=True)
    program = fields.String(required=True)
    title = fields.String(required=True)


class CountsSchema(Schema):
    call_id = fields.String(required=True)
    by_direction = fields.Dict(required=True, keys=fields.String(), values=fields.Integer())
    by_province = fields.Dict(required=True, keys=fields.String(), values=fields.Integer())
    by_state = fields.Dict(required=True, keys=fields.String(), values=fields.Integer())


class DraftSavedSchema(Schema):
    draft_id = fields.String(required=True)
    call_id = fields.String(required=True)
    updated_at = fields.String(required=True)


class DraftViewSchema(DraftSavedSchema):
    form = fields.Dict(required=True)
