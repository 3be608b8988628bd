"""The verification nameko service: the city and province authorities' desk."""

from shared.dependencies import Ledger, ReadModels
from shared.http import api, openapi_route
from shared.service_base import CaseService
from shared.views import case_view

from . import readmodels
from .application import AUTHORITIES, Verification
from .schemas import ChecksSchema, RecommendSchema, RejectSchema, ReturnSchema


class VerificationService(CaseService):
    name = "verification"

    ledger = Ledger(owner="verification")
    store = ReadModels(readmodels.metadata)
    openapi = openapi_route("/verification")
    project = staticmethod(readmodels.project)

    @property
    def app(self) -> Verification:
        return Verification(self.ledger, self.store)

    @api("GET", "/verification/inbox", roles=AUTHORITIES, summary="cases in my region waiting for my level")
    def inbox(self, request, caller):
        return self.app.inbox(caller)

    @api("GET", "/verification/cases/<case_id>", roles=AUTHORITIES, summary="a case in my region, with its application")
    def get_case(self, request, caller, case_id):
        return case_view(self.app.get(caller, case_id))

    @api("POST", "/verification/cases/<case_id>/checks", roles=AUTHORITIES, body=ChecksSchema())
    def record_checks(self, request, caller, case_id, body):
        return case_view(self.app.record_checks(caller, case_id, body))

    @api("POST", "/verification/cases/<case_id>/recommend", roles=("city",), body=RecommendSchema())
    def recommend(self, request, caller, case_id, body):
        return case_view(self.app.recommend(caller, case_id, body["reason"], body["rank"]))

    @api("POST", "/verification/cases/<case_id>/endorse", roles=("province",), body=RecommendSchema())
    def endorse(self, request, caller, case_id, body):
        return case_view(self.app.endorse(caller, case_id, body["reason"], body["rank"]))

    @api("POST", "/verification/cases/<case_id>/return", roles=AUTHORITIES, body=ReturnSchema())
    def return_for_correction(self, request, caller, case_id, body):
        return case_view(self.app.return_for_correction(caller, case_id, body["reasons"]))

    @api("POST", "/verification/cases/<case_id>/reject", roles=AUTHORITIES, body=RejectSchema())
    def reject(self, request, caller, case_id, body):
        return case_view(self.app.reject(caller, case_id, body["reason"]))
