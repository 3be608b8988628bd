"""The audit nameko service: read-only replay of any case for auditors, and the checkpoint
follower that hashes, signs and publishes the ledger's history (issue #8).

It opens the ledger without an owner, so it can append nothing.
"""

from shared.dependencies import Ledger, ReadModels
from shared.http import api, openapi_route
from shared.service_base import CaseService

from . import readmodels
from .application import Audit
from .follower import CheckpointFollower


class AuditService(CaseService):
    name = "audit"

    ledger = Ledger(owner=None)
    store = ReadModels(readmodels.metadata)
    integrity = CheckpointFollower()
    openapi = openapi_route("/audit")
    project = staticmethod(readmodels.project)

    @property
    def app(self) -> Audit:
        return Audit(self.ledger, self.store, self.integrity)

    @api("GET", "/audit/cases/<case_id>/history", roles=("auditor",),
         summary="every event of the case, in order, with type, version, time, actor and payload")
    def history(self, request, caller, case_id):
        return self.app.history(caller, case_id)

    @api("GET", "/audit/cases/<case_id>/state", roles=("auditor",),
         summary="the case as it stood at ?version=N or ?at=<date or ISO time> (default: now)")
    def state(self, request, caller, case_id):
        return self.app.state(caller, case_id, request.args.get("version"), request.args.get("at"))

    @api("GET", "/audit/cases/<case_id>/diff", roles=("auditor",),
         summary="what changed between ?from=N and ?to=M, and the events between")
    def diff(self, request, caller, case_id):
        return self.app.diff(caller, case_id, request.args.get("from"), request.args.get("to"))

    @api("GET", "/audit/cases/<case_id>/verify", roles=("auditor",),
         summary="the case's stored events against its hash chain and the signed checkpoints")
    def verify(self, request, caller, case_id):
        return self.app.verify(caller, case_id)

    @api("GET", "/audit/cases/<case_id>/proofs", roles=("auditor",),
         summary="inclusion proofs of the case's events in the latest signed checkpoint")
    def proofs(self, request, caller, case_id):
        return self.app.proofs(caller, case_id)

    @api("GET", "/audit/cases/<case_id>/bundle", roles=("auditor",),
         summary="the offline audit bundle (verify with `caseplatform verify-bundle`)")
    def bundle(self, request, caller, case_id):
        return self.app.bundle(caller, case_id)

    @api("GET", "/audit/actors/<org>/events", roles=("auditor",), summary="every case event one organisation made")
    def touched_by(self, request, caller, org):
        return self.app.touched_by(caller, org)

    @api("GET", "/audit/events", roles=("auditor",),
         summary="every case touched in ?from=&to= (dates or ISO times), with its events")
    def touched_between(self, request, caller):
        return self.app.touched_between(caller, request.args.get("from"), request.args.get("to"))

    @api("GET", "/audit/checkpoints", roles=("auditor",),
         summary="the signed checkpoints and the public key they are signed with")
    def checkpoints(self, request, caller):
        return self.app.checkpoints(caller)

    @api("GET", "/audit/checkpoints/consistency", roles=("auditor",),
         summary="the consistency proof between checkpoints ?from=N and ?to=M")
    def consistency(self, request, caller):
        return self.app.consistency(caller, request.args.get("from"), request.args.get("to"))
