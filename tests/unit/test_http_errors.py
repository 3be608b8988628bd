"""How errors leave a service: one flat path per failing field, and OpenAPI paths."""

from __future__ import annotations

import pytest
from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from shared.domain.errors import ValidationFailed
from shared.domain.validation import flatten_messages, load
from shared.infra.web.errors import error_payload, refusal_of
from shared.infra.web.openapi import openapi_path


class IpItem(Schema):
    name = fields.String(required=True)
    kind = fields.String(required=True, validate=validate.OneOf(["invention", "utility_model"]))
    granted_on = fields.Date(required=True)


class Product(Schema):
    name = fields.String(required=True)
    highlights = fields.String(required=True, validate=validate.Length(max=100))
    ip_items = fields.List(fields.Nested(IpItem), required=True)


class Application(Schema):
    applicant = fields.String(required=True)
    product = fields.Nested(Product, required=True)

    @validates_schema
    def _exports(self, data, **kwargs):
        if data.get("applicant") == "nobody":
            raise ValidationError("the applicant must be a registered unit")


def _messages(data: dict) -> dict:
    with pytest.raises(ValidationError) as excinfo:
        Application().load(data)
    return excinfo.value.messages


GOOD_ITEM = {"name": "一种反应器", "kind": "invention", "granted_on": "2023-05-01"}


def test_a_field_inside_a_list_inside_a_nested_schema_gets_a_dotted_and_indexed_path():
    messages = _messages({
        "applicant": "x",
        "product": {"name": "p", "highlights": "h",
                    "ip_items": [GOOD_ITEM, GOOD_ITEM, {**GOOD_ITEM, "granted_on": "yesterday"}]},
    })
    flat = flatten_messages(messages)
    assert list(flat) == ["product.ip_items[2].granted_on"]
    assert flat["product.ip_items[2].granted_on"] == ["Not a valid date."]


def test_every_failing_field_is_flattened_at_once_with_its_rule():
    messages = _messages({
        "product": {"name": "p", "highlights": "长" * 101,
                    "ip_items": [{**GOOD_ITEM, "kind": "rumour"}, {"name": "x", "granted_on": "2023-01-01"}]},
    })
    flat = flatten_messages(messages)
    assert set(flat) == {
        "applicant", "product.highlights", "product.ip_items[0].kind", "product.ip_items[1].kind",
    }
    assert flat["applicant"] == ["Missing data for required field."]
    assert flat["product.ip_items[1].kind"] == ["Missing data for required field."]
    assert all(isinstance(m, list) and all(isinstance(s, str) for s in m) for m in flat.values())


def test_schema_level_messages_belong_to_the_path_of_their_schema():
    assert flatten_messages({"_schema": ["whole body wrong"]}) == {"_body": ["whole body wrong"]}
    assert flatten_messages({"product": {"_schema": ["both or neither"]}}) == {"product": ["both or neither"]}
    flat = flatten_messages(_messages({"applicant": "nobody", "product": {
        "name": "p", "highlights": "h", "ip_items": []}}))
    assert flat == {"_body": ["the applicant must be a registered unit"]}


def test_messages_without_a_field_belong_to_the_body():
    assert flatten_messages(["not an object"]) == {"_body": ["not an object"]}
    assert flatten_messages("bad") == {"_body": ["bad"]}


def test_index_keys_and_name_keys_combine_in_order():
    messages = {"a": {0: {"b": {3: ["x"]}}, 1: ["y"]}}
    assert flatten_messages(messages) == {"a[0].b[3]": ["x"], "a[1]": ["y"]}


def test_load_reports_a_validation_failure_with_the_flat_paths():
    with pytest.raises(ValidationFailed) as excinfo:
        load(Product(), {"name": "p", "highlights": "h", "ip_items": [{**GOOD_ITEM, "granted_on": "x"}]})
    assert refusal_of(excinfo.value).status == 400
    assert excinfo.value.fields == {"ip_items[0].granted_on": ["Not a valid date."]}
    assert error_payload(refusal_of(excinfo.value).code, excinfo.value.message, excinfo.value.fields) == {
        "error": "validation_failed", "message": "the request has invalid fields",
        "fields": {"ip_items[0].granted_on": ["Not a valid date."]},
    }


def test_load_returns_the_loaded_data_when_valid():
    loaded = load(IpItem(), GOOD_ITEM)
    assert loaded["granted_on"].isoformat() == "2023-05-01"


@pytest.mark.parametrize("url,path", [
    ("/intake/cases/<case_id>", "/intake/cases/{case_id}"),
    ("/intake/cases/<uuid:case_id>/evidence/<sha256>", "/intake/cases/{case_id}/evidence/{sha256}"),
    ("/review/tasks/<int:n>", "/review/tasks/{n}"),
    ("/intake/openapi.json", "/intake/openapi.json"),
])
def test_openapi_path_turns_werkzeug_placeholders_into_openapi_parameters(url, path):
    assert openapi_path(url) == path
