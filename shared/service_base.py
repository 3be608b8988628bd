"""What every service class has: the relay loop, its OpenAPI document, and its subscription.

Each service declares its own ledger (with its owner), read-model store, routes and
`project` (its read models' projection); nameko finds the inherited extensions too.
"""

from shared.dependencies import RelayRunner, subscribe
from shared.http import OpenApi


class CaseService:
    relay = RelayRunner()
    openapi_document = OpenApi()

    @staticmethod
    def project(session, event: dict) -> None:
        raise NotImplementedError("each service names its projection")

    @subscribe()
    def on_case_event(self, event):
        self.store.apply_once(event, self.project)
