"""The ministry's call form without a browser: a definition → the form's fields → the
definition again is the same definition (the SAMPLE calls of the demo and both shipped
notices), what the form cannot read is passed on as typed, and the pages post what the form
says and show the service's refusals next to their fields (intake's API monkeypatched)."""

from __future__ import annotations

import json
import re
import time
from datetime import date
from importlib import resources

import pytest

from services.cli.demo import sample_call
from services.console import apis
from services.console.app import create_app
from services.console.pages import ministry_callform as callform
from services.console.pages.ministry_calls import call_state, changes_between
from services.console.sessions import COOKIE
from services.console.settings import ConsoleSettings
from shared.domain.call_rules.schema import load_call, to_json
from shared.domain.errors import ValidationFailed
from shared.infra.web.tokens import mint_dev_token

SECRET = "SAMPLE-console-calls-unit-secret-0123456789"


def shipped(name: str) -> dict:
    return json.loads(resources.files("shared.domain").joinpath(f"calls/{name}.json").read_text("utf-8"))


def sample_382_amended() -> dict:
    """A SAMPLE amendment of 382号 as stored: version 2, a region's time of day, a list limit."""
    call = shipped("signature_product_2024_382")
    call.update(version=2, amended_from=1, sample=True)
    call["regions"]["420000"]["deadlines"]["city"]["due"] = "2024-11-17T17:30:00+08:00"
    call["signature_product"]["success_limit"] = {"max": 3, "per": "domain", "source": "SAMPLE", "note": ""}
    return call


DEFINITIONS = {
    "demo sample_call (220号 SAMPLE)": lambda: sample_call("sample-unit-call", date(2026, 1, 5)),
    "220号 as shipped": lambda: shipped("open_competition_2025_220"),
    "382号 as shipped": lambda: shipped("signature_product_2024_382"),
    "382号 SAMPLE amendment": sample_382_amended,
    "SAMPLE call with its own reminder days": lambda: {**sample_call("sample-unit-reminders", date(2026, 1, 5)),
                                                       "reminder_days": [10, 5, 1]},
}


@pytest.mark.parametrize("name", DEFINITIONS)
def test_a_definition_through_the_form_and_back_is_the_same_definition(name):
    stored = to_json(load_call(DEFINITIONS[name]()))  # as intake stores and returns it
    values = callform.to_values(stored)
    assert callform.to_definition(values) == stored
    # and the service reads it the same way
    assert to_json(load_call(callform.to_definition(values))) == stored


def test_the_form_fields_carry_the_definitions_paths():
    values = callform.to_values(to_json(load_call(shipped("signature_product_2024_382"))))
    assert values["deadlines.province.due"] == "2024-11-22"
    assert values["deadlines.province.due_time"] == ""  # the end of the day: the notice's reading
    assert values["regions[0]._key"] == "420000"
    assert values["regions[0].deadlines.city.due"] == "2024-11-17"
    assert values["recommendation_quotas.rules[1].max"] == "2"
    assert values["chains.default"] == "province" and values["chains[0].levels"] == "city,province"


def test_what_the_form_cannot_read_is_passed_on_as_typed_and_blank_rows_are_left_out():
    values = callform.to_values(to_json(load_call(shipped("signature_product_2024_382"))))
    values["recommendation_quotas.rules[0].max"] = "many"
    values["year"] = "-5"
    values["deadlines.applicant.due"] = "2024-13-40"
    values["eligibility[7].code"] = ""  # a row emptied in the browser: left out
    for key in [k for k in values if k.startswith("eligibility[7].")]:
        values[key] = ""
    values["eligibility[40].code"] = "sample_code"  # a row added after removals: a gap in the indexes
    values["eligibility[40].text"] = "SAMPLE 条件"
    got = callform.to_definition(values)
    assert got["recommendation_quotas"]["rules"][0]["max"] == "many"
    assert got["year"] == -5
    assert got["deadlines"]["applicant"]["due"] == "2024-13-40"
    assert [e["code"] for e in got["eligibility"]][-2:] == ["declaration", "sample_code"]
    assert len(got["eligibility"]) == 12
    # And the form drawn again from it keeps the typed value under the refused field's path.
    drawn = {w.path: w for w in callform.walk(callform.widgets(callform.to_values(got), {"year": ["SAMPLE refusal"]}))}
    assert drawn["year"].value == "-5" and drawn["year"].errors == ["SAMPLE refusal"]
    assert drawn["recommendation_quotas.rules[0].max"].value == "many"


def test_a_keyed_rows_refusal_is_drawn_next_to_that_region():
    values = callform.to_values(to_json(load_call(shipped("signature_product_2024_382"))))
    drawn = {w.name: w for w in callform.walk(callform.widgets(values, {"regions.420000.authority": ["SAMPLE why"]}))}
    assert drawn["regions[0].authority"].errors == ["SAMPLE why"]


def test_an_amendment_sends_what_changed_and_names_what_it_cannot_remove():
    old = to_json(load_call(shipped("signature_product_2024_382")))
    new = json.loads(json.dumps(old))
    new["title"] = "SAMPLE 修订标题"
    new["recommendation_quotas"]["rules"][0]["max"] = 6
    changes, removed = changes_between(old, new)
    rules = new["recommendation_quotas"]["rules"]
    assert changes == {"title": "SAMPLE 修订标题", "recommendation_quotas": {"rules": rules}}
    assert removed == {}
    del new["regions"]["420000"]["deadlines"]["city"]
    assert changes_between(old, new)[1] == {"regions.420000.deadlines.city": "mc.cannot_remove"}


def test_a_call_without_its_directions_accepts_nothing_yet():
    assert call_state(to_json(load_call(shipped("open_competition_2025_220")))) == "no_directions"
    assert call_state(to_json(load_call(shipped("signature_product_2024_382")))) == "closed"
    assert call_state(to_json(load_call(sample_call("sample-unit-call", date.today())))) == "open"


@pytest.fixture
def ministry(tmp_path):
    settings = ConsoleSettings.from_env({"AUTH_MODE": "dev-hs256", "JWT_SECRET": SECRET,
                                         "CASEPLATFORM_DATA_DIR": str(tmp_path), "CONSOLE_PORT": "8199"})
    app = create_app(settings)
    session = app.config["SESSIONS"].new()
    token = mint_dev_token(SECRET, sub="sample-miit-official", role="ministry", org="MIIT", name="SAMPLE 部")
    session.tokens = {"access_token": token, "refresh_token": "", "id_token": "x", "expires_at": time.time() + 900}
    client = app.test_client()
    client.set_cookie(COOKIE, session.sid)
    return client, session


def test_a_refused_definition_is_shown_next_to_its_field_with_the_values_kept(ministry, monkeypatch):
    client, session = ministry
    sent = []

    def send(base, method, path, token=None, **kwargs):
        sent.append((method, path, kwargs.get("json")))
        return apis.Answer(status=400, error="400: the call definition has invalid fields", code="invalid",
                           fields={"recommendation_quotas.rules[0].max": ["Must be greater than or equal to 1."]})

    monkeypatch.setattr(apis, "send", send)
    form = callform.to_values(to_json(load_call(shipped("signature_product_2024_382"))))
    form.update({"call_id": "sample-unit-382", "recommendation_quotas.rules[0].max": "-3", "csrf": session.csrf})
    page = client.post("/ministry/calls/new", data=form)
    assert page.status_code == 400
    method, path, body = sent[0]
    assert (method, path) == ("POST", "/intake/calls")
    assert body["recommendation_quotas"]["rules"][0]["max"] == -3 and body["call_id"] == "sample-unit-382"
    html = page.get_data(as_text=True)
    field = re.search(r'<div class="field" data-path="recommendation_quotas.rules\[0\].max">(.*?)</div>', html, re.S)
    assert field and 'value="-3"' in field.group(1) and "Must be greater than or equal to 1." in field.group(1)
    assert 'value="sample-unit-382"' in html  # the other values kept
    assert '<a href="#f-recommendation_quotas-rules-0--max">' in html  # the summary leads to the field


def test_the_ministry_pages_are_the_ministrys(tmp_path):
    settings = ConsoleSettings.from_env({"AUTH_MODE": "dev-hs256", "JWT_SECRET": SECRET,
                                         "CASEPLATFORM_DATA_DIR": str(tmp_path), "CONSOLE_PORT": "8199"})
    app = create_app(settings)
    session = app.config["SESSIONS"].new()
    token = mint_dev_token(SECRET, sub="sample-applicant", role="applicant", org="91420100000000001Y", name="SAMPLE")
    session.tokens = {"access_token": token, "refresh_token": "", "id_token": "x", "expires_at": time.time() + 900}
    client = app.test_client()
    client.set_cookie(COOKIE, session.sid)
    assert client.get("/ministry/calls/new").status_code == 403
    assert client.get("/ministry/calls").status_code == 403


def fake_intake(calls: dict, sent: list):
    """intake's answers for the pages: the SAMPLE call's versions, its counts; posts recorded."""
    def send(base, method, path, token=None, **kwargs):
        sent.append((method, path, kwargs.get("json"), kwargs.get("params")))
        if method == "POST":
            return apis.Answer(data={"call_id": "sample-unit-call", "version": len(calls) + 1}, status=201)
        if path.endswith("/counts"):
            return apis.Answer(data={"call_id": "sample-unit-call", "by_direction": {"SAMPLE-R1": 2},
                                     "by_province": {"420000": 2}, "by_state": {"submitted": 2}}, status=200)
        if path == "/intake/calls":
            return apis.Answer(data=[calls[max(calls)]], status=200)
        version = (kwargs.get("params") or {}).get("version") or max(calls)
        return apis.Answer(data=calls[version], status=200)
    return send


def test_the_call_page_shows_the_definition_versions_and_exportable_counts(ministry, monkeypatch):
    client, _ = ministry
    first = to_json(load_call(sample_call("sample-unit-call", date.today())))
    second = {**first, "version": 2, "amended_from": 1, "title": "SAMPLE 第二版"}
    sent: list = []
    monkeypatch.setattr(apis, "send", fake_intake({1: first, 2: second}, sent))
    page = client.get("/ministry/calls/sample-unit-call").get_data(as_text=True)
    assert '<strong id="call-version">2</strong>' in page
    assert 'data-version="1"' in page and 'data-version="2"' in page
    assert re.search(r'<dd data-path="open_competition.directions\[0\].name">SAMPLE 反应器系统方向（示例）</dd>', page)
    assert re.search(r'<tr data-key="SAMPLE-R1">.*?<td class="count">2</td>', page, re.S)
    earlier = client.get("/ministry/calls/sample-unit-call?version=1").get_data(as_text=True)
    assert '<strong id="call-version">1</strong>' in earlier and ("GET", "/intake/calls/sample-unit-call", None,
                                                                  {"version": 1}) in sent
    exported = client.get("/ministry/calls/sample-unit-call/counts/province?export=csv")
    assert exported.get_data().decode("utf-8-sig").splitlines()[1] == "420000,湖北省,2"
    listed = client.get("/ministry/calls?f.year=2025").get_data(as_text=True)
    assert 'data-call="sample-unit-call"' in listed


def test_an_amendment_starts_from_the_current_version_and_sends_only_what_changed(ministry, monkeypatch):
    client, session = ministry
    current = to_json(load_call(sample_call("sample-unit-call", date.today())))
    sent: list = []
    monkeypatch.setattr(apis, "send", fake_intake({1: current}, sent))
    form = client.get("/ministry/calls/sample-unit-call/amend").get_data(as_text=True)
    assert 'name="open_competition.directions[0].code" value="SAMPLE-R1"' in form
    values = callform.to_values(current)
    unchanged = client.post("/ministry/calls/sample-unit-call/amend", data={**values, "csrf": session.csrf})
    assert unchanged.status_code == 400 and "没有修改任何内容" in unchanged.get_data(as_text=True)
    values.update({"title": "SAMPLE 修订", "csrf": session.csrf})
    answer = client.post("/ministry/calls/sample-unit-call/amend", data=values)
    assert answer.status_code == 302 and answer.headers["Location"] == "/ministry/calls/sample-unit-call"
    assert [s for s in sent if s[0] == "POST"] == [
        ("POST", "/intake/calls/sample-unit-call/amendments", {"title": "SAMPLE 修订"}, None)]


def test_a_new_call_can_start_from_another_with_its_own_id_and_version_1(ministry, monkeypatch):
    client, _ = ministry
    monkeypatch.setattr(apis, "send", fake_intake({1: to_json(load_call(shipped("signature_product_2024_382")))}, []))
    form = client.get("/ministry/calls/new?from=miit-2024-382-signature-products").get_data(as_text=True)
    assert 'name="call_id" value=""' in form and 'name="version" value="1"' in form
    assert 'name="regions[0]._key" value="420000"' in form


def test_reminder_days_that_are_not_whole_working_days_are_refused_naming_the_field():
    values = callform.to_values(to_json(load_call(sample_call("sample-unit-reminders", date(2026, 1, 5)))))
    values["reminder_days"] = "7, 三, 0"
    with pytest.raises(ValidationFailed) as refused:
        load_call(callform.to_definition(values))
    assert set(refused.value.fields) == {"reminder_days[1]", "reminder_days[2]"}, refused.value.fields
