"""The bundle's readable history is proved like its events (issue #18, finding 7): before,
editing a reason in `history` still gave verify-bundle "OK ... proved"."""

from __future__ import annotations

import json

from shared.infra.integrity.bundle import FORMAT_1, readable, verify_bundle
from shared.infra.integrity.chain import StoredRecord
from shared.infra.integrity.checkpoints import key_id, public_bytes
from tests.unit.test_integrity_chain import make_bundle


def _verified(bundle, key):
    return verify_bundle(json.loads(json.dumps(bundle)), key_id(public_bytes(key)))


def test_the_history_is_made_from_the_stored_bytes_and_verifies():
    bundle, key, _ = make_bundle()
    assert len(bundle["history"]) == len(bundle["events"])
    report = _verified(bundle, key)
    assert report.ok, report.problems


def test_an_edited_history_is_refused_naming_the_version_and_field():
    bundle, key, _ = make_bundle()
    bundle["history"][1]["actor"] = {"sub": "someone-else", "role": "province", "org": "430000"}
    report = _verified(bundle, key)
    assert not report.ok
    assert report.problems == ["version 2: the history differs from the verified event in actor (edited after export)"]


def test_a_history_with_an_entry_removed_or_added_is_refused():
    bundle, key, _ = make_bundle()
    shorter = json.loads(json.dumps(bundle))
    shorter["history"].pop()
    assert "does not list the bundle's 4 events" in _verified(shorter, key).problems[0]
    longer = json.loads(json.dumps(bundle))
    longer["history"].append(longer["history"][0])
    assert "does not list the bundle's 4 events" in _verified(longer, key).problems[0]


def test_a_format_1_bundle_verifies_its_events_and_warns_its_history_is_not_proved():
    bundle, key, _ = make_bundle()
    bundle["format"] = FORMAT_1
    bundle["history"] = [{"version": 1, "type": "Submitted", "payload": {"reason": "anything"}}]
    report = _verified(bundle, key)
    assert report.ok, report.problems
    assert any("format-1 bundle" in w for w in report.warnings)


def test_a_stored_event_reads_as_type_time_actor_and_fields():
    state = json.dumps({
        "timestamp": {"_type_": "datetime_iso", "_data_": "2026-03-02T01:00:00+00:00"},
        "originator_topic": "shared.domain.case.aggregate:Case",
        "actor": {"sub": "u-hubei", "role": "province", "org": "420000"},
        "reason": "SAMPLE 推荐理由", "rank": 1, "on": {"_type_": "date_iso", "_data_": "2026-03-02"},
    }).encode()
    record = StoredRecord("c", 4, "shared.domain.case.aggregate:Case.ProvinceEndorsed", state)
    assert readable(record) == {
        "version": 4, "type": "ProvinceEndorsed", "timestamp": "2026-03-02T01:00:00+00:00",
        "actor": {"sub": "u-hubei", "role": "province", "org": "420000"},
        "fields": {"reason": "SAMPLE 推荐理由", "rank": 1, "on": "2026-03-02"},
    }
