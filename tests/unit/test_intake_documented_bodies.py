"""The bodies intake validates itself (a call, an application) are documented in its OpenAPI
document as full schemas with a filled example each (issue #19: they were a bare
`{"type": "object"}`, and the 申请表's field names had to be read from the source)."""

from __future__ import annotations

from services.intake.schemas import APPLICATION_BODY, CALL_BODY
from services.intake.service import IntakeService
from shared.domain.validation import load
from shared.infra.web.http import Api
from shared.infra.web.openapi import build_openapi


def _document() -> dict:
    routes = []
    for name in dir(IntakeService):
        for extension in getattr(getattr(IntakeService, name), "nameko_entrypoints", ()):
            if isinstance(extension, Api):
                extension.method_name = name
                routes.append(extension)
    return build_openapi("intake", routes)


def test_the_call_and_the_application_are_documented_with_their_schemas_and_examples():
    document = _document()
    submit = document["paths"]["/intake/calls/{call_id}/cases"]["post"]["requestBody"]["content"]["application/json"]
    assert submit["schema"] == {"oneOf": [{"$ref": "#/components/schemas/SignatureProductApplication"},
                                          {"$ref": "#/components/schemas/OpenCompetitionApplication"}]}
    assert len(submit["examples"]) == 2
    define = document["paths"]["/intake/calls"]["post"]["requestBody"]["content"]["application/json"]
    assert define["schema"] == {"$ref": "#/components/schemas/CallDefinition"}
    schemas = document["components"]["schemas"]
    product = schemas["SignatureProductApplication"]["properties"]
    assert {"cover", "applicant", "product", "declaration"} <= set(product)
    lead = schemas["OpenCompetitionApplication"]["properties"]
    assert {"direction", "title", "lead", "members"} <= set(lead)
    assert {"call_id", "program", "deadlines"} <= set(schemas["CallDefinition"]["properties"])


def test_each_example_is_accepted_by_the_schema_it_illustrates():
    for (name, schema), example in zip(APPLICATION_BODY.schemas.items(), APPLICATION_BODY.examples.values(),
                                       strict=True):
        assert load(schema, example), name
    for example in CALL_BODY.examples.values():
        assert load(CALL_BODY.schemas["CallDefinition"], example)["call_id"] == example["call_id"]
