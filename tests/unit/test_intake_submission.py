"""Filing an application, on an embedded SQLite ledger: who files, once per direction or product,
naming only documents the unit uploaded, until the end of the applicants' deadline day in Shanghai.

220号 二(一) "同一家申请单位可同时参与多个任务的揭榜工作"; 三(一) "于2025年6月30日前提交" and
"联合体牵头单位应将所有参与单位情况汇总后统一填写并提交". The 220 call is the shipped one with two
SAMPLE directions (the notice's nine are in its attachment 1, which we do not have); the 382 call is
a SAMPLE copy with its deadlines moved. Units and products are SAMPLE data.
"""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta

import pytest

from services.intake import readmodels as rm
from services.intake.application import Intake
from shared.domain.access import Caller
from shared.domain.errors import DomainRuleViolation, ValidationFailed
from shared.domain.forms.samples import SAMPLE_OPEN_COMPETITION_APPLICATION
from shared.domain.registration_area import Outcome, RegistrationCheck
from shared.infra.ledger import CaseLedger
from shared.infra.personal.keystore import KeyStore
from shared.infra.personal.vault import Vault
from shared.infra.readmodels.store import ReadModelStore
from tests.samples import credit_code, deposit_sample_evidence, sample_382, shipped_call, signature_form

OPEN = "sample-220-intake"
PRODUCTS = "sample-382-intake"
BEFORE_THE_DEADLINE = datetime(2025, 6, 1, 2, 0, tzinfo=UTC)
LAST_SECOND = datetime(2025, 6, 30, 15, 59, 59, tzinfo=UTC)  # 2025-06-30 23:59:59 in Beijing
MINISTRY = Caller(sub="u-miit", role="ministry", org="MIIT")
BEIJING = {"province": "110000"}  # a province-only chain in both calls
LEAD = SAMPLE_OPEN_COMPETITION_APPLICATION["lead"]
MEMBER = SAMPLE_OPEN_COMPETITION_APPLICATION["members"][0]


def open_call() -> dict:
    """220号 as shipped (its deadlines, its chain), with two SAMPLE reactor-system directions."""
    call = shipped_call("open_competition_2025_220.json")
    call.update(call_id=OPEN, sample=True, note="SAMPLE copy of 220号 for tests: two invented directions")
    call["open_competition"].update(directions_status="defined", announced_direction_count=2, directions=[
        {"code": code, "name": f"SAMPLE 反应器系统方向 {code}（测试数据，非榜单）", "category": "reactor_system"}
        for code in ("SAMPLE-R1", "SAMPLE-R2")])
    return call


def task(direction: str) -> dict:
    form = copy.deepcopy(SAMPLE_OPEN_COMPETITION_APPLICATION)
    form["direction"] = direction
    return form


def unit(code: str, region: dict = BEIJING) -> Caller:
    return Caller(sub=f"u-{code}", role="applicant", org=code, region=region)


class Desk:
    def __init__(self, tmp_path):
        url = f"sqlite:///{tmp_path}/ledger.db"
        self.ledger = CaseLedger(url, owner="intake")
        self.documents = CaseLedger(url, owner="documents")  # where the units' uploads are recorded
        self.store = ReadModelStore(f"sqlite:///{tmp_path}/intake.db", rm.metadata)
        self.keys = KeyStore(f"sqlite:///{tmp_path}/personal-keys.db")
        self.at(BEFORE_THE_DEADLINE).define_call(MINISTRY, open_call())
        self.at(BEFORE_THE_DEADLINE).define_call(MINISTRY, sample_382(PRODUCTS, BEFORE_THE_DEADLINE.date()))

    def at(self, now: datetime) -> Intake:
        return Intake(self.ledger, self.store, now, Vault(self.keys))

    @property
    def intake(self) -> Intake:
        return self.at(BEFORE_THE_DEADLINE)

    def uploaded(self, code: str) -> Caller:
        """The unit, having uploaded every SAMPLE document the sample forms name."""
        deposit_sample_evidence(self.documents, code)
        return unit(code)

    def close(self) -> None:
        self.ledger.close()
        self.documents.close()
        self.keys.close()
        self.store.dispose()


@pytest.fixture
def desk(tmp_path):
    desk = Desk(tmp_path)
    yield desk
    desk.close()


def test_a_unit_applies_once_to_a_direction_and_may_take_part_in_several_directions(desk):
    lead = desk.uploaded(LEAD["credit_code"])
    first = desk.intake.submit(lead, OPEN, task("SAMPLE-R1"))
    with pytest.raises(DomainRuleViolation) as again:
        desk.intake.submit(lead, OPEN, task("SAMPLE-R1"))
    assert again.value.field == "direction" and str(first.id) in again.value.rule

    second = desk.intake.submit(lead, OPEN, task("SAMPLE-R2"))
    assert (first.direction, second.direction) == ("SAMPLE-R1", "SAMPLE-R2")
    assert first.applicant == second.applicant == {"credit_code": LEAD["credit_code"], "name": LEAD["name"]}


def test_a_unit_applies_once_with_a_product_however_its_name_is_spaced_or_its_letters_are_wide(desk):
    code = credit_code(5001, "110100")
    applicant = desk.uploaded(code)
    first = desk.intake.submit(applicant, PRODUCTS, signature_form(code, "SAMPLE 产品 甲"))
    for same in ("SAMPLE产品甲", "ＳＡＭＰＬＥ 产品 甲"):
        with pytest.raises(DomainRuleViolation) as again:
            desk.intake.submit(applicant, PRODUCTS, signature_form(code, same))
        assert again.value.field == "product.name" and str(first.id) in again.value.rule
    assert desk.intake.submit(applicant, PRODUCTS, signature_form(code, "SAMPLE 产品 乙")).title == "SAMPLE 产品 乙"


def test_only_the_lead_unit_files_for_its_consortium(desk):
    member = desk.uploaded(MEMBER["credit_code"])
    with pytest.raises(ValidationFailed) as refused:
        desk.intake.submit(member, OPEN, task("SAMPLE-R1"))
    assert list(refused.value.fields) == ["lead.credit_code"]
    assert MEMBER["credit_code"] in refused.value.fields["lead.credit_code"][0]

    case = desk.intake.submit(desk.uploaded(LEAD["credit_code"]), OPEN, task("SAMPLE-R1"))
    assert case.applicant["credit_code"] == LEAD["credit_code"]
    assert [m["credit_code"] for m in case.application["members"]] == [
        m["credit_code"] for m in SAMPLE_OPEN_COMPETITION_APPLICATION["members"]]


def test_an_application_is_taken_until_the_end_of_the_deadline_day_in_shanghai_and_refused_after(desk):
    lead = desk.uploaded(LEAD["credit_code"])
    assert desk.at(LAST_SECOND).submit(lead, OPEN, task("SAMPLE-R1")).direction == "SAMPLE-R1"

    with pytest.raises(ValidationFailed) as late:
        desk.at(LAST_SECOND + timedelta(seconds=1)).submit(lead, OPEN, task("SAMPLE-R2"))
    assert list(late.value.fields) == ["deadline"]
    assert "2025-06-30T23:59:59+08:00" in late.value.fields["deadline"][0]


def test_a_form_naming_documents_the_unit_never_uploaded_is_refused_at_each_such_field(desk):
    lead = unit(LEAD["credit_code"])
    with pytest.raises(ValidationFailed) as refused:
        desk.intake.submit(lead, OPEN, task("SAMPLE-R1"))
    assert sorted(refused.value.fields) == ["evidence[0]", "evidence[1]"]
    assert "POST /documents/uploads" in refused.value.fields["evidence[0]"][0]

    deposit_sample_evidence(desk.documents, LEAD["credit_code"])
    assert desk.intake.submit(lead, OPEN, task("SAMPLE-R1")).state == "submitted"


def test_a_unit_registered_elsewhere_than_the_region_it_files_as_is_taken_and_the_difference_recorded(desk):
    """The unit of issue #17: its code was registered in Wuhan; it files as a Guangdong unit, then as a
    Shenzhen one. Neither is refused (a unit keeps its code when it moves); each case records both codes."""
    wuhan_code = credit_code(5101, "420100")
    deposit_sample_evidence(desk.documents, wuhan_code)
    as_guangdong = unit(wuhan_code, {"province": "440000"})
    filed = desk.intake.submit(as_guangdong, PRODUCTS, signature_form(wuhan_code, "SAMPLE 产品 丙"))
    assert (filed.state, filed.province) == ("submitted", "440000")
    assert filed.registration_check == RegistrationCheck(
        Outcome.DIFFERS, "420100", "440000",
        "登记机关行政区划 420100，申报地区 440000 / registered in 420100, filing as 440000")
    assert desk.ledger.get_case(filed.id).registration_check == filed.registration_check

    as_shenzhen = unit(wuhan_code, {"province": "440000", "city": "440300"})
    again = desk.intake.submit(as_shenzhen, PRODUCTS, signature_form(wuhan_code, "SAMPLE 产品 丁"))
    assert again.province == "440300"  # Shenzhen recommends its own units
    assert again.registration_check.mismatch
    assert (again.registration_check.registered_area, again.registration_check.claimed_region) == ("420100", "440300")


def test_a_unit_filing_in_the_region_of_its_registration_is_recorded_as_matching(desk):
    shenzhen_code = credit_code(5102, "440305")  # registered in a district of Shenzhen
    deposit_sample_evidence(desk.documents, shenzhen_code)
    filed = desk.intake.submit(unit(shenzhen_code, {"province": "440000", "city": "440300"}), PRODUCTS,
                               signature_form(shenzhen_code, "SAMPLE 产品 戊"))
    assert filed.registration_check.outcome == Outcome.MATCHES and not filed.registration_check.mismatch
    assert (filed.registration_check.registered_area, filed.registration_check.claimed_region) == ("440305", "440300")


def test_a_consortium_s_check_is_of_its_lead_unit_the_one_that_files(desk):
    case = desk.intake.submit(desk.uploaded(LEAD["credit_code"]), OPEN, task("SAMPLE-R1"))  # filing as Beijing
    assert (case.registration_check.outcome, case.registration_check.registered_area,
            case.registration_check.claimed_region) == (Outcome.DIFFERS, "420100", "110000")
