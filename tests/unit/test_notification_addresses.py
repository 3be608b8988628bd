"""The notifications service's small rules: which e-mails an application gives, how a listing shows
an address, whose channels a caller sets, REMINDER_DAYS read strictly."""

import pytest

from services.notifications.application import masked, own_key, recipient_keys, reminder_days
from services.notifications.contacts import application_contacts
from shared.domain.access import Caller
from shared.domain.errors import ValidationFailed
from shared.domain.forms.samples import SAMPLE_SIGNATURE_PRODUCT_APPLICATION


def test_the_382_cover_gives_both_contacts_emails_and_an_application_without_them_none():
    assert application_contacts(SAMPLE_SIGNATURE_PRODUCT_APPLICATION) == [
        "contact1@sample.example.com", "contact2@sample.example.com"]
    assert application_contacts({"lead": {"name": "SAMPLE"}}) == []
    assert application_contacts({"cover": {"contact_1": {"email": ""}, "seal": "x"}}) == []


def test_a_listing_shows_an_email_by_its_first_letter_and_domain_and_a_webhook_by_its_key():
    assert masked("email", "contact1@sample.example.com") == "c***@sample.example.com"
    assert masked("webhook", "province:420000") == "province:420000"


def test_an_expert_is_addressed_as_the_person_a_panel_names_and_everyone_else_as_an_organisation():
    expert = Caller(sub="sample-expert", role="expert", org="SAMPLE-UNIT")
    assert own_key(expert) == "expert:sample-expert"
    assert recipient_keys(expert) == ["expert:SAMPLE-UNIT", "expert:sample-expert"]
    city = Caller(sub="u-1", role="city", org="420100")
    assert own_key(city) == "city:420100" and recipient_keys(city) == ["city:420100"]


@pytest.mark.parametrize("text", ["", "7,x", "0", "7,-1"])
def test_reminder_days_must_be_whole_working_days(text):
    with pytest.raises(ValidationFailed) as refused:
        reminder_days(text)
    assert "REMINDER_DAYS" in refused.value.fields


def test_reminder_days_are_read_in_order_without_repeats():
    assert reminder_days("1, 7,3,7") == (1, 3, 7)
