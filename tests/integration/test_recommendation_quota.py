"""Quotas as invariants, against a real PostgreSQL ledger with real concurrent requests.

382号: "各省、自治区、直辖市及新疆生产建设兵团工业和信息化主管部门推荐产品数量不超过 5 项，
计划单列市工业和信息化主管部门推荐产品数量不超过 2 项。" Officials endorse at the
same moment from separate threads, each with its own ledger connection, as two
service processes would.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from services.intake import readmodels as intake_rm
from services.intake.application import Intake
from services.verification import readmodels as verification_rm
from services.verification.application import RECOMMENDATION, Verification
from shared.domain.access import Caller
from shared.domain.errors import DeadlinePassed, PlacesExhausted
from shared.infra.ledger import CaseLedger
from shared.infra.personal.keystore import KeyStore
from shared.infra.personal.vault import Vault
from shared.infra.readmodels.store import ReadModelStore
from tests.samples import credit_code, deposit_sample_evidence, sample_382, signature_form

NOW = datetime(2026, 11, 2, 10, 0, tzinfo=UTC)
MINISTRY = Caller(sub="u-miit", role="ministry", org="MIIT")
GUANGDONG = Caller(sub="u-gd", role="province", org="440000")
SHENZHEN = Caller(sub="u-sz", role="province", org="440300")  # a 计划单列市, province level for its units


@dataclass
class Setup:
    intake: Intake
    documents: CaseLedger
    desk: Callable[..., Verification]
    call_id: str
    ledger: Callable[..., CaseLedger]


@pytest.fixture
def platform(ledgers, tmp_path):
    ledger = ledgers
    intake = Intake(ledger("intake"), ReadModelStore(f"sqlite:///{tmp_path}/intake.db", intake_rm.metadata), NOW,
                    Vault(KeyStore(f"sqlite:///{tmp_path}/personal-keys.db")))
    documents = ledger("documents")  # where the units' uploads are recorded
    store = ReadModelStore(f"sqlite:///{tmp_path}/verification.db", verification_rm.metadata)
    call_id = f"sample-382-quota-{tmp_path.name[-8:]}".lower().replace("_", "-")
    intake.define_call(MINISTRY, sample_382(call_id, NOW.date()))

    def desk(now=NOW):
        return Verification(ledger("verification"), store, now)

    return Setup(intake, documents, desk, call_id, ledger)


def file_cases(setup: Setup, count, *, city="440100", area="440100", start=0):
    """`count` Guangdong (or Shenzhen) units each upload their evidence and file one product; returns the case ids."""
    ids = []
    for n in range(start, start + count):
        code = credit_code(n, area)
        deposit_sample_evidence(setup.documents, code)
        unit = Caller(sub=f"u-{n}", role="applicant", org=code, region={"province": "440000", "city": city})
        ids.append(str(setup.intake.submit(unit, setup.call_id, signature_form(code, f"SAMPLE 产品 {n}")).id))
    return ids


def race(desk, caller, case_ids):
    """Every case endorsed at once, each from its own thread and ledger connection."""
    barrier = threading.Barrier(len(case_ids))
    outcomes: dict[str, object] = {}

    def endorse(case_id, verification):
        barrier.wait()
        try:
            verification.endorse(caller, case_id, "SAMPLE 推荐理由", 1)
            outcomes[case_id] = "endorsed"
        except Exception as exc:  # noqa: BLE001 - the outcome is what the test reads
            outcomes[case_id] = exc

    desks = [desk() for _ in case_ids]  # a connection each, opened before the race starts
    threads = [threading.Thread(target=endorse, args=(c, d)) for c, d in zip(case_ids, desks, strict=True)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return outcomes


def test_two_officials_endorsing_the_fifth_and_sixth_product_at_once_cannot_both_succeed(platform):
    desk, call_id = platform.desk, platform.call_id
    cases = file_cases(platform, 6)
    first_four, fifth_and_sixth = cases[:4], cases[4:]
    for case_id in first_four:
        desk().endorse(GUANGDONG, case_id, "SAMPLE 推荐理由", 1)

    outcomes = race(desk, GUANGDONG, fifth_and_sixth)

    endorsed = [c for c, o in outcomes.items() if o == "endorsed"]
    refused = [o for o in outcomes.values() if isinstance(o, PlacesExhausted)]
    assert len(endorsed) == 1 and len(refused) == 1, outcomes
    places = desk().ledger.find_allocation(call_id, RECOMMENDATION, "440000")
    assert sorted(places.holders) == sorted(first_four + endorsed)
    # The refusal says how many places are used and by which cases.
    assert refused[0].holders == places.holders
    assert "5 of 5 places are used" in refused[0].message
    assert all(case_id in refused[0].message for case_id in places.holders)


def test_eight_endorsements_racing_for_five_places_leave_exactly_five_endorsed(platform):
    desk, call_id, ledger = platform.desk, platform.call_id, platform.ledger
    cases = file_cases(platform, 8)

    outcomes = race(desk, GUANGDONG, cases)

    endorsed = sorted(c for c, o in outcomes.items() if o == "endorsed")
    assert len(endorsed) == 5, outcomes
    assert all(isinstance(o, PlacesExhausted) for o in outcomes.values() if o != "endorsed")
    reader = ledger(None)
    states = {c: reader.get_case(c).state for c in cases}
    assert sorted(c for c, s in states.items() if s == "province_endorsed") == endorsed
    assert sorted(reader.find_allocation(call_id, RECOMMENDATION, "440000").holders) == endorsed


def test_a_planned_city_recommends_its_own_units_with_two_places(platform):
    desk, call_id, ledger = platform.desk, platform.call_id, platform.ledger
    cases = file_cases(platform, 3, city="440300", area="440300", start=100)
    reader = ledger(None)
    assert {reader.get_case(c).province for c in cases} == {"440300"}
    assert {reader.get_case(c).chain[0] for c in cases} == {"province"}

    outcomes = race(desk, SHENZHEN, cases)

    assert sorted(map(str, outcomes.values())).count("endorsed") == 2
    # Guangdong's own five places are untouched by Shenzhen's, and Guangdong cannot act on Shenzhen's units.
    assert reader.find_allocation(call_id, RECOMMENDATION, "440000") is None
    refused = next(c for c, o in outcomes.items() if o != "endorsed")
    with pytest.raises(Exception) as forbidden:
        desk().endorse(GUANGDONG, refused, "SAMPLE", 1)
    assert type(forbidden.value).__name__ == "Forbidden"


def test_withdrawing_an_endorsement_before_the_deadline_frees_its_place(platform):
    desk, call_id, ledger = platform.desk, platform.call_id, platform.ledger
    cases = file_cases(platform, 6, start=200)
    for case_id in cases[:5]:
        desk().endorse(GUANGDONG, case_id, "SAMPLE 推荐理由", 1)
    with pytest.raises(PlacesExhausted):
        desk().endorse(GUANGDONG, cases[5], "SAMPLE 推荐理由", 1)

    withdrawn = desk().withdraw_endorsement(GUANGDONG, cases[0], "SAMPLE 名额调整")
    assert withdrawn.state == "submitted"  # waits for the province again
    desk().endorse(GUANGDONG, cases[5], "SAMPLE 推荐理由", 1)

    places = ledger(None).find_allocation(call_id, RECOMMENDATION, "440000")
    assert sorted(places.holders) == sorted(cases[1:6])
    kinds = [type(e).__name__ for e in ledger(None).events.get(places.id)]
    assert kinds == ["AllocationOpened", *["PlaceTaken"] * 5, "PlaceReleased", "PlaceTaken"]


def test_after_the_province_deadline_neither_endorsing_nor_withdrawing_is_accepted(platform):
    desk = platform.desk
    cases = file_cases(platform, 2, start=300)
    desk().endorse(GUANGDONG, cases[0], "SAMPLE 推荐理由", 1)
    late = desk(NOW + timedelta(days=30))  # the SAMPLE province deadline is 20 days after NOW

    with pytest.raises(DeadlinePassed) as refused:
        late.endorse(GUANGDONG, cases[1], "SAMPLE 推荐理由", 1)
    assert "deadline" in refused.value.fields and "has passed" in refused.value.rule
    with pytest.raises(DeadlinePassed):
        late.withdraw_endorsement(GUANGDONG, cases[0], "SAMPLE")


def test_an_applicant_withdrawing_an_endorsed_product_gives_the_place_back(platform):
    intake, desk, call_id, ledger = platform.intake, platform.desk, platform.call_id, platform.ledger
    cases = file_cases(platform, 1, start=400)
    desk().endorse(GUANGDONG, cases[0], "SAMPLE 推荐理由", 1)
    code = credit_code(400, "440100")
    unit = Caller(sub="u-400", role="applicant", org=code, region={"province": "440000", "city": "440100"})
    intake.withdraw(unit, cases[0], "SAMPLE 撤回")

    verification = desk()
    assert verification.free_place_of_withdrawn(cases[0]) is True
    assert verification.free_place_of_withdrawn(cases[0]) is False  # a redelivery changes nothing
    assert ledger(None).find_allocation(call_id, RECOMMENDATION, "440000").holders == []
