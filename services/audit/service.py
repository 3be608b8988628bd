"""The audit nameko service: read-only replay of any case for auditors.

It opens the ledger without an owner, so it can append nothing.
"""

from shared.dependencies import Ledger, ReadModels
from shared.http import api, openapi_route
from shared.service_base import CaseService

from . import readmodels
from .application import Audit


class AuditService(CaseService):
    name = "audit"

    ledger = Ledger(owner=None)
    store = ReadModels(readmodels.metadata)
    openapi = openapi_route("/audit")
    project = staticmethod(readmodels.project)

    @property
    def app(self) -> Audit:
        return Audit(self.ledger, self.store)

    @api("GET", "/audit/cases/<case_id>/history", roles=("auditor",),
         summary="every event of the case, in order, with type, version, time, actor and payload")
    def history(self, request, caller, case_id):
        return self.app.history(caller, case_id)

    @api("GET", "/audit/actors/<org>/events", roles=("auditor",), summary="every case event one organisation made")
    def touched_by(self, request, caller, org):
        return self.app.touched_by(caller, org)
