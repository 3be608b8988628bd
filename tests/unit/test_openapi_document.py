"""What a route's OpenAPI entry promises follows from what the route takes and who may call it."""

from __future__ import annotations

import pytest
from marshmallow import Schema, fields

from shared.infra.web.errors import ErrorSchema, error_payload
from shared.infra.web.http import Api
from shared.infra.web.openapi import OpenSchema, build_openapi


class Body(Schema):
    reason = fields.String(required=True)


class Row(Schema):
    case_id = fields.String(required=True)


def route(method: str, url: str, name: str, **kwargs) -> Api:
    ep = Api(method, url, **kwargs)
    ep.method_name = name
    return ep


def operation(document: dict, path: str, method: str) -> dict:
    return document["paths"][path][method]


DOCUMENT = build_openapi("sample", [
    route("GET", "/sample/openapi.json", "openapi", public=True, response=OpenSchema()),
    route("GET", "/sample/lists/<list_id>", "public_list", public=True, response=Row()),
    route("GET", "/sample/cases", "cases", roles=("ministry",), response=Row(many=True)),
    route("POST", "/sample/cases/<case_id>/reject", "reject", roles=("city", "province"), body=Body()),
    route("POST", "/sample/cases/<case_id>/files", "attach", roles=("applicant",), raw_body=True, status=201,
          query={"filename": fields.String(required=True)}),
    route("GET", "/sample/table.csv", "table", roles=("city",), produces="text/csv"),
])


def statuses(path: str, method: str) -> list[str]:
    return sorted(operation(DOCUMENT, path, method)["responses"])


def test_each_route_lists_exactly_the_refusals_it_can_give():
    assert statuses("/sample/openapi.json", "get") == ["200"]
    assert statuses("/sample/lists/{list_id}", "get") == ["200", "400", "404", "503"]
    assert statuses("/sample/cases", "get") == ["200", "401", "403", "429", "503"]
    assert statuses("/sample/cases/{case_id}/reject", "post") == [
        "200", "400", "401", "403", "404", "409", "413", "429", "503"]
    assert statuses("/sample/cases/{case_id}/files", "post") == [
        "201", "400", "401", "403", "404", "409", "413", "415", "429", "502", "503"]


def test_every_refusal_has_the_error_shape_and_the_shape_is_what_errors_leave_as():
    for path, operations in DOCUMENT["paths"].items():
        for method, op in operations.items():
            for status, response in op["responses"].items():
                if int(status) >= 400:
                    assert response["content"]["application/json"]["schema"] == {
                        "$ref": "#/components/schemas/Error"}, (path, method, status)
    error = DOCUMENT["components"]["schemas"]["Error"]
    assert sorted(error["required"]) == ["error", "fields", "message"]
    assert ErrorSchema().validate(error_payload("rule_violated", "reason: required", {"reason": ["required"]})) == {}


def test_a_response_schema_is_documented_with_its_media_type_and_a_list_as_an_array():
    listed = operation(DOCUMENT, "/sample/cases", "get")["responses"]["200"]["content"]["application/json"]
    assert listed["schema"]["type"] == "array"
    table = operation(DOCUMENT, "/sample/table.csv", "get")["responses"]["200"]["content"]
    assert list(table) == ["text/csv"]


def test_query_parameters_are_documented_and_tokens_and_roles_are_named():
    attach = operation(DOCUMENT, "/sample/cases/{case_id}/files", "post")
    assert {(p["in"], p["name"], p["required"]) for p in attach["parameters"]} == {
        ("path", "case_id", True), ("query", "filename", True)}
    assert attach["security"] == [{"bearer": []}] and attach["x-roles"] == ["applicant"]
    assert "security" not in operation(DOCUMENT, "/sample/lists/{list_id}", "get")


def test_an_open_schema_types_what_it_names_and_passes_the_rest_through():
    class Report(OpenSchema):
        ok = fields.Boolean(required=True)

    assert Report().dump({"ok": 1, "details": {"n": 2}}) == {"ok": True, "details": {"n": 2}}
    assert Report(many=True).dump([{"ok": 0, "x": 1}]) == [{"ok": False, "x": 1}]


def test_a_route_naming_an_unknown_role_is_refused_when_declared():
    with pytest.raises(ValueError, match="unknown roles"):
        Api("GET", "/sample/x", roles=("superuser",))
