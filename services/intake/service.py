"""The intake nameko service: HTTP entrypoints, a few lines each."""

import logging

from shared.domain.access import ROLES
from shared.infra.dependencies import Clock, Ledger, PersonalData, ReadModels, TimerIdentity
from shared.infra.personal.schemas import CopyRequestSchema, ErasureRecordSchema, ErasureRequestSchema
from shared.infra.service_base import CaseService, health_routes
from shared.infra.timers import settings_timer
from shared.infra.web.http import api, openapi_route
from shared.infra.web.openapi import OpenSchema, json_schema
from shared.infra.web.timeline import TimelineSchema
from shared.infra.web.views import CASE_VIEW

from . import readmodels
from .application import Intake
from .calendar import CalendarYears
from .personal import PersonalDataDesk
from .schemas import (
    AMENDMENT_BODY,
    APPLICATION_BODY,
    ARRANGEMENT_BODY,
    CALL_BODY,
    CALL_QUERY,
    FORM_QUERY,
    CalendarVersionSchema,
    CalendarYearSchema,
    CalendarYearsSchema,
    CallSchema,
    CallVersionSchema,
    CaseRowSchema,
    CountsSchema,
    DraftDeletedSchema,
    DraftSavedSchema,
    DraftSchema,
    DraftUpdateSchema,
    DraftViewSchema,
    ErasedSchema,
    ErasureSchema,
    ResubmitSchema,
    SubjectsSchema,
    WithdrawSchema,
)

log = logging.getLogger(__name__)


class IntakeService(CaseService):
    name = "intake"

    ledger = Ledger(owner="intake")
    store = ReadModels(readmodels.metadata)
    clock = Clock()
    personal = PersonalData()
    timer_identity = TimerIdentity()
    openapi = openapi_route("/intake")
    health_live, health_ready = health_routes("/intake")
    project = staticmethod(readmodels.project)

    @property
    def app(self) -> Intake:
        return Intake(self.ledger, self.store, self.clock.now(), self.personal.vault)

    @property
    def desk(self) -> PersonalDataDesk:
        return PersonalDataDesk(self.ledger, self.store, self.personal.vault, self.clock.now())

    @property
    def calendar(self) -> CalendarYears:
        return CalendarYears(self.ledger, self.store)

    @api("POST", "/intake/calls", roles=("ministry",), json_body=True, documented_body=CALL_BODY, status=201,
         response=CallVersionSchema(),
         summary="define a call (shared.domain.call_rules.CallDefinitionSchema), version 1")
    def define_call(self, request, caller, body):
        return self.app.define_call(caller, body)

    @api("POST", "/intake/calls/<call_id>/amendments", roles=("ministry",), json_body=True, documented_body=CALL_BODY,
         status=201,
         response=CallVersionSchema(),
         summary="amend a call: a new version; cases keep the version they were filed under")
    def amend_call(self, request, caller, call_id, body):
        return self.app.amend_call(caller, call_id, body)

    @api("GET", "/intake/calls", roles=ROLES, response=CallSchema(many=True), summary="every call, latest version")
    def list_calls(self, request, caller):
        return self.app.list_calls()

    @api("GET", "/intake/calls/<call_id>", roles=ROLES, query=CALL_QUERY, response=CallSchema(),
         summary="a call (?version= for an earlier one)")
    def get_call(self, request, caller, call_id):
        return self.app.get_call(call_id, request.args.get("version", type=int))

    @api("GET", "/intake/calls/<call_id>/form", roles=ROLES, query=FORM_QUERY, response=OpenSchema(),
         summary="the JSON Schema of the call's application form (?direction= for a 揭榜挂帅 call)")
    def form(self, request, caller, call_id):
        call, schema = self.app.form(call_id, request.args.get("direction"))
        return {"call_id": call_id, "version": call["version"], "program": call["program"],
                "direction": request.args.get("direction"), "json_schema": json_schema("Application", schema)}

    @api("GET", "/intake/calls/<call_id>/counts", roles=("ministry",), response=CountsSchema(),
         summary="cases of a call by direction, province and stage")
    def counts(self, request, caller, call_id):
        return self.app.counts(caller, call_id)

    @api("POST", "/intake/calls/<call_id>/cases", response=CASE_VIEW, roles=("applicant",), json_body=True,
         documented_body=APPLICATION_BODY, status=201,
         summary="submit an application (the call's form) and open its case")
    def submit(self, request, caller, call_id, body):
        return self.shown(caller, self.app.submit(caller, call_id, body))

    @api("POST", "/intake/drafts", roles=("applicant",), body=DraftSchema(), status=201, response=DraftSavedSchema(),
         summary="save a draft (not part of any case's history)")
    def save_draft(self, request, caller, body):
        return self.app.save_draft(caller, body["call_id"], body["form"])

    @api("GET", "/intake/drafts", roles=("applicant",), response=DraftViewSchema(many=True))
    def drafts(self, request, caller):
        return self.app.drafts(caller)

    @api("GET", "/intake/drafts/<draft_id>", roles=("applicant",), response=DraftViewSchema())
    def draft(self, request, caller, draft_id):
        return self.app.draft(caller, draft_id)

    @api("PUT", "/intake/drafts/<draft_id>", roles=("applicant",), body=DraftUpdateSchema(),
         response=DraftSavedSchema())
    def update_draft(self, request, caller, draft_id, body):
        return self.app.update_draft(caller, draft_id, body["form"])

    @api("DELETE", "/intake/drafts/<draft_id>", roles=("applicant",), response=DraftDeletedSchema(),
         summary="abandon a draft: removed for good; another unit's draft id answers 404")
    def delete_draft(self, request, caller, draft_id):
        return self.app.delete_draft(caller, draft_id)

    @api("POST", "/intake/drafts/<draft_id>/submit", response=CASE_VIEW, roles=("applicant",), status=201)
    def submit_draft(self, request, caller, draft_id):
        return self.shown(caller, self.app.submit_draft(caller, draft_id))

    @api("GET", "/intake/cases", roles=("applicant", "ministry"), response=CaseRowSchema(many=True))
    def list_cases(self, request, caller):
        return self.app.list_cases(caller)

    @api("GET", "/intake/cases/<case_id>", response=CASE_VIEW, roles=("applicant", "ministry"))
    def get_case(self, request, caller, case_id):
        return self.shown(caller, self.app.get(caller, case_id))

    @api("GET", "/intake/cases/<case_id>/timeline", response=TimelineSchema(), roles=("applicant", "ministry"),
         summary="the case's events in order: when, who, what (what others may not see left out)")
    def timeline(self, request, caller, case_id):
        return self.app.timeline(caller, case_id)

    @api("POST", "/intake/cases/<case_id>/resubmit", response=CASE_VIEW, roles=("applicant",), body=ResubmitSchema())
    def resubmit(self, request, caller, case_id, body):
        return self.shown(caller, self.app.resubmit(caller, case_id, body["application"], body["changes"]))

    @api("POST", "/intake/cases/<case_id>/withdraw", response=CASE_VIEW, roles=("applicant",), body=WithdrawSchema())
    def withdraw(self, request, caller, case_id, body):
        return self.shown(caller, self.app.withdraw(caller, case_id, body["reason"]))

    # -- personal information (issue #21): the privacy officer's desk --

    @api("GET", "/intake/cases/<case_id>/personal-data", roles=("privacy",), response=SubjectsSchema(),
         summary="whose personal data the case holds (each data subject, its kind, erased or not): never the data")
    def personal_subjects(self, request, caller, case_id):
        return self.desk.subjects(caller, case_id)

    @api("POST", "/intake/cases/<case_id>/personal-data/erasures", roles=("privacy",), body=ErasureSchema(),
         status=201, response=ErasedSchema(),
         summary="erase data subjects' data on a recorded request: the erasure recorded on the case, their keys "
                 "destroyed; every view, replay and bundle shows them erased")
    def erase_personal_data(self, request, caller, case_id, body):
        return self.desk.erase(caller, case_id, body["subjects"], body["request"], body["reason"], body["documents"])

    @api("POST", "/intake/drafts/<draft_id>/erasures", roles=("privacy",), body=ErasureRequestSchema(), status=201,
         response=ErasureRecordSchema(), summary="delete a draft that names a person who asked for erasure (a "
                                                 "person's copy lists them); the erasure recorded")
    def erase_draft(self, request, caller, draft_id, body):
        return self.desk.erase_draft(caller, draft_id, body["request"], body["reason"])

    @api("POST", "/intake/personal-data/copies", roles=("privacy",), body=CopyRequestSchema(),
         summary="everything the platform holds about a person (by name, mobile or e-mail): their data in every "
                 "case, the drafts naming them, who was shown it; the search itself is recorded")
    def personal_copy(self, request, caller, body):
        return self.desk.copy_for(caller, route=self.personal.route, **body)

    @settings_timer("retention_scan_interval")  # RETENTION_SCAN_INTERVAL seconds, an hour by default
    def erase_past_retention(self):
        erased = self.desk.retention_pass(self.timer_identity.caller())
        if erased:
            log.info("personal data erased at the end of its retention: %d cases", len(erased))

    # -- the calendar: each year's official holiday arrangement, as the ministry records it --

    @api("POST", "/intake/calendar/years", roles=("ministry",), json_body=True, documented_body=ARRANGEMENT_BODY,
         status=201, response=CalendarVersionSchema(),
         summary="record a year's holiday arrangement (State Council notice), version 1; it overrides holidays")
    def record_calendar_year(self, request, caller, body):
        return self.calendar.record(caller, body)

    @api("POST", "/intake/calendar/years/<year>/amendments", roles=("ministry",), json_body=True,
         documented_body=AMENDMENT_BODY, status=201, response=CalendarVersionSchema(),
         summary="amend a recorded year: a new version; notices already opened keep their dates")
    def amend_calendar_year(self, request, caller, year, body):
        return self.calendar.amend(caller, year, body)

    @api("GET", "/intake/calendar/years", roles=ROLES, response=CalendarYearsSchema(),
         summary="the years the ministry recorded (latest versions), and the years the holidays package knows")
    def calendar_years(self, request, caller):
        return self.calendar.years()

    @api("GET", "/intake/calendar/years/<year>", roles=ROLES, response=CalendarYearSchema(),
         summary="the calendar in force for a year (recorded, else holidays) with every recorded version")
    def calendar_year(self, request, caller, year):
        return self.calendar.year(year)
