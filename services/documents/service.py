"""The documents nameko service: evidence in the S3 store, attached to cases."""

from nameko.dependency_providers import Config
from nameko.extensions import DependencyProvider

from shared.config import Settings
from shared.dependencies import Ledger, ReadModels
from shared.http import api, openapi_route
from shared.objectstore import EvidenceStore
from shared.service_base import CaseService

from . import readmodels
from .application import READERS, UPLOADERS, Documents


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
    project = staticmethod(readmodels.project)

    @property
    def app(self) -> Documents:
        settings = Settings.from_nameko(self.config)
        return Documents(self.ledger, self.store, self.evidence, settings.max_upload_bytes)

    @api("POST", "/documents/cases/<case_id>/evidence", roles=UPLOADERS, raw_body=True, status=201,
         summary="stream a file (?filename=&step=) and attach it to the case")
    def attach(self, request, caller, case_id):
        _, attached = self.app.attach(
            caller, case_id, request.stream, filename=request.args.get("filename", ""),
            step=request.args.get("step", ""), declared_length=request.content_length,
        )
        return attached

    @api("GET", "/documents/cases/<case_id>/evidence", roles=READERS)
    def list_for_case(self, request, caller, case_id):
        return self.app.list_for_case(caller, case_id)

    @api("GET", "/documents/cases/<case_id>/evidence/<sha256>", roles=READERS,
         summary="a short-lived presigned download URL")
    def download_url(self, request, caller, case_id, sha256):
        return self.app.download_url(caller, case_id, sha256)
