"""The review nameko service: the ministry's desk from endorsement to selection."""

from shared.dependencies import Ledger, ReadModels
from shared.http import api, openapi_route
from shared.service_base import CaseService
from shared.views import case_view

from . import readmodels
from .application import Review
from .schemas import (
    CommissionSchema, EvaluationSchema, MilestoneReportSchema, SelectionSchema, ShortlistSchema,
    TaskBookSchema,
)


class ReviewService(CaseService):
    name = "review"

    ledger = Ledger(owner="review")
    store = ReadModels(readmodels.metadata)
    openapi = openapi_route("/review")
    project = staticmethod(readmodels.project)

    @property
    def app(self) -> Review:
        return Review(self.ledger, self.store)

    @api("GET", "/review/cases", roles=("ministry", "evaluator"), summary="cases with the ministry")
    def cases(self, request, caller):
        return self.app.cases(caller)

    @api("GET", "/review/cases/<case_id>", roles=("ministry", "evaluator"),
         summary="a case with the ministry (an evaluator: only those commissioned to it)")
    def get_case(self, request, caller, case_id):
        return case_view(self.app.get(caller, case_id))

    @api("POST", "/review/cases/<case_id>/shortlist", roles=("ministry",), body=ShortlistSchema())
    def shortlist(self, request, caller, case_id, body):
        return case_view(self.app.shortlist(caller, case_id, body["shortlisted"], body["reason"]))

    @api("POST", "/review/cases/<case_id>/task-book", roles=("ministry",), body=TaskBookSchema())
    def sign_task_book(self, request, caller, case_id, body):
        return case_view(self.app.sign_task_book(caller, case_id, body))

    @api("POST", "/review/cases/<case_id>/milestones/<milestone_id>/report", roles=("applicant",),
         body=MilestoneReportSchema())
    def report_milestone(self, request, caller, case_id, milestone_id, body):
        return case_view(self.app.report_milestone(caller, case_id, milestone_id, body))

    @api("POST", "/review/cases/<case_id>/evaluator", roles=("ministry",), body=CommissionSchema())
    def commission_evaluator(self, request, caller, case_id, body):
        return case_view(self.app.commission_evaluator(caller, case_id, body["evaluator"]))

    @api("POST", "/review/cases/<case_id>/evaluation", roles=("evaluator",), body=EvaluationSchema())
    def record_evaluation(self, request, caller, case_id, body):
        return case_view(self.app.record_evaluation(caller, case_id, body))

    @api("POST", "/review/cases/<case_id>/selection", roles=("ministry",), body=SelectionSchema())
    def select(self, request, caller, case_id, body):
        return case_view(self.app.select(caller, case_id, body["selected"], body["reason"]))
