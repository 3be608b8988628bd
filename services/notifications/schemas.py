"""Request and response shapes of the notifications service."""

from marshmallow import Schema, fields, validate

from shared.domain.notifications import Delivery, Kind
from shared.domain.personal import AUTHORITY_CONTACT, DATA_SUBJECT, NOT_PERSONAL, PERSONAL, person

LISTING_QUERY = {"status": fields.String(metadata={"description": "pending, sent or parked (default: all)"})}


class NotificationSchema(Schema):
    id = fields.String(required=True)
    kind = fields.String(required=True)
    channel = fields.String(required=True)
    status = fields.String(required=True)
    address = fields.String(required=True, metadata={"description": "masked: the first letter and the domain"})
    subject = fields.String(required=True)
    case_id = fields.String(allow_none=True)
    created_at = fields.DateTime(required=True)
    sent_at = fields.DateTime(allow_none=True)
    attempts = fields.Integer(required=True)


class OperatorNotificationSchema(NotificationSchema):
    recipient = fields.String(required=True)
    last_error = fields.String(allow_none=True)


class PreferencesSchema(Schema):
    preferences = fields.Dict(
        keys=fields.String(validate=validate.OneOf(Kind.ALL)),
        values=fields.String(validate=validate.OneOf(Delivery.ALL)), required=True,
        metadata={"description": "kind -> immediately, daily_digest or off (refusals and overdue notices: not off)"})


class PreferencesViewSchema(PreferencesSchema):
    recipient = fields.String(required=True)


class RequeueSchema(Schema):
    ids = fields.List(fields.String(metadata=NOT_PERSONAL, validate=validate.Length(min=1, max=36)), required=True,
                      validate=validate.Length(min=1, max=500))


class RequeuedSchema(Schema):
    requeued = fields.Integer(required=True)


class ChannelsSchema(Schema):
    # An organisation's mailbox, often its contact person's: personal, answered to its organisation
    # only, masked in every listing, never exported.
    email = fields.Email(allow_none=True, load_default=None, metadata=person(AUTHORITY_CONTACT))
    webhook_url = fields.Url(allow_none=True, load_default=None, schemes={"https", "http"}, require_tld=False,
                             metadata=NOT_PERSONAL, validate=validate.Length(max=500))
    webhook_secret = fields.String(allow_none=True, load_default=None, load_only=True, metadata=NOT_PERSONAL,
                                   validate=validate.Length(min=16, max=200))


class ChannelsViewSchema(Schema):
    recipient = fields.String(required=True)
    email = fields.String(allow_none=True)
    webhook_url = fields.String(allow_none=True)
    webhook_secret_hint = fields.String(allow_none=True, metadata={"description": "the secret's last 4 characters"})


class ProfileSchema(Schema):
    sub = fields.String(required=True)
    email = fields.String(allow_none=True, metadata={
        "description": "the address my last token carried from my profile; null when none or turned off"})
    use_profile_email = fields.Boolean(required=True)


class ProfileChoiceSchema(Schema):
    use_profile_email = fields.Boolean(required=True)


class AddressSchema(Schema):
    """Whose address the privacy officer looks for, or erases (in a body, never a URL)."""

    personal_subject = DATA_SUBJECT
    email = fields.Email(metadata=PERSONAL, required=True)


class AddressErasureSchema(AddressSchema):
    request = fields.String(metadata={**NOT_PERSONAL, "description": "the reference of the recorded request; never "
                                      "the person's name or details"},
                            required=True, validate=validate.Length(min=1, max=200))
    reason = fields.String(metadata={**NOT_PERSONAL, "description": "why (the legal ground); never the data"},
                           required=True, validate=validate.Length(min=1, max=2000))
