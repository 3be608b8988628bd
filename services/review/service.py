"""The review nameko service: the ministry's desk from endorsement to selection."""

import logging

from shared.domain.errors import ValidationFailed
from shared.infra.dependencies import Clock, Ledger, PersonalData, ReadModels, TimerIdentity
from shared.infra.personal.schemas import ErasureRequestSchema
from shared.infra.service_base import CaseService, health_routes
from shared.infra.timers import settings_timer
from shared.infra.web.http import api, openapi_route
from shared.infra.web.views import CASE_VIEW

from . import readmodels
from .application import Review, review_view
from .schemas import (
    BOARD_QUERY,
    AmendmentSchema,
    AssignedCaseSchema,
    AssignmentSchema,
    CommissionSchema,
    CompletionSchema,
    CriteriaSchema,
    DeclarationSchema,
    EvaluationSchema,
    MilestoneReportSchema,
    PanelErasedSchema,
    PanelSchema,
    PanelSubjectsSchema,
    PlacesSchema,
    ReportDecisionSchema,
    ReviewCaseSchema,
    ScoreSchema,
    SelectionSchema,
    ShortlistSchema,
    TaskBookSchema,
    WorkPlanSchema,
)

log = logging.getLogger(__name__)


def _int_arg(request, name: str, default: int) -> int:
    raw = request.args.get(name)
    if raw is None:
        return default
    if not raw.isdigit() or not 0 <= int(raw) <= 3660:
        raise ValidationFailed({name: ["a whole number of days from 0 to 3660"]})
    return int(raw)


class ReviewService(CaseService):
    name = "review"

    ledger = Ledger(owner="review")
    personal = PersonalData()
    store = ReadModels(readmodels.metadata)
    clock = Clock()
    timer_identity = TimerIdentity()
    openapi = openapi_route("/review")
    health_live, health_ready = health_routes("/review")
    project = staticmethod(readmodels.project)

    @property
    def app(self) -> Review:
        return Review(self.ledger, self.store, self.clock.now(), self.personal.vault)

    def shown_panel(self, caller, view: dict) -> dict:
        """A panel's view with its experts' names opened for the ministry, the reading recorded."""
        return self.personal.reveal(caller, view, case_id=view["panel_id"])

    @settings_timer("overdue_scan_interval")  # OVERDUE_SCAN_INTERVAL seconds, 60 by default
    def mark_overdue(self):
        marked = self.app.mark_overdue(self.clock.now(), self.timer_identity.caller())
        if marked:
            log.info("milestones overdue: %s", marked)

    @settings_timer("retention_scan_interval")  # RETENTION_SCAN_INTERVAL seconds, an hour by default
    def erase_panels_past_retention(self):
        erased = self.app.panel_retention_pass(self.timer_identity.caller(), self.clock.now())
        if erased:
            log.info("experts' personal data erased at the end of its retention: %d panels", len(erased))

    @api("GET", "/review/cases", roles=("ministry", "evaluator"), summary="cases with the ministry")
    def cases(self, request, caller):
        return self.app.cases(caller)

    @api("GET", "/review/cases/<case_id>", response=ReviewCaseSchema(), roles=("ministry", "evaluator", "expert"),
         summary="a case with the ministry (an evaluator: only those commissioned to it; an expert: only "
                 "those assigned to it, after declaring no conflict)")
    def get_case(self, request, caller, case_id):
        return self.personal.reveal(caller, review_view(self.app.get(caller, case_id)))

    @api("GET", "/review/assignments", response=AssignedCaseSchema(many=True), roles=("expert",),
         summary="the calling expert's assigned cases, with what it needs to declare on each (not the case itself)")
    def assignments(self, request, caller):
        return self.app.assignments(caller)

    # -- panels and scores --

    @api("POST", "/review/panels", roles=("ministry",), body=PanelSchema(), status=201,
         summary="form the expert panel of a call's direction, with its scoring criteria")
    def form_panel(self, request, caller, body):
        return self.shown_panel(caller, self.app.form_panel(caller, body))

    @api("GET", "/review/panels/<call_id>/<direction>", roles=("ministry",), summary="a panel, with refusals")
    def get_panel(self, request, caller, call_id, direction):
        return self.shown_panel(caller, self.app.get_panel(caller, call_id, direction))

    @api("GET", "/review/panels/<call_id>/<direction>/personal-data", roles=("privacy",),
         response=PanelSubjectsSchema(), summary="whose personal data the panel holds (each expert's data "
                                                 "subject, erased or not): never the data")
    def panel_subjects(self, request, caller, call_id, direction):
        return self.app.panel_subjects(caller, call_id, direction)

    @api("POST", "/review/panels/<call_id>/<direction>/personal-data/erasures", roles=("privacy",),
         body=ErasureRequestSchema(), status=201, response=PanelErasedSchema(),
         summary="erase experts' data (name, declared relations) on a recorded request: the erasure recorded "
                 "on the panel, their keys destroyed")
    def erase_panel_data(self, request, caller, call_id, direction, body):
        return self.app.erase_panel_data(caller, call_id, direction, body["subjects"], body["request"],
                                         body["reason"])

    @api("POST", "/review/cases/<case_id>/experts", roles=("ministry",), body=AssignmentSchema(),
         summary="assign an expert of the panel (a conflict of interest is refused and recorded)")
    def assign_expert(self, request, caller, case_id, body):
        return self.shown_panel(caller, self.app.assign_expert(caller, case_id, body["expert"]))

    @api("POST", "/review/cases/<case_id>/declaration", roles=("expert",), body=DeclarationSchema(),
         summary="the assigned expert declares no conflict of interest (or one, and is recused)")
    def declare(self, request, caller, case_id, body):
        return self.app.declare(caller, case_id, body["conflict"], body["relation"])

    @api("POST", "/review/cases/<case_id>/scores", roles=("expert",), body=ScoreSchema(), status=201,
         summary="the expert's scores, one per criterion of the panel; final once submitted")
    def score(self, request, caller, case_id, body):
        return self.app.score(caller, case_id, body["scores"], body["comment"])

    @api("GET", "/review/cases/<case_id>/criteria", response=CriteriaSchema(), roles=("ministry", "expert"),
         summary="the scoring criteria of the case's panel (an expert: once it has declared no conflict)")
    def criteria(self, request, caller, case_id):
        return self.app.criteria(caller, case_id)

    @api("GET", "/review/cases/<case_id>/scores", roles=("ministry", "expert"),
         summary="experts' scores (an expert sees others' only after submitting its own)")
    def scores(self, request, caller, case_id):
        return self.app.scores(caller, case_id)

    @api("GET", "/review/calls/<call_id>/directions/<direction>/ranking", roles=("ministry",),
         summary="the direction's cases by mean score, ties shown as ties")
    def ranking(self, request, caller, call_id, direction):
        return self.app.ranking(caller, call_id, direction)

    @api("GET", "/review/cases/<case_id>/places", response=PlacesSchema(), roles=("ministry",),
         summary="the shortlist and success places of the case's direction (or list): the call's limit in force, "
                 "how many are taken and by which cases")
    def places(self, request, caller, case_id):
        return self.app.places(caller, case_id)

    @api("POST", "/review/cases/<case_id>/shortlist", response=CASE_VIEW, roles=("ministry",), body=ShortlistSchema(),
         summary="入围 (at most the call's limit per direction) or not shortlisted")
    def shortlist(self, request, caller, case_id, body):
        return self.shown(caller, self.app.shortlist(caller, case_id, body["shortlisted"], body["reason"]))

    # -- task book and milestones --

    @api("POST", "/review/cases/<case_id>/task-book", response=CASE_VIEW, roles=("ministry",), body=TaskBookSchema())
    def sign_task_book(self, request, caller, case_id, body):
        return self.shown(caller, self.app.sign_task_book(caller, case_id, body))

    @api("POST", "/review/cases/<case_id>/task-book/amendments", response=CASE_VIEW, roles=("ministry",),
         body=AmendmentSchema(),
         summary="amend a signed task book: the whole amended book, signed by every party of the book")
    def amend_task_book(self, request, caller, case_id, body):
        return self.shown(caller, self.app.amend_task_book(caller, case_id, body))

    @api("POST", "/review/cases/<case_id>/milestones/<milestone_id>/report", response=CASE_VIEW, roles=("applicant",),
         body=MilestoneReportSchema())
    def report_milestone(self, request, caller, case_id, milestone_id, body):
        return self.shown(caller, self.app.report_milestone(caller, case_id, milestone_id, body))

    @api("POST", "/review/cases/<case_id>/milestones/<milestone_id>/decision", response=CASE_VIEW, roles=("ministry",),
         body=ReportDecisionSchema(), summary="accept a milestone report, or send it back with reasons")
    def decide_report(self, request, caller, case_id, milestone_id, body):
        return self.shown(caller, self.app.decide_report(caller, case_id, milestone_id, body))

    @api("GET", "/review/calls/<call_id>/milestones", roles=("ministry", "province"), query=BOARD_QUERY,
         summary="milestone board: due soon, overdue, reported, accepted, sent back")
    def milestone_board(self, request, caller, call_id):
        return self.app.milestone_board(caller, call_id, self.clock.today(), _int_arg(request, "due_within", 30))

    @api("POST", "/review/cases/<case_id>/work-plans", response=CASE_VIEW, roles=("province",),
         body=WorkPlanSchema(), status=201,
         summary="an annual work plan the province guided, recorded against the task book")
    def record_work_plan(self, request, caller, case_id, body):
        return self.shown(caller, self.app.record_work_plan(caller, case_id, body))

    @api("POST", "/review/cases/<case_id>/completion", response=CASE_VIEW, roles=("applicant",),
         body=CompletionSchema(),
         summary="the unit declares the task completed")
    def declare_completion(self, request, caller, case_id, body):
        return self.shown(caller, self.app.declare_completion(caller, case_id, body))

    # -- evaluation and selection --

    @api("POST", "/review/cases/<case_id>/evaluator", response=CASE_VIEW, roles=("ministry",), body=CommissionSchema())
    def commission_evaluator(self, request, caller, case_id, body):
        return self.shown(caller, self.app.commission_evaluator(caller, case_id, body["evaluator"]))

    @api("POST", "/review/cases/<case_id>/evaluation", response=CASE_VIEW, roles=("evaluator",),
         body=EvaluationSchema())
    def record_evaluation(self, request, caller, case_id, body):
        return self.shown(caller, self.app.record_evaluation(caller, case_id, body))

    @api("POST", "/review/cases/<case_id>/selection", response=CASE_VIEW, roles=("ministry",), body=SelectionSchema(),
         summary="selected (at most the call's success limit per direction) or not selected")
    def select(self, request, caller, case_id, body):
        return self.shown(caller, self.app.select(caller, case_id, body["selected"], body["reason"]))
