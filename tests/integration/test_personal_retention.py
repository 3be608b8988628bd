"""Retention (issue #21, item 4): a call keeps its applications' personal data a number of days
after each case ends; intake's retention pass then erases it, recorded like an erasure on request,
and finishes any erasure whose keys outlived their event. On a PostgreSQL ledger, with intake's
read model fed from the ledger as its subscription feeds it, and a key store of its own.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from services.intake import readmodels as intake_rm
from services.intake.application import Intake
from services.intake.personal import PersonalDataDesk
from shared.domain.access import Caller
from shared.domain.errors import DomainRuleViolation
from shared.domain.sealed import ERASED
from shared.infra.messaging.contracts import integration_event
from shared.infra.personal.keystore import KeyStore
from shared.infra.personal.vault import Vault
from shared.infra.readmodels.store import ReadModelStore
from tests.samples import credit_code, deposit_sample_evidence, sample_382, signature_form

pytestmark = pytest.mark.integration

FILED = datetime(2026, 11, 2, 10, 0, tzinfo=UTC)
MINISTRY = Caller(sub="u-miit", role="ministry", org="MIIT")
SYSTEM = Caller(sub="caseplatform-timers", role="system", org="PLATFORM")
PRIVACY = Caller(sub="u-privacy", role="privacy", org="MIIT-PRIVACY")


@pytest.fixture
def world(ledgers, make_database, tmp_path):
    keys = KeyStore(make_database("keys"))
    store = ReadModelStore(make_database("intake"), intake_rm.metadata)
    filer, documents, reader = ledgers("intake"), ledgers("documents"), ledgers(None)
    vault = Vault(keys)

    class World:
        def intake(self, now=FILED) -> Intake:
            return Intake(filer, store, now, vault)

        def desk(self, now) -> PersonalDataDesk:
            return PersonalDataDesk(filer, store, vault, now)

        def file(self, call_id: str, n: int) -> str:
            code = credit_code(88000 + n, "420100")
            deposit_sample_evidence(documents, code)
            unit = Caller(sub=f"u-{n}", role="applicant", org=code, region={"province": "420000", "city": "420100"})
            return str(self.intake().submit(unit, call_id, signature_form(code, f"SAMPLE 保存期限产品 {n}")).id)

        def withdraw(self, case_id: str, n: int) -> None:
            code = credit_code(88000 + n, "420100")
            unit = Caller(sub=f"u-{n}", role="applicant", org=code, region={"province": "420000", "city": "420100"})
            self.intake().withdraw(unit, case_id, "SAMPLE 撤回")

        def catch_up(self) -> None:
            for nid, event in reader.notifications(0, 100_000):
                body = integration_event(event, nid)
                if body["stream"] in ("case", "call"):  # what intake's queue is bound to
                    store.apply_once(body, intake_rm.project)

        def contacts(self, case_id: str) -> dict:
            opened, _ = vault.open(reader.get_case(case_id).application, case_id)
            return opened["cover"]["contact_1"]

        def events(self, case_id: str) -> list[str]:
            return [e.type for e in reader.history(case_id)]

    yield World()
    keys.close()
    store.engine.dispose()


def test_the_data_of_an_ended_case_is_erased_once_its_call_s_retention_has_run_out(world):
    w = world
    kept, forever = "sample-382-keep-30", "sample-382-keep-all"
    w.intake().define_call(MINISTRY, {**sample_382(kept, FILED.date()), "personal_data_retention_days": 30})
    w.intake().define_call(MINISTRY, sample_382(forever, FILED.date()))
    ended, running, other_call = w.file(kept, 1), w.file(kept, 2), w.file(forever, 3)
    w.withdraw(ended, 1)
    w.withdraw(other_call, 3)
    w.catch_up()

    ended_at = datetime.now(UTC)  # events are stamped with the time they are recorded
    assert w.desk(ended_at + timedelta(days=29)).retention_pass(SYSTEM) == []  # not yet
    assert w.desk(ended_at + timedelta(days=31)).retention_pass(SYSTEM) == [ended]
    assert w.events(ended)[-1] == "PersonalDataErased"
    assert set(w.contacts(ended).values()) == {ERASED}
    assert ERASED not in w.contacts(running).values()  # still in the procedure
    assert ERASED not in w.contacts(other_call).values()  # its call keeps data until a request
    w.catch_up()
    assert w.desk(ended_at + timedelta(days=60)).retention_pass(SYSTEM) == []  # once only
    assert w.events(ended).count("PersonalDataErased") == 1


def test_an_erasure_interrupted_before_the_key_store_is_finished_by_the_next_pass(world, monkeypatch):
    w = world
    call_id = "sample-382-interrupted"
    w.intake().define_call(MINISTRY, sample_382(call_id, FILED.date()))
    case_id = w.file(call_id, 4)
    monkeypatch.setattr(Vault, "destroy", lambda self, key_ids: 0)  # the key store unreachable at that instant
    w.desk(FILED).erase(PRIVACY, case_id, ["cover.contact_1"], "SAMPLE-PIPL-7", "SAMPLE 本人申请")
    monkeypatch.undo()
    assert ERASED not in w.contacts(case_id).values()  # the event is recorded, the key still live
    w.catch_up()
    w.desk(FILED).retention_pass(SYSTEM)
    assert set(w.contacts(case_id).values()) == {ERASED}
    with pytest.raises(DomainRuleViolation, match="already erased"):
        w.desk(FILED).erase(PRIVACY, case_id, ["cover.contact_1"], "SAMPLE-PIPL-7", "SAMPLE 本人申请")


def test_a_panel_s_experts_are_erased_once_every_case_of_its_direction_ended_past_the_retention(
        world, ledgers, make_database):
    """A panel serves every case of its direction, so its experts' names are kept until the last of
    them has ended that many days ago; then review's pass erases them, recorded on the panel."""
    from services.review import readmodels as review_rm
    from services.review.application import Review

    w = world
    call_id = "sample-382-panel-keep-30"
    w.intake().define_call(MINISTRY, {**sample_382(call_id, FILED.date()), "personal_data_retention_days": 30})
    first, second = w.file(call_id, 5), w.file(call_id, 6)
    reader, keys = ledgers(None), KeyStore(make_database("review-keys"))
    store = ReadModelStore(make_database("review"), review_rm.metadata)
    review = Review(ledgers("review"), store, None, Vault(keys))
    direction = reader.get_case(first).direction
    panel = review.form_panel(MINISTRY, {"call_id": call_id, "direction": direction, "experts": [
        {"id": "sample-expert-keep", "name": "SAMPLE 专家辛", "unit": "12100000SAMPLEEX08"}],
        "criteria": [{"id": "q", "name": "SAMPLE", "max_score": 10}]})

    def catch_up() -> None:
        for nid, event in reader.notifications(0, 100_000):
            body = integration_event(event, nid)
            if body["stream"] in ("case", "panel"):
                store.apply_once(body, review_rm.project)

    try:
        w.withdraw(first, 5)
        catch_up()
        later = datetime.now(UTC) + timedelta(days=31)
        assert review.panel_retention_pass(SYSTEM, later) == []  # the second case is still in the procedure
        w.withdraw(second, 6)
        catch_up()
        ended_at = datetime.now(UTC)
        assert review.panel_retention_pass(SYSTEM, ended_at + timedelta(days=29)) == []  # not yet
        assert review.panel_retention_pass(SYSTEM, ended_at + timedelta(days=31)) == [panel["panel_id"]]
        stored = reader.find_panel(call_id, direction)
        [erased] = [e for e in reader.stream_history(panel["panel_id"]) if e.type == "PersonalDataErased"]
        assert erased.payload["request"] == f"retention:{call_id}" and erased.payload["subjects"] == ["experts.0"]
        opened, _ = Vault(keys).open([e["name"] for e in stored.experts.values()], panel["panel_id"])
        assert opened == [ERASED]
        catch_up()
        assert review.panel_retention_pass(SYSTEM, ended_at + timedelta(days=60)) == []  # once only
    finally:
        keys.close()
        store.engine.dispose()


def test_a_panel_s_erasure_interrupted_before_the_key_store_is_finished_by_the_next_pass(
        world, ledgers, make_database, monkeypatch):
    from services.review import readmodels as review_rm
    from services.review.application import Review

    w = world
    call_id = "sample-382-panel-interrupted"
    w.intake().define_call(MINISTRY, sample_382(call_id, FILED.date()))
    direction = ledgers(None).get_case(w.file(call_id, 7)).direction
    keys = KeyStore(make_database("review-keys"))
    store = ReadModelStore(make_database("review"), review_rm.metadata)
    review = Review(ledgers("review"), store, None, Vault(keys))
    panel = review.form_panel(MINISTRY, {"call_id": call_id, "direction": direction, "experts": [
        {"id": "sample-expert-cut", "name": "SAMPLE 专家壬", "unit": "12100000SAMPLEEX09"}],
        "criteria": [{"id": "q", "name": "SAMPLE", "max_score": 10}]})
    try:
        monkeypatch.setattr(Vault, "destroy", lambda self, key_ids: 0)  # the key store unreachable at that instant
        review.erase_panel_data(PRIVACY, call_id, direction, ["experts.0"], "SAMPLE-PIPL-12", "SAMPLE 本人申请")
        monkeypatch.undo()
        assert [k.key is not None for k in keys.of_case(panel["panel_id"])] == [True]  # recorded, still live
        reader = ledgers(None)
        for nid, event in reader.notifications(0, 100_000):  # review's read model, as its subscription feeds it
            body = integration_event(event, nid)
            if body["stream"] in ("case", "panel"):
                store.apply_once(body, review_rm.project)
        review.panel_retention_pass(SYSTEM, datetime.now(UTC))  # the call keeps data forever: only finishes
        assert [k.key is not None for k in keys.of_case(panel["panel_id"])] == [False]
        with pytest.raises(DomainRuleViolation, match="already erased"):
            review.erase_panel_data(PRIVACY, call_id, direction, ["experts.0"], "SAMPLE-PIPL-12", "SAMPLE 本人申请")
    finally:
        keys.close()
        store.engine.dispose()
