"""Request and response shapes of the intake API.

The call definition is `shared.call_definition.CallDefinitionSchema`; the application
forms are in `services.intake.forms` and depend on the call, so they are applied
by the application layer rather than by the route.
"""

from marshmallow import Schema, fields, validate


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
    case_id = fields.String()
    call_id = fields.String()
    program = fields.String()
    direction = fields.String()
    title = fields.String()
    applicant = fields.String()
    applicant_name = fields.String()
    province = fields.String()
    state = fields.String()
    version = fields.Integer()
    updated_at = fields.String()
