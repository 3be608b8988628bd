"""The privacy officer's request and answer bodies, the same for every stream that holds people's data
(a case on intake's desk, a panel on review's)."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from shared.domain.personal import DATA_SUBJECT, NOT_PERSONAL, PERSONAL


class ErasureRequestSchema(Schema):
    """A data subject's erasure request as the privacy officer records it (never the data itself)."""

    subjects = fields.List(fields.String(metadata=NOT_PERSONAL, validate=validate.Length(min=1, max=300)),
                           load_default=list, validate=validate.Length(max=50), metadata={
                               "description": "the data subjects' paths, as GET …/personal-data lists them "
                                              "(e.g. cover.contact_1, experts.2)"})
    request = fields.String(metadata={**NOT_PERSONAL, "description": "the reference of the recorded request "
                                      "(e.g. the letter's number); never the person's name or details"},
                            required=True, validate=validate.Length(min=1, max=200))
    reason = fields.String(metadata={**NOT_PERSONAL, "description": "why (the legal ground); never the data"},
                           required=True, validate=validate.Length(min=1, max=2000))


class SubjectSchema(Schema):
    subject = fields.String(required=True)
    kind = fields.String(required=True)
    erased = fields.Boolean(required=True)
    erased_at = fields.String(allow_none=True, required=True)


class ErasureRecordSchema(Schema):
    """An erasure of personal data kept outside the ledger (an authority's contact): who, when, which
    record, whose, on which request, why."""

    at = fields.String(required=True)
    sub = fields.String(required=True)
    role = fields.String(required=True)
    org = fields.String(required=True)
    record = fields.String(required=True)
    subjects = fields.List(fields.String(), required=True)
    request = fields.String(required=True)
    reason = fields.String(required=True)


class CopyRequestSchema(Schema):
    """Whom to look for: any of the person's name, mobile, e-mail (sent in a body, never in a URL)."""

    personal_subject = DATA_SUBJECT
    name = fields.String(metadata=PERSONAL, load_default="", validate=validate.Length(max=100))
    mobile = fields.String(metadata=PERSONAL, load_default="", validate=validate.Length(max=30))
    email = fields.String(metadata=PERSONAL, load_default="", validate=validate.Length(max=200))
