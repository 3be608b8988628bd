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
