"""Request and response shapes of the publication service."""

from marshmallow import Schema, fields, validate


class ObjectionSchema(Schema):
    reasons = fields.String(required=True, validate=validate.Length(min=1, max=5000))


class ResolutionSchema(Schema):
    upheld = fields.Boolean(required=True)
    resolution = fields.String(required=True, validate=validate.Length(min=1, max=5000))


class PublishSchema(Schema):
    pass


class PublicEntrySchema(Schema):
    """What the public may read of a published case: no contacts, no application form."""

    case_id = fields.String()
    list_id = fields.String()
    call_id = fields.String()
    program = fields.String()
    direction = fields.String()
    title = fields.String()
    applicant_name = fields.String()
    province = fields.String()
    published_at = fields.String()


class NoticeEntrySchema(Schema):
    case_id = fields.String()
    call_id = fields.String()
    title = fields.String()
    applicant_name = fields.String()
    notice_starts_on = fields.String()
    notice_ends_on = fields.String()
