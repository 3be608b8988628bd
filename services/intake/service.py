"""The intake nameko service: HTTP entrypoints and its event subscription, a few lines each."""

from shared.dependencies import Ledger, ReadModels
from shared.http import api, openapi_route
from shared.service_base import CaseService
from shared.views import case_view

from . import readmodels
from .application import Intake
from .schemas import CallSchema, CaseRowSchema, ResubmitSchema, SubmitSchema, WithdrawSchema


class IntakeService(CaseService):
    name = "intake"

    ledger = Ledger(owner="intake")
    store = ReadModels(readmodels.metadata)
    openapi = openapi_route("/intake")
    project = staticmethod(readmodels.project)

    @property
    def app(self) -> Intake:
        return Intake(self.ledger, self.store)

    @api("POST", "/intake/calls", roles=("ministry",), body=CallSchema(), status=201)
    def define_call(self, request, caller, body):
        return self.app.define_call(caller, body)

    @api("GET", "/intake/calls", roles=("applicant", "city", "province", "ministry", "expert", "evaluator", "auditor"))
    def list_calls(self, request, caller):
        return self.app.list_calls()

    @api("POST", "/intake/cases", roles=("applicant",), body=SubmitSchema(), status=201)
    def submit(self, request, caller, body):
        return case_view(self.app.submit(caller, body))

    @api("GET", "/intake/cases", roles=("applicant", "ministry"), response=CaseRowSchema(many=True))
    def list_cases(self, request, caller):
        return self.app.list_cases(caller)

    @api("GET", "/intake/cases/<case_id>", roles=("applicant", "ministry"))
    def get_case(self, request, caller, case_id):
        return case_view(self.app.get(caller, case_id))

    @api("POST", "/intake/cases/<case_id>/resubmit", roles=("applicant",), body=ResubmitSchema())
    def resubmit(self, request, caller, case_id, body):
        return case_view(self.app.resubmit(caller, case_id, body))

    @api("POST", "/intake/cases/<case_id>/withdraw", roles=("applicant",), body=WithdrawSchema())
    def withdraw(self, request, caller, case_id, body):
        return case_view(self.app.withdraw(caller, case_id, body["reason"]))
