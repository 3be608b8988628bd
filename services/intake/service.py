"""The intake nameko service: HTTP entrypoints, a few lines each."""

from shared.auth import ROLES
from shared.dependencies import Clock, Ledger, ReadModels
from shared.http import api, openapi_route
from shared.service_base import CaseService
from shared.views import case_view

from . import readmodels
from .application import Intake
from .schemas import CaseRowSchema, DraftSchema, DraftUpdateSchema, ResubmitSchema, WithdrawSchema


class IntakeService(CaseService):
    name = "intake"

    ledger = Ledger(owner="intake")
    store = ReadModels(readmodels.metadata)
    clock = Clock()
    openapi = openapi_route("/intake")
    project = staticmethod(readmodels.project)

    @property
    def app(self) -> Intake:
        return Intake(self.ledger, self.store, self.clock.now())

    @api("POST", "/intake/calls", roles=("ministry",), json_body=True, status=201,
         summary="define a call (shared.call_definition.CallDefinitionSchema), version 1")
    def define_call(self, request, caller, body):
        return self.app.define_call(caller, body)

    @api("POST", "/intake/calls/<call_id>/amendments", roles=("ministry",), json_body=True, status=201,
         summary="amend a call: a new version; cases keep the version they were filed under")
    def amend_call(self, request, caller, call_id, body):
        return self.app.amend_call(caller, call_id, body)

    @api("GET", "/intake/calls", roles=ROLES, summary="every call, latest version")
    def list_calls(self, request, caller):
        return self.app.list_calls()

    @api("GET", "/intake/calls/<call_id>", roles=ROLES, summary="a call (?version= for an earlier one)")
    def get_call(self, request, caller, call_id):
        return self.app.get_call(call_id, request.args.get("version", type=int))

    @api("GET", "/intake/calls/<call_id>/counts", roles=("ministry",),
         summary="cases of a call by direction, province and stage")
    def counts(self, request, caller, call_id):
        return self.app.counts(caller, call_id)

    @api("POST", "/intake/calls/<call_id>/cases", roles=("applicant",), json_body=True, status=201,
         summary="submit an application (the call's form) and open its case")
    def submit(self, request, caller, call_id, body):
        return case_view(self.app.submit(caller, call_id, body))

    @api("POST", "/intake/drafts", roles=("applicant",), body=DraftSchema(), status=201,
         summary="save a draft (not part of any case's history)")
    def save_draft(self, request, caller, body):
        return self.app.save_draft(caller, body["call_id"], body["form"])

    @api("GET", "/intake/drafts", roles=("applicant",))
    def drafts(self, request, caller):
        return self.app.drafts(caller)

    @api("GET", "/intake/drafts/<draft_id>", roles=("applicant",))
    def draft(self, request, caller, draft_id):
        return self.app.draft(caller, draft_id)

    @api("PUT", "/intake/drafts/<draft_id>", roles=("applicant",), body=DraftUpdateSchema())
    def update_draft(self, request, caller, draft_id, body):
        return self.app.update_draft(caller, draft_id, body["form"])

    @api("POST", "/intake/drafts/<draft_id>/submit", roles=("applicant",), status=201)
    def submit_draft(self, request, caller, draft_id):
        return case_view(self.app.submit_draft(caller, draft_id))

    @api("GET", "/intake/cases", roles=("applicant", "ministry"), response=CaseRowSchema(many=True))
    def list_cases(self, request, caller):
        return self.app.list_cases(caller)

    @api("GET", "/intake/cases/<case_id>", roles=("applicant", "ministry"))
    def get_case(self, request, caller, case_id):
        return case_view(self.app.get(caller, case_id))

    @api("POST", "/intake/cases/<case_id>/resubmit", roles=("applicant",), body=ResubmitSchema())
    def resubmit(self, request, caller, case_id, body):
        return case_view(self.app.resubmit(caller, case_id, body["application"], body["changes"]))

    @api("POST", "/intake/cases/<case_id>/withdraw", roles=("applicant",), body=WithdrawSchema())
    def withdraw(self, request, caller, case_id, body):
        return case_view(self.app.withdraw(caller, case_id, body["reason"]))
