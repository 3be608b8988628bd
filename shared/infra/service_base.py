"""What every service class has: the relay loop, its OpenAPI document, and its subscription.

Each service declares its own ledger (with its owner), read-model store, routes and
`project` (its read models' projection); nameko finds the inherited extensions too.
"""

import logging

import eventlet
from nameko.dependency_providers import Config

from shared.infra.config import Settings
from shared.infra.dependencies import Personal, RelayRunner
from shared.infra.health import Check, broker_check, ledger_check, readiness, readmodels_check
from shared.infra.ledger import CaseLedger
from shared.infra.messaging.subscriber import subscribe
from shared.infra.readmodels.projection import OutOfOrder
from shared.infra.readmodels.store import ReadModelStore
from shared.infra.web.http import OpenApi, api
from shared.infra.web.openapi import OpenSchema
from shared.infra.web.views import case_view

log = logging.getLogger(__name__)

ORDER_WAIT_ROUNDS = 10  # about 1 s in all


class CaseService:
    relay = RelayRunner()
    openapi_document = OpenApi()
    nameko_config = Config()
    # Declared by each service (`ReadModels(its metadata)`, `Ledger(owner)`); nameko injects
    # the store and the ledger in their place.
    store: ReadModelStore
    ledger: CaseLedger
    personal: Personal  # on services that show a case's application (`PersonalData()`)

    def shown(self, caller, case) -> dict:
        """The case as `caller` reads it: its view with its people's data opened for them, and
        the reading recorded (issue #21)."""
        return self.personal.reveal(caller, case_view(case))

    @staticmethod
    def project(session, event: dict) -> None:
        raise NotImplementedError("each service names its projection")

    def react(self, event: dict) -> None:
        """What a service does about an event beyond its read models (default: nothing).

        Runs on every delivery, before the once-only projection: it must be idempotent.
        """

    def readiness_checks(self) -> dict[str, Check]:
        """What the service needs to do its work; a service that needs more adds to it."""
        settings = Settings.from_nameko(self.nameko_config)
        return {"ledger": ledger_check(self.ledger), "readmodels": readmodels_check(self.store),
                "broker": broker_check(settings.amqp_uri)}

    @subscribe()
    def on_case_event(self, events):
        # Reactions first, in delivery order, then the projections: one event alone is applied
        # as it always was; several in one read-model transaction (shared/infra/messaging/batches.py).
        for event in events:
            self.react(event)
        if len(events) == 1:
            self._apply_alone(events[0])
        else:
            for duplicate in self.store.apply_batch(events, self.project):
                log.info("%s already applied: redelivery absorbed", duplicate["message_id"])

    def _apply_alone(self, event: dict) -> None:
        # Events applied alone run in several workers at once (a batch that failed, or
        # PROJECTION_BATCH_SIZE=1): an event whose predecessor is still being applied next
        # door waits a moment here instead of a round trip through the retry queue (1 s
        # each), which would serialise a burst of one stream's events at one a second.
        for attempt in range(ORDER_WAIT_ROUNDS):
            try:
                if not self.store.apply_once(event, self.project):
                    # At-least-once delivery at work (a relay re-sent a batch, an ack was lost
                    # with its connection); said, so the fault tests can count what was absorbed.
                    log.info("%s already applied: redelivery absorbed", event["message_id"])
                return
            except OutOfOrder:
                if attempt == ORDER_WAIT_ROUNDS - 1:
                    raise  # the predecessor is not near: the retry queue brings it back later
                eventlet.sleep(0.02 * (attempt + 1))


def health_routes(prefix: str):
    """The `GET <prefix>/health/live` and `<prefix>/health/ready` methods every service class
    carries (under its own prefix, as every route, so one gateway can route them)."""

    @api("GET", f"{prefix}/health/live", public=True, response=OpenSchema(), summary="the process serves requests")
    def live(self, request):
        return {"status": "live"}

    @api("GET", f"{prefix}/health/ready", public=True, response=OpenSchema(), errors=(503,),
         summary="200 when the ledger, read models and broker (and the object store, where used) answer")
    def ready(self, request):
        return readiness(self.readiness_checks())

    return live, ready
