"""The audit nameko service: read-only replay of any case for auditors, and the checkpoint
follower that hashes, signs and publishes the ledger's history (issue #8).

It opens the ledger without an owner, so it can append nothing.
"""

from shared.infra.dependencies import Ledger, PersonalData, ReadModels
from shared.infra.personal.schemas import ErasureRecordSchema
from shared.infra.service_base import CaseService, health_routes
from shared.infra.web.http import api, openapi_route
from shared.infra.web.openapi import OpenSchema

from . import readmodels
from .application import Audit
from .follower import CheckpointFollower
from .schemas import (
    ACCESS_QUERY,
    CONSISTENCY_QUERY,
    DIFF_QUERY,
    ERASURES_QUERY,
    PERIOD_QUERY,
    STATE_QUERY,
    AccessSchema,
    CheckpointsSchema,
    ConsistencySchema,
    DiffSchema,
    HistorySchema,
    PeriodSchema,
    ProofsSchema,
    StateSchema,
    TouchSchema,
    VerificationSchema,
)


class AuditService(CaseService):
    name = "audit"

    ledger = Ledger(owner=None)
    personal = PersonalData()
    store = ReadModels(readmodels.metadata)
    integrity = CheckpointFollower()
    openapi = openapi_route("/audit")
    health_live, health_ready = health_routes("/audit")
    project = staticmethod(readmodels.project)

    @property
    def app(self) -> Audit:
        return Audit(self.ledger, self.store, self.integrity)

    @api("GET", "/audit/cases/<case_id>/history", roles=("auditor",), response=HistorySchema(),
         summary="every event of the case, in order, with type, version, time, actor and payload")
    def history(self, request, caller, case_id):
        return self.personal.reveal(caller, self.app.history(caller, case_id), case_id)

    @api("GET", "/audit/cases/<case_id>/state", roles=("auditor",), query=STATE_QUERY,
         response=StateSchema(),
         summary="the case as it stood at ?version=N or ?at=<date or ISO time> (default: now)")
    def state(self, request, caller, case_id):
        return self.personal.reveal(
            caller, self.app.state(caller, case_id, request.args.get("version"), request.args.get("at")), case_id)

    @api("GET", "/audit/cases/<case_id>/diff", roles=("auditor",), query=DIFF_QUERY, response=DiffSchema(),
         summary="what changed between ?from=N and ?to=M, and the events between")
    def diff(self, request, caller, case_id):
        return self.personal.reveal(
            caller, self.app.diff(caller, case_id, request.args.get("from"), request.args.get("to")), case_id)

    @api("GET", "/audit/cases/<case_id>/verify", roles=("auditor",), response=VerificationSchema(),
         summary="the case's stored events against its hash chain and the signed checkpoints")
    def verify(self, request, caller, case_id):
        return self.app.verify(caller, case_id)

    @api("GET", "/audit/cases/<case_id>/proofs", roles=("auditor",), response=ProofsSchema(),
         summary="inclusion proofs of the case's events in the latest signed checkpoint")
    def proofs(self, request, caller, case_id):
        return self.app.proofs(caller, case_id)

    @api("GET", "/audit/cases/<case_id>/bundle", roles=("auditor",), response=OpenSchema(),
         summary="the offline audit bundle (verify with `caseplatform verify-bundle`)")
    def bundle(self, request, caller, case_id):
        return self.app.bundle(caller, case_id)

    @api("GET", "/audit/actors/<org>/events", roles=("auditor",), response=TouchSchema(many=True),
         summary="every case event one organisation made")
    def touched_by(self, request, caller, org):
        return self.app.touched_by(caller, org)

    @api("GET", "/audit/events", roles=("auditor",), query=PERIOD_QUERY, response=PeriodSchema(),
         summary="every case touched in ?from=&to= (dates or ISO times), with its events")
    def touched_between(self, request, caller):
        return self.app.touched_between(caller, request.args.get("from"), request.args.get("to"))

    @api("GET", "/audit/checkpoints", roles=("auditor",), response=CheckpointsSchema(), errors=(404,),
         summary="the signed checkpoints and the public key they are signed with")
    def checkpoints(self, request, caller):
        return self.app.checkpoints(caller)

    @api("GET", "/audit/checkpoints/consistency", roles=("auditor",), query=CONSISTENCY_QUERY,
         response=ConsistencySchema(),
         summary="the consistency proof between checkpoints ?from=N and ?to=M")
    def consistency(self, request, caller):
        return self.app.consistency(caller, request.args.get("from"), request.args.get("to"))

    @api("GET", "/audit/personal-access", roles=("auditor", "privacy"), query=ACCESS_QUERY,
         response=AccessSchema(many=True),
         summary="who was shown whose personal data, when and on which route (?case_id=, ?sub=), oldest first")
    def personal_access(self, request, caller):
        return self.personal.vault.store.accesses(case_id=request.args.get("case_id"), sub=request.args.get("sub"),
                                                  offset=request.args.get("offset", 0, type=int))

    @api("GET", "/audit/personal-erasures", roles=("auditor", "privacy"), query=ERASURES_QUERY,
         response=ErasureRecordSchema(many=True),
         summary="erasures of personal data kept outside the ledger (an authority's contact), oldest first; "
                 "the ledger's own are PersonalDataErased events on their streams")
    def personal_erasures(self, request, caller):
        return self.personal.vault.store.erasures(record=request.args.get("record"),
                                                  offset=request.args.get("offset", 0, type=int))

