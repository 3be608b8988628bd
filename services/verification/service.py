"""The verification nameko service: the city and province authorities' desk."""

from werkzeug.wrappers import Response

from shared.infra.dependencies import Clock, Ledger, PersonalData, ReadModels
from shared.infra.personal.schemas import CopyRequestSchema, ErasureRecordSchema, ErasureRequestSchema
from shared.infra.service_base import CaseService, health_routes
from shared.infra.web.http import api, openapi_route
from shared.infra.web.timeline import TimelineSchema
from shared.infra.web.views import CASE_VIEW

from . import readmodels
from .application import AUTHORITIES, CONTACT_SUBJECT, Verification, contact_record
from .schemas import (
    ChecksSchema,
    ContactSchema,
    ContactStatusSchema,
    ContactViewSchema,
    InboxRowSchema,
    QuotaSchema,
    RecommendSchema,
    RejectSchema,
    ReturnSchema,
    WithdrawEndorsementSchema,
)

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class VerificationService(CaseService):
    name = "verification"

    ledger = Ledger(owner="verification")
    personal = PersonalData()
    store = ReadModels(readmodels.metadata)
    clock = Clock()
    openapi = openapi_route("/verification")
    health_live, health_ready = health_routes("/verification")
    project = staticmethod(readmodels.project)

    @property
    def app(self) -> Verification:
        return Verification(self.ledger, self.store, self.clock.now(), self.personal.vault)

    def contact_read(self, caller, contact: dict | None) -> None:
        """The authority's contact was shown (the form, the 推荐汇总表 that prints it): recorded."""
        if contact:
            self.personal.record_reading(caller, contact_record(caller.org), [CONTACT_SUBJECT])

    def react(self, event):
        # An applicant who withdraws an endorsed application gives its place back.
        if event["type"] == "Withdrawn":
            self.app.free_place_of_withdrawn(event["case_id"])

    @api("GET", "/verification/inbox", roles=AUTHORITIES, response=InboxRowSchema(many=True),
         summary="cases in my region waiting for my level, with my level's deadline")
    def inbox(self, request, caller):
        return self.app.inbox(caller)

    @api("GET", "/verification/cases/<case_id>", response=CASE_VIEW, roles=AUTHORITIES,
         summary="a case in my region, with its application")
    def get_case(self, request, caller, case_id):
        return self.shown(caller, self.app.get(caller, case_id))

    @api("GET", "/verification/cases/<case_id>/timeline", response=TimelineSchema(), roles=AUTHORITIES,
         summary="a case in my region: its events in order, when, who, what (what others may not see left out)")
    def timeline(self, request, caller, case_id):
        return self.app.timeline(caller, case_id)

    @api("POST", "/verification/cases/<case_id>/checks", response=CASE_VIEW, roles=AUTHORITIES, body=ChecksSchema())
    def record_checks(self, request, caller, case_id, body):
        return self.shown(caller, self.app.record_checks(caller, case_id, body))

    @api("POST", "/verification/cases/<case_id>/recommend", response=CASE_VIEW, roles=("city",), body=RecommendSchema())
    def recommend(self, request, caller, case_id, body):
        return self.shown(caller, self.app.recommend(caller, case_id, body["reason"], body["rank"]))

    @api("POST", "/verification/cases/<case_id>/endorse", response=CASE_VIEW, roles=("province",),
         body=RecommendSchema())
    def endorse(self, request, caller, case_id, body):
        return self.shown(caller, self.app.endorse(caller, case_id, body["reason"], body["rank"]))

    @api("POST", "/verification/cases/<case_id>/endorsement/withdraw", response=CASE_VIEW, roles=("province",),
         body=WithdrawEndorsementSchema(), summary="take an endorsement back before the deadline; frees its place")
    def withdraw_endorsement(self, request, caller, case_id, body):
        return self.shown(caller, self.app.withdraw_endorsement(caller, case_id, body["reason"]))

    @api("POST", "/verification/cases/<case_id>/return", response=CASE_VIEW, roles=AUTHORITIES, body=ReturnSchema())
    def return_for_correction(self, request, caller, case_id, body):
        return self.shown(caller, self.app.return_for_correction(caller, case_id, body["reasons"]))

    @api("POST", "/verification/cases/<case_id>/reject", response=CASE_VIEW, roles=AUTHORITIES, body=RejectSchema())
    def reject(self, request, caller, case_id, body):
        return self.shown(caller, self.app.reject(caller, case_id, body["reason"]))

    @api("PUT", "/verification/contact", roles=AUTHORITIES, body=ContactSchema(), response=ContactViewSchema(),
         summary="my authority's contact, as the recommendation table prints it")
    def set_contact(self, request, caller, body):
        return self.app.set_contact(caller, body)

    @api("GET", "/verification/contact", roles=AUTHORITIES, response=ContactStatusSchema(),
         summary="my authority's contact as last set (null until set)")
    def get_contact(self, request, caller):
        shown = self.app.contact(caller)
        self.contact_read(caller, shown["contact"])
        return shown

    @api("POST", "/verification/contacts/<authority>/erasures", roles=("privacy",), body=ErasureRequestSchema(),
         status=201, response=ErasureRecordSchema(),
         summary="erase an authority's contact on a recorded request (the official left or asked): no table "
                 "prints it until the authority names another; the erasure recorded")
    def erase_contact(self, request, caller, authority, body):
        return self.app.erase_contact(caller, authority, body["request"], body["reason"])

    @api("POST", "/verification/personal-data/copies", roles=("privacy",), body=CopyRequestSchema(),
         summary="a person's copy among the authorities' contacts (by name or mobile); each contact found is "
                 "recorded as shown to the officer")
    def contacts_copy(self, request, caller, body):
        return self.app.contacts_matching(caller, route=self.personal.route, **body)

    @api("GET", "/verification/calls/<call_id>/quota", roles=AUTHORITIES, response=QuotaSchema(),
         summary="the recommendation places used and the call's limit for my province (a city: its province's)")
    def quota(self, request, caller, call_id):
        return self.app.quota(caller, call_id)

    @api("GET", "/verification/calls/<call_id>/recommendations.xlsx", roles=AUTHORITIES, produces=XLSX,
         summary="my recommendation summary table (推荐汇总表) for the call, as an Excel workbook")
    def summary_xlsx(self, request, caller, call_id):
        table = self.app.summary_table(caller, call_id)
        self.contact_read(caller, table.contact)
        return Response(table.to_xlsx(), mimetype=XLSX, headers={
            "Content-Disposition": f'attachment; filename="{table.filename}.xlsx"'})

    @api("GET", "/verification/calls/<call_id>/recommendations.csv", roles=AUTHORITIES, produces="text/csv",
         summary="my recommendation summary table (推荐汇总表) for the call, as CSV (UTF-8 with BOM)")
    def summary_csv(self, request, caller, call_id):
        table = self.app.summary_table(caller, call_id)
        self.contact_read(caller, table.contact)
        return Response(table.to_csv(), mimetype="text/csv", headers={
            "Content-Disposition": f'attachment; filename="{table.filename}.csv"'})
