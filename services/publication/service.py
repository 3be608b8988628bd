"""The publication nameko service: the only one that answers without a token (the public lists)."""

import logging

from werkzeug.wrappers import Response

from shared.domain.access import ROLES
from shared.infra.dependencies import Clock, Ledger, ReadModels, TimerIdentity
from shared.infra.service_base import CaseService, health_routes
from shared.infra.timers import settings_timer
from shared.infra.web.http import api, openapi_route

from . import exports, readmodels
from .application import Publication
from .library import ProductQuery, PublicLibrary
from .schemas import (
    LISTS_QUERY,
    PRODUCTS_QUERY,
    ListDocumentSchema,
    ListSummarySchema,
    NoticeSchema,
    ObjectionSchema,
    ObjectionViewSchema,
    ProductPageSchema,
    ProductSchema,
    PublishSchema,
    ResolutionSchema,
)

log = logging.getLogger(__name__)

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _download(body, mimetype: str, name: str) -> Response:
    return Response(body, mimetype=mimetype, headers={"Content-Disposition": f'attachment; filename="{name}"'})


class PublicationService(CaseService):
    name = "publication"

    ledger = Ledger(owner="publication")
    store = ReadModels(readmodels.metadata)
    clock = Clock()
    timer_identity = TimerIdentity()
    openapi = openapi_route("/publication")
    health_live, health_ready = health_routes("/publication")
    project = staticmethod(readmodels.project)

    @property
    def app(self) -> Publication:
        return Publication(self.ledger, self.store, self.clock.today())

    @property
    def library(self) -> PublicLibrary:
        return PublicLibrary(self.store)

    @settings_timer("notice_scan_interval")  # a day's resolution would do; tests set it short
    def close_notices(self):
        closed = self.app.close_due_notices(self.timer_identity.caller())
        if closed:
            log.info("public notices closed: %s", closed)

    # -- public: no token --

    @api("GET", "/publication/lists", public=True, response=ListSummarySchema(many=True), query=LISTS_QUERY,
         summary="the lists put up for notice or published")
    def lists(self, request):
        return self.library.lists(request.args.get("kind"), request.args.get("year"), request.args.get("call_id"))

    @api("GET", "/publication/lists/<list_id>", public=True, response=ListDocumentSchema(),
         summary="one list (<call id>:<kind>) with its notice period and entries, public fields only")
    def list_document(self, request, list_id):
        return self.library.document(list_id)

    @api("GET", "/publication/lists/<list_id>/entries.csv", public=True, produces="text/csv",
         summary="the list as CSV (UTF-8)")
    def list_csv(self, request, list_id):
        document = self.library.document(list_id)
        return _download(exports.to_csv(document), "text/csv", f"{exports.filename(document)}.csv")

    @api("GET", "/publication/lists/<list_id>/entries.xlsx", public=True, produces=XLSX,
         summary="the list as an Excel workbook")
    def list_xlsx(self, request, list_id):
        document = self.library.document(list_id)
        return _download(exports.to_xlsx(document), XLSX, f"{exports.filename(document)}.xlsx")

    @api("GET", "/publication/notices", public=True, response=ListDocumentSchema(many=True),
         summary="the lists under public notice (公示) now, with start and end")
    def notices(self, request):
        return self.library.notices()

    @api("GET", "/publication/products", public=True, response=ProductPageSchema(), query=PRODUCTS_QUERY,
         summary="the signature-product library, by year, domain, type, province or name, a page at a time")
    def products(self, request):
        return self.library.products(ProductQuery.from_args(request.args))

    @api("GET", "/publication/products/<case_id>", public=True, response=ProductSchema(),
         summary="one published signature product, public fields only")
    def product(self, request, case_id):
        return self.library.product(case_id)

    # -- the ministry --

    @api("GET", "/publication/lists/<list_id>/candidates", roles=("ministry",),
         summary="the cases that belong on the list now, and the notice period it would get")
    def candidates(self, request, caller, list_id):
        return self.app.candidates(caller, list_id)

    @api("POST", "/publication/lists/<list_id>/notice", roles=("ministry",), body=NoticeSchema(), status=201,
         summary="put the list up for public notice (the call's working days, China's official calendar)")
    def open_notice(self, request, caller, list_id, body):
        return self.app.open_notice(caller, list_id, body["case_ids"])

    @api("POST", "/publication/lists/<list_id>/publish", roles=("ministry",), body=PublishSchema(),
         summary="publish the list: after its notice with no objection open, or straight away without one")
    def publish(self, request, caller, list_id, body):
        return self.app.publish(caller, list_id, body["case_ids"])

    @api("POST", "/publication/lists/<list_id>/entries/<case_id>/objections/<objection_id>/resolution",
         roles=("ministry",), body=ResolutionSchema(),
         summary="uphold an objection (the entry leaves the list) or dismiss it")
    def resolve_objection(self, request, caller, list_id, case_id, objection_id, body):
        return self.app.resolve_objection(caller, list_id, case_id, objection_id, body["upheld"], body["resolution"])

    # -- anyone identified --

    @api("POST", "/publication/lists/<list_id>/entries/<case_id>/objections", roles=ROLES, body=ObjectionSchema(),
         status=201, summary="object to one entry during the notice, with reasons and deposited evidence")
    def raise_objection(self, request, caller, list_id, case_id, body):
        return self.app.raise_objection(caller, list_id, case_id, body["reasons"], body["evidence"])

    @api("GET", "/publication/lists/<list_id>/objections", roles=ROLES, response=ObjectionViewSchema(many=True),
         summary="objections to the list (the ministry and auditors: all; anyone else: their organisation's)")
    def objections(self, request, caller, list_id):
        return self.app.objections(caller, list_id)
