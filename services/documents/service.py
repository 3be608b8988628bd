"""The documents nameko service: evidence in the S3 store, attached to cases."""

from nameko.dependency_providers import Config
from nameko.extensions import DependencyProvider

from shared.infra.config import Settings
from shared.infra.dependencies import Ledger, ReadModels
from shared.infra.objectstore.store import EvidenceStore
from shared.infra.service_base import CaseService, health_routes
from shared.infra.web.http import api, openapi_route

from . import readmodels, uploads
from .application import AUDITORS, READERS, UPLOADERS, Documents
from .evidence_types import ACCEPTED
from .schemas import (
    DEPOSIT_QUERY,
    DOCUMENT_ROW,
    FILED,
    FILED_CORRECTION,
    INTEGRITY_REPORT,
    SUPERSEDE_QUERY,
    UPLOAD_QUERY,
    DepositSchema,
    DownloadSchema,
)


def upload_stream(request):
    """The request body as the server delivers it, with a Content-Length or chunked.

    eventlet's `wsgi.input` ends where the body ends (at its Content-Length, at the
    last chunk, or at once when there is neither), and a body cut short reads short or,
    chunked, raises OSError: `spool_stream` turns both into IncompleteUpload. werkzeug's
    `request.stream` is no use here: eventlet does not set `wsgi.input_terminated`, so
    werkzeug would hand a chunked upload over as an empty body.
    """
    return request.environ["wsgi.input"]


class Evidence(DependencyProvider):
    def setup(self) -> None:
        self.settings = Settings.from_nameko(self.container.config)
        self.store = EvidenceStore.from_settings(self.settings)

    def start(self) -> None:
        self.store.ensure_bucket()

    def get_dependency(self, worker_ctx) -> EvidenceStore:
        return self.store


class DocumentsService(CaseService):
    name = "documents"

    ledger = Ledger(owner="documents")
    store = ReadModels(readmodels.metadata)
    evidence = Evidence()
    config = Config()
    openapi = openapi_route("/documents")
    health_live, health_ready = health_routes("/documents")
    project = staticmethod(readmodels.project)

    def readiness_checks(self):
        return {**super().readiness_checks(), "object_store": self.evidence.bucket_status}

    @property
    def app(self) -> Documents:
        settings = Settings.from_nameko(self.config)
        return Documents(self.ledger, self.store, self.evidence, settings.max_upload_bytes)

    @api("POST", "/documents/cases/<case_id>/evidence", roles=UPLOADERS, raw_body=True, description=ACCEPTED,
         status=201, query=UPLOAD_QUERY, response=FILED,
         summary="stream a file (?filename=&step=) and attach it to the case")
    def attach(self, request, caller, case_id):
        _, attached = self.app.attach(
            caller, case_id, upload_stream(request), filename=request.args.get("filename", ""),
            step=request.args.get("step", ""), declared_length=request.content_length,
        )
        return attached

    @api("POST", "/documents/cases/<case_id>/evidence/<sha256>/supersede", roles=UPLOADERS, raw_body=True,
         description=ACCEPTED, status=201, query=SUPERSEDE_QUERY, response=FILED_CORRECTION,
         summary="stream a correction (?filename=&step=&reason=) that supersedes this evidence")
    def supersede(self, request, caller, case_id, sha256):
        _, filed = self.app.supersede(
            caller, case_id, sha256, upload_stream(request), filename=request.args.get("filename", ""),
            step=request.args.get("step", ""), reason=request.args.get("reason", ""),
            declared_length=request.content_length,
        )
        return filed

    @api("GET", "/documents/cases/<case_id>/evidence", roles=READERS, response=DOCUMENT_ROW(many=True),
         summary="every document filed on the case, in filing order, each current or superseded")
    def list_for_case(self, request, caller, case_id):
        return self.app.list_for_case(caller, case_id)

    @api("GET", "/documents/cases/<case_id>/evidence/<sha256>", roles=READERS, response=DownloadSchema(),
         summary="a short-lived presigned download URL")
    def download_url(self, request, caller, case_id, sha256):
        return self.app.download_url(caller, case_id, sha256)

    @api("GET", "/documents/integrity", roles=AUDITORS, response=INTEGRITY_REPORT, errors=(502,),
         summary="re-hash every stored file the ledger names; report the missing and the altered")
    def integrity(self, request, caller):
        return self.app.integrity(caller)

    @api("POST", "/documents/uploads", roles=("applicant",), raw_body=True, description=ACCEPTED, status=201,
         query=DEPOSIT_QUERY, response=DepositSchema(),
         summary="stream a file (?filename=) into my unit's documents, to name it in an application by its SHA-256")
    def deposit(self, request, caller):
        return uploads.deposit(self.app, caller, upload_stream(request), filename=request.args.get("filename", ""),
                               declared_length=request.content_length)

    @api("GET", "/documents/uploads", roles=("applicant",), response=DepositSchema(many=True),
         summary="the documents my unit has uploaded")
    def deposits(self, request, caller):
        return uploads.deposits(self.app, caller)

    def react(self, event):
        # A filed (or corrected) application's named documents become the case's evidence.
        if event["type"] in ("Submitted", "Resubmitted"):
            uploads.attach_named_documents(self.app, event["case_id"])
