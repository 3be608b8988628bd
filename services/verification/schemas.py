"""Request shapes of the verification desk."""

from marshmallow import Schema, fields, validate


class CheckSchema(Schema):
    passed = fields.Boolean(required=True)
    note = fields.String(required=True, validate=validate.Length(max=2000))


class ChecksSchema(Schema):
    """真实性, 完整性, 有效性: the three checks the notices ask every authority to make."""

    authenticity = fields.Nested(CheckSchema, required=True)
    completeness = fields.Nested(CheckSchema, required=True)
    validity = fields.Nested(CheckSchema, required=True)


class RecommendSchema(Schema):
    reason = fields.String(required=True, validate=validate.Length(min=1, max=2000))  # 推荐理由
    rank = fields.Integer(required=True, strict=True, validate=validate.Range(min=1))


class ReturnSchema(Schema):
    reasons = fields.List(fields.String(validate=validate.Length(min=1, max=2000)), required=True,
                          validate=validate.Length(min=1))


class RejectSchema(Schema):
    reason = fields.String(required=True, validate=validate.Length(min=1, max=2000))


class WithdrawEndorsementSchema(Schema):
    reason = fields.String(required=True, validate=validate.Length(min=1, max=2000))


class ContactSchema(Schema):
    """The authority's contact as the summary table prints it: 姓名、职务、职称, 手机号码."""

    name = fields.String(required=True, validate=validate.Length(min=1, max=100))
    post = fields.String(required=True, validate=validate.Length(min=1, max=100))  # 职务
    title = fields.String(load_default="", validate=validate.Length(max=100))  # 职称 (may be none)
    phone = fields.String(required=True, validate=validate.Regexp(
        r"^1\d{10}$", error="手机号码为11位数字，以1开头 / a mobile number is 11 digits starting with 1"))
