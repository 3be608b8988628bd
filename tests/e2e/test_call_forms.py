"""A call's application form as JSON Schema, from the running intake service: what a
province's own system or a form builder reads instead of the Python source (issue #19)."""

from __future__ import annotations

import json
import uuid
from datetime import date
from importlib import resources

import pytest

from services.cli.demo import SAMPLE_DIRECTIONS_DATA, sample_call

pytestmark = pytest.mark.e2e


def _schema(answer: dict) -> dict:
    top = answer["json_schema"]
    return top["components"]["schemas"][top["$ref"].rsplit("/", 1)[-1]]


def test_an_open_competition_call_gives_the_form_of_a_direction(system):
    platform = system[0]
    call_id = f"sample-form-{uuid.uuid4().hex[:8]}"
    platform.call("ministry", "POST", "intake", "/calls", json_body=sample_call(call_id, date.today()), expect=201)
    direction = SAMPLE_DIRECTIONS_DATA[0]["code"]
    answer = platform.call("applicant", "GET", "intake", f"/calls/{call_id}/form", params={"direction": direction})
    assert (answer["call_id"], answer["program"], answer["direction"]) == (call_id, "open_competition", direction)
    form = _schema(answer)
    assert form["properties"]["direction"]["enum"] == [direction]
    assert {"title", "lead", "members"} <= set(form["properties"])
    refused = platform.call("applicant", "GET", "intake", f"/calls/{call_id}/form", expect=400)
    assert "direction" in refused["fields"]


def test_a_signature_product_call_gives_its_domains_in_the_form(system):
    platform = system[0]
    shipped = json.loads(resources.files("shared.domain").joinpath(
        "calls/signature_product_2024_382.json").read_text("utf-8"))
    call_id = f"sample-382-form-{uuid.uuid4().hex[:8]}"
    call = {**shipped, "call_id": call_id, "title": f"SAMPLE — {shipped['title']}"}
    platform.call("ministry", "POST", "intake", "/calls", json_body=call, expect=201)
    answer = platform.call("expert", "GET", "intake", f"/calls/{call_id}/form")
    components = answer["json_schema"]["components"]["schemas"]
    domains = next(s["properties"]["domain"] for s in components.values() if "domain" in s.get("properties", {}))
    assert set(domains["enum"]) >= {d["name"] for d in shipped["signature_product"]["domains"]}
