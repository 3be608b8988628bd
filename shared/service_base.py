"""What every service class has: the relay loop, its OpenAPI document, and its subscription.

Each service declares its own ledger (with its owner), read-model store, routes and
`project` (its read models' projection); nameko finds the inherited extensions too.
"""

import logging

import eventlet

from shared.dependencies import RelayRunner, subscribe
from shared.http import OpenApi
from shared.projection import OutOfOrder

log = logging.getLogger(__name__)

ORDER_WAIT_ROUNDS = 10  # about 1 s in all


class CaseService:
    relay = RelayRunner()
    openapi_document = OpenApi()

    @staticmethod
    def project(session, event: dict) -> None:
        raise NotImplementedError("each service names its projection")

    def react(self, event: dict) -> None:
        """What a service does about an event beyond its read models (default: nothing).

        Runs on every delivery, before the once-only projection: it must be idempotent.
        """

    @subscribe()
    def on_case_event(self, event):
        self.react(event)
        # A burst of one stream's events (e.g. eight documents attached in one save) is
        # handled by several workers at once; an event whose predecessor is still being
        # applied next door waits a moment here instead of a round trip through the
        # retry queue (1 s each), which would serialise the burst at one event a second.
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
