"""Request and response shapes of the intake API.

The application form here is the foundation's subset; the full 申请表 with its
character limits and conditional rules is issue #3.
"""

from marshmallow import Schema, fields, validate

from shared.case import Level, Program


class DirectionSchema(Schema):
    code = fields.String(required=True, validate=validate.Length(min=1, max=64))
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    category = fields.String(load_default=None)


class CallSchema(Schema):
    call_id = fields.String(required=True, validate=validate.Regexp(r"^[a-z0-9][a-z0-9-]{2,63}$"))
    program = fields.String(required=True, validate=validate.OneOf(Program.ALL))
    year = fields.Integer(required=True, strict=True, validate=validate.Range(2000, 2100))
    title = fields.String(required=True, validate=validate.Length(min=1, max=300))
    notice_number = fields.String(required=True, validate=validate.Length(min=1, max=100))
    directions = fields.List(fields.Nested(DirectionSchema), load_default=list)
    directions_note = fields.String(load_default="")
    # region code -> levels in order; "default" for every region not listed
    chains = fields.Dict(
        keys=fields.String(),
        values=fields.List(fields.String(validate=validate.OneOf(Level.ALL)), validate=validate.Length(min=1)),
        required=True,
    )
    public_notice_required = fields.Boolean(required=True)
    deadlines = fields.Dict(keys=fields.String(), values=fields.String(), load_default=dict)
    sample = fields.Boolean(load_default=False)


class SubmitSchema(Schema):
    call_id = fields.String(required=True)
    direction = fields.String(required=True, validate=validate.Length(min=1, max=64))
    title = fields.String(required=True, validate=validate.Length(min=1, max=200))
    applicant_name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    application = fields.Dict(required=True)


class ResubmitSchema(Schema):
    application = fields.Dict(required=True)
    changes = fields.String(required=True, validate=validate.Length(min=1, max=2000))


class WithdrawSchema(Schema):
    reason = fields.String(required=True, validate=validate.Length(min=1, max=2000))


class CaseRefSchema(Schema):
    case_id = fields.String()
    version = fields.Integer()
    state = fields.String()


class CaseRowSchema(Schema):
    case_id = fields.String()
    call_id = fields.String()
    direction = fields.String()
    title = fields.String()
    applicant = fields.String()
    state = fields.String()
    version = fields.Integer()
    updated_at = fields.String()
