"""Bad input that used to get through (issue #18, finding 6): drafts holding NaN, Infinity,
a 4,000-digit number or megabytes of text; an audit period from year 1 to 9999 answered 500.
Each is now a 400 naming the field and the rule, and nothing is stored."""

from __future__ import annotations

import uuid
from datetime import date

import pytest
import requests

from services.cli.demo import sample_call

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def call_id(system):
    platform = system[0]
    call_id = f"sample-bounds-{uuid.uuid4().hex[:8]}"
    platform.call("ministry", "POST", "intake", "/calls", json_body=sample_call(call_id, date.today()), expect=201)
    return call_id


def _post_draft(platform, raw: str) -> requests.Response:
    return requests.post(f"{platform.base['intake']}/intake/drafts", data=raw.encode(), timeout=30, headers={
        "Authorization": f"Bearer {platform.tokens['applicant']}", "Content-Type": "application/json"})


@pytest.mark.parametrize("number, rule", [
    ("NaN", "NaN is not a JSON number"),
    ("Infinity", "Infinity is not a JSON number"),
    ("-Infinity", "-Infinity is not a JSON number"),
    ("1e999", "too large"),
    ("9" * 4000, "at most 30 digits"),
])
def test_a_draft_with_a_number_json_does_not_have_is_refused(system, call_id, number, rule):
    platform = system[0]
    before = platform.call("applicant", "GET", "intake", "/drafts")
    answer = _post_draft(platform, f'{{"call_id": "{call_id}", "form": {{"budget": {number}}}}}')
    assert answer.status_code == 400, answer.text
    assert any(rule in message for message in answer.json()["fields"]["_body"]), answer.json()
    assert platform.call("applicant", "GET", "intake", "/drafts") == before


def test_an_oversized_draft_is_refused_naming_the_limit(system, call_id):
    platform = system[0]
    before = platform.call("applicant", "GET", "intake", "/drafts")
    answer = _post_draft(platform, f'{{"call_id": "{call_id}", "form": {{"summary": "{"材" * 120_000}"}}}}')
    assert answer.status_code == 400, answer.text
    assert "at most 262144 bytes" in answer.json()["fields"]["form"][0]
    assert platform.call("applicant", "GET", "intake", "/drafts") == before
    kept = _post_draft(platform, f'{{"call_id": "{call_id}", "form": {{"summary": "SAMPLE", "budget": 1.5e3}}}}')
    assert kept.status_code == 201, kept.text


@pytest.mark.parametrize("period, field", [
    ({"from": "0001-01-01", "to": "9999-12-31"}, "from"),
    ({"from": "2026-01-01", "to": "9999-12-31"}, "to"),
    ({"from": "2026-03-01", "to": "2026-02-01"}, "to"),
])
def test_an_audit_period_off_the_calendar_or_backwards_is_a_400(system, period, field):
    platform = system[0]
    answer = requests.get(f"{platform.base['audit']}/audit/events", params=period, timeout=30,
                          headers={"Authorization": f"Bearer {platform.tokens['auditor']}"})
    assert answer.status_code == 400, answer.text
    assert field in answer.json()["fields"], answer.json()


def test_a_unit_keeps_at_most_fifty_drafts_and_makes_room_by_deleting_one(system, call_id):
    platform = system[0]
    token = platform.token_for(sub="u-drafts", role="applicant", org="91420100MA4K0003X0",
                               region={"province": "420000", "city": "420100"})
    headers = {"Authorization": f"Bearer {token}"}
    base = f"{platform.base['intake']}/intake/drafts"

    def save(n: int) -> requests.Response:
        return requests.post(base, json={"call_id": call_id, "form": {"title": f"SAMPLE draft {n}"}},
                             headers=headers, timeout=30)

    saved = [save(n) for n in range(50)]
    assert [r.status_code for r in saved] == [201] * 50
    refused = save(50)
    assert refused.status_code == 400, refused.text
    assert "at most 50 drafts" in refused.json()["fields"]["drafts"][0]
    assert len(requests.get(base, headers=headers, timeout=30).json()) == 50  # nothing stored by the refusal
    # Updating one of the fifty is not a new draft.
    first = saved[0].json()["draft_id"]
    assert requests.put(f"{base}/{first}", json={"form": {"title": "SAMPLE kept"}}, headers=headers,
                        timeout=30).status_code == 200
    assert requests.delete(f"{base}/{first}", headers=headers, timeout=30).status_code == 200
    assert save(51).status_code == 201
