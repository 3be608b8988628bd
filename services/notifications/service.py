"""The notifications nameko service (issue #20): the ledger's events become notices in the
outbox, in the same transaction as the event's processed mark; timers deliver them (SMTP,
signed webhooks), send reminders and the daily digest; people see and choose what they receive."""

import logging
import os
from datetime import timedelta

from nameko.extensions import DependencyProvider

from shared.domain.access import ROLES
from shared.infra.config import Settings
from shared.infra.dependencies import Clock, Ledger, PersonalData, ReadModels
from shared.infra.notify import dispatch, mail
from shared.infra.notify.retry import RetryPolicy
from shared.infra.service_base import CaseService, health_routes
from shared.infra.timers import settings_timer
from shared.infra.web.http import api, openapi_route

from . import privacy, readmodels
from .addresses import endpoint_of
from .application import Notifications, reminder_days
from .schemas import (
    LISTING_QUERY,
    AddressErasureSchema,
    AddressSchema,
    ChannelsSchema,
    ChannelsViewSchema,
    NotificationSchema,
    OperatorNotificationSchema,
    PreferencesSchema,
    PreferencesViewSchema,
    ProfileChoiceSchema,
    ProfileSchema,
    RequeuedSchema,
    RequeueSchema,
)

log = logging.getLogger(__name__)

PEOPLE = tuple(role for role in ROLES if role not in ("auditor", "privacy"))  # they are told nothing


class Outbox(DependencyProvider):
    """The SMTP settings (SMTP_*), the reminder intervals (REMINDER_DAYS) and the retry policy,
    read once when the service starts."""

    def setup(self) -> None:
        self.smtp = mail.SmtpSettings.from_env(os.environ)
        settings = Settings.from_nameko(self.container.config)
        self.intervals = reminder_days(settings.reminder_days)
        self.policy = RetryPolicy(base=timedelta(seconds=settings.notify_retry_base))

    def get_dependency(self, worker_ctx):
        return self


class NotificationsService(CaseService):
    name = "notifications"

    ledger = Ledger(owner=None)  # it appends nothing
    store = ReadModels(readmodels.metadata, readmodels.kept)  # the outbox and the addresses beside them
    clock = Clock()
    delivery = Outbox()
    personal = PersonalData()  # opens a contact's sealed address to send to it
    openapi = openapi_route("/notifications")
    health_live, health_ready = health_routes("/notifications")

    @property
    def app(self) -> Notifications:
        return Notifications(self.ledger, self.store, self.clock.now(), self.clock.today(), self.delivery.intervals)

    def project(self, session, event: dict) -> None:  # type: ignore[override]
        # Bound, not static as elsewhere: the notices need the ledger (the case as of the event).
        # The read model, then the notices, in the transaction that marks the event processed.
        if readmodels.project(session, event):
            self.app.record_event(session, event)

    @settings_timer("notify_delivery_interval")
    def deliver(self):
        send = dispatch.sender(smtp=self.delivery.smtp, endpoints=lambda key: endpoint_of(self.store, key),
                               opened=self.personal.vault.open_for_delivery)
        done = self.app.deliver(send, self.delivery.policy)
        if done.sent or done.parked:
            log.info("notifications sent: %d, parked: %d", len(done.sent), len(done.parked))

    @settings_timer("reminder_scan_interval")
    def remind(self):
        self.app.remind()

    @settings_timer("digest_scan_interval")
    def digest(self):
        self.app.send_digests()

    def app_for(self, caller) -> Notifications:
        """The use cases, once the caller's profile address is kept (people.py)."""
        app = self.app
        app.seen(caller)
        return app

    @api("GET", "/notifications/me", roles=PEOPLE, response=ProfileSchema(),
         summary="the e-mail address of my profile at the identity provider that my notices go to, if I allow it")
    def profile(self, request, caller):
        return self.app_for(caller).profile(caller)

    @api("PUT", "/notifications/me", roles=PEOPLE, body=ProfileChoiceSchema(), response=ProfileSchema(),
         summary="use my profile's e-mail address for notices, or not (off: the address is deleted here)")
    def set_profile(self, request, caller, body):
        return self.app.set_profile(caller, body["use_profile_email"])

    @api("GET", "/notifications/mine", roles=PEOPLE, response=NotificationSchema(many=True),
         summary="what was recorded and sent to my organisation, newest first, with its status")
    def mine(self, request, caller):
        return self.app_for(caller).mine(caller)

    @api("GET", "/notifications/preferences", roles=PEOPLE, response=PreferencesViewSchema(),
         summary="per kind: immediately, daily_digest or off")
    def preferences(self, request, caller):
        return self.app_for(caller).preferences(caller)

    @api("PUT", "/notifications/preferences", roles=PEOPLE, body=PreferencesSchema(),
         response=PreferencesViewSchema(),
         summary="choose per kind; refusals and overdue notices cannot be off (400 naming preferences.<kind>)")
    def set_preferences(self, request, caller, body):
        return self.app_for(caller).set_preferences(caller, body["preferences"])

    @api("GET", "/notifications/channels", roles=PEOPLE, response=ChannelsViewSchema(),
         summary="my organisation's registered e-mail and webhook (the secret's last 4 characters only)")
    def channels(self, request, caller):
        return self.app_for(caller).channels(caller)

    @api("PUT", "/notifications/channels", roles=PEOPLE, body=ChannelsSchema(), response=ChannelsViewSchema(),
         summary="register my organisation's e-mail and webhook URL + secret (HMAC-SHA256 signing)")
    def set_channels(self, request, caller, body):
        return self.app_for(caller).set_channels(caller, body)

    # -- the privacy officer (issue #21): what is held under a person's e-mail address, and its erasure --

    @api("POST", "/notifications/personal-data/copies", roles=("privacy",), body=AddressSchema(),
         summary="what notifications holds under an e-mail address: the profiles that carried it, the "
                 "organisations that registered it, the notices sent to it (kind, status, date; never their "
                 "text); the search recorded as a reading")
    def address_copy(self, request, caller, body):
        return privacy.copy_for(self.store, self.personal.vault.store, caller, body["email"], self.personal.route)

    @api("POST", "/notifications/personal-data/erasures", roles=("privacy",), body=AddressErasureSchema(),
         status=201, summary="erase an e-mail address from notifications on a recorded request: the profile's "
                             "turned off, the channel cleared, each notice's address erased (one waiting is "
                             "parked); the erasure recorded")
    def erase_address(self, request, caller, body):
        return privacy.erase_for(self.store, self.personal.vault.store, caller, body["email"], self.clock.now(),
                                 request=body["request"], reason=body["reason"])

    @api("GET", "/notifications/all", roles=("ministry",), query=LISTING_QUERY,
         response=OperatorNotificationSchema(many=True), summary="every notification, newest first (?status=)")
    def listing(self, request, caller):
        return self.app_for(caller).listing(caller, request.args.get("status"))

    @api("POST", "/notifications/requeue", roles=("ministry",), body=RequeueSchema(), response=RequeuedSchema(),
         summary="put parked notifications back to be sent again")
    def requeue(self, request, caller, body):
        return self.app_for(caller).requeue(caller, body["ids"])
