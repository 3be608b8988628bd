"""Request and response shapes of the verification desk."""

from marshmallow import Schema, fields, validate

from shared.domain.personal import AUTHORITY_CONTACT, NOT_PERSONAL, PERSONAL
from shared.domain.registration_area import Outcome

MAX_RANK = 10_000


class CheckSchema(Schema):
    passed = fields.Boolean(required=True)
    note = fields.String(metadata=NOT_PERSONAL, required=True, validate=validate.Length(max=2000))


class ChecksSchema(Schema):
    """真实性, 完整性, 有效性: the three checks the notices ask every authority to make."""

    authenticity = fields.Nested(CheckSchema, required=True)
    completeness = fields.Nested(CheckSchema, required=True)
    validity = fields.Nested(CheckSchema, required=True)


class RecommendSchema(Schema):
    reason = fields.String(metadata=NOT_PERSONAL, required=True, validate=validate.Length(min=1, max=2000))  # 推荐理由
    # The authority's order of preference among what it recommends: a small number (stored as an integer).
    rank = fields.Integer(required=True, strict=True, validate=validate.Range(min=1, max=MAX_RANK))


class ReturnSchema(Schema):
    reasons = fields.List(fields.String(metadata=NOT_PERSONAL,
                                        validate=validate.Length(min=1, max=2000)), required=True,
                          validate=validate.Length(min=1))


class RejectSchema(Schema):
    reason = fields.String(metadata=NOT_PERSONAL, required=True, validate=validate.Length(min=1, max=2000))


class WithdrawEndorsementSchema(Schema):
    reason = fields.String(metadata=NOT_PERSONAL, required=True, validate=validate.Length(min=1, max=2000))


class ContactSchema(Schema):
    """The authority's contact as the summary table prints it: 姓名、职务、职称, 手机号码."""

    personal_subject = AUTHORITY_CONTACT  # the body is one person

    name = fields.String(metadata=PERSONAL, required=True, validate=validate.Length(min=1, max=100))
    post = fields.String(metadata=PERSONAL, required=True, validate=validate.Length(min=1, max=100))  # 职务
    title = fields.String(metadata=PERSONAL, load_default="", validate=validate.Length(max=100))  # 职称 (may be none)
    phone = fields.String(metadata=PERSONAL, required=True, validate=validate.Regexp(
        r"^1\d{10}$", error="手机号码为11位数字，以1开头 / a mobile number is 11 digits starting with 1"))


class InboxRowSchema(Schema):
    """A case waiting for the caller's level, with that level's deadline (None: the call sets none)."""

    case_id = fields.String(required=True)
    call_id = fields.String(required=True)
    program = fields.String(required=True)
    direction = fields.String(required=True)
    title = fields.String(required=True)
    applicant = fields.String(required=True)
    applicant_name = fields.String(required=True)
    province = fields.String(required=True)
    city = fields.String(required=True, allow_none=True)
    state = fields.String(required=True)
    version = fields.Integer(required=True)
    updated_at = fields.String(required=True)
    chain = fields.String(required=True)
    awaiting_level = fields.String(required=True, allow_none=True)
    listing = fields.Dict(required=True, metadata={"description": "what the summary table prints of it"})
    registration_check = fields.String(required=True, validate=validate.OneOf(Outcome.ALL), metadata={
        "description": "the credit code's registration area against the claimed region; "
                       f"{Outcome.DIFFERS!r} is the flag to check for 真实性"})
    registration_note = fields.String(required=True, metadata={
        "description": "e.g. 登记机关行政区划 420100，申报地区 440000 / registered in 420100, filing as 440000"})
    deadline = fields.String(required=True, allow_none=True)


class ContactViewSchema(ContactSchema):
    authority = fields.String(required=True)
    title = fields.String(required=True)
    updated_at = fields.String(required=True)


class ContactStatusSchema(Schema):
    authority = fields.String(required=True)
    contact = fields.Nested(ContactViewSchema, required=True, allow_none=True,
                            metadata={"description": "null until the authority sets its contact"})


class QuotaSchema(Schema):
    """The recommendation places of one recommending authority in one call (382号: 5 per province)."""

    call_id = fields.String(required=True)
    region = fields.String(required=True, metadata={
        "description": "the recommending authority whose places these are: the caller's own for a "
                       "province, the city's province for a city bureau"})
    capacity = fields.Integer(required=True, allow_none=True, metadata={
        "description": "the call's limit for that authority; null when the call sets none"})
    used = fields.Integer(required=True)
    held_by = fields.List(fields.String(), required=True, metadata={"description": "the endorsed cases"})
