"""Which files count as evidence is said where clients read it: every upload route's OpenAPI
description names each accepted type and the refused names (issue #19: "uploads accept
only some file types and nothing says which")."""

from __future__ import annotations

from services.documents.evidence_types import ACCEPTED, EXECUTABLE_EXTENSIONS, EXTENSIONS
from services.documents.service import DocumentsService
from shared.infra.web.http import Api
from shared.infra.web.openapi import build_openapi


def _upload_routes() -> list[Api]:
    routes = []
    for name in dir(DocumentsService):
        for extension in getattr(getattr(DocumentsService, name), "nameko_entrypoints", ()):
            if isinstance(extension, Api) and extension.raw_body:
                extension.method_name = name
                routes.append(extension)
    return routes


def test_every_upload_route_documents_the_accepted_types():
    routes = _upload_routes()
    assert {r.url for r in routes} == {"/documents/cases/<case_id>/evidence", "/documents/uploads",
                                       "/documents/cases/<case_id>/evidence/<sha256>/supersede"}
    document = build_openapi("documents", routes)
    descriptions = [op["post"]["description"] for op in document["paths"].values()]
    assert descriptions == [ACCEPTED] * 3
    assert all(f" {e}," in ACCEPTED or f" {e}." in ACCEPTED for e in EXTENSIONS)
    assert all(f".{e}" in ACCEPTED for e in EXECUTABLE_EXTENSIONS)
