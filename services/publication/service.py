"""The publication nameko service: the only one that answers without a token (public lists)."""

from shared.auth import ROLES
from shared.dependencies import Clock, Ledger, ReadModels
from shared.http import api, openapi_route
from shared.service_base import CaseService
from shared.views import case_view

from . import readmodels
from .application import Publication
from .schemas import NoticeEntrySchema, ObjectionSchema, PublicEntrySchema, PublishSchema, ResolutionSchema


class PublicationService(CaseService):
    name = "publication"

    ledger = Ledger(owner="publication")
    store = ReadModels(readmodels.metadata)
    clock = Clock()
    openapi = openapi_route("/publication")
    project = staticmethod(readmodels.project)

    @property
    def app(self) -> Publication:
        return Publication(self.ledger, self.store, self.clock.today())

    @api("GET", "/publication/lists", public=True, response=PublicEntrySchema(many=True),
         summary="published entries (all calls, or ?call_id=)")
    def lists(self, request):
        return self.app.published(request.args.get("call_id"))

    @api("GET", "/publication/notices", public=True, response=NoticeEntrySchema(many=True),
         summary="entries under public notice (公示)")
    def notices(self, request):
        return self.app.under_notice()

    @api("POST", "/publication/cases/<case_id>/notice", roles=("ministry",), body=PublishSchema(), status=201)
    def open_notice(self, request, caller, case_id, body):
        return case_view(self.app.open_notice(caller, case_id))

    @api("POST", "/publication/cases/<case_id>/objections", roles=ROLES, body=ObjectionSchema(), status=201)
    def raise_objection(self, request, caller, case_id, body):
        case, objection_id = self.app.raise_objection(caller, case_id, body["reasons"])
        return {"case_id": str(case.id), "objection_id": objection_id, "version": case.version}

    @api("POST", "/publication/cases/<case_id>/objections/<objection_id>/resolve", roles=("ministry",),
         body=ResolutionSchema())
    def resolve_objection(self, request, caller, case_id, objection_id, body):
        return case_view(self.app.resolve_objection(caller, case_id, objection_id, body["upheld"], body["resolution"]))

    @api("POST", "/publication/cases/<case_id>/publish", roles=("ministry",), body=PublishSchema())
    def publish(self, request, caller, case_id, body):
        return case_view(self.app.publish(caller, case_id))
