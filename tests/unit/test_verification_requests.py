"""What an authority's check and recommendation must state, as the verification desk loads them.

220号 三(二) and 382号 三(二): "对申请材料真实性、完整性、有效性进行核实"; Hubei's forwarding of
382号: "请市州经信局认真审核申报材料并出具推荐意见".
"""

from __future__ import annotations

import pytest

from services.verification.schemas import ChecksSchema, RecommendSchema
from shared.domain.errors import ValidationFailed
from shared.domain.validation import load

CHECKED = {"passed": True, "note": "SAMPLE 已核实"}


def refused(schema, data) -> dict[str, list[str]]:
    with pytest.raises(ValidationFailed) as excinfo:
        load(schema, data)
    return excinfo.value.fields


def test_a_check_records_authenticity_completeness_and_validity_each_passed_or_not_with_a_note():
    checks = {"authenticity": CHECKED, "completeness": CHECKED, "validity": {"passed": False, "note": "SAMPLE 过期"}}
    assert load(ChecksSchema(), checks) == checks
    assert set(refused(ChecksSchema(), {"authenticity": CHECKED})) == {"completeness", "validity"}
    assert set(refused(ChecksSchema(), {**checks, "authenticity": {"note": "SAMPLE"}})) == {"authenticity.passed"}
    assert set(refused(ChecksSchema(), {**checks, "validity": {"passed": True}})) == {"validity.note"}


@pytest.mark.parametrize("reason", [None, ""])
def test_a_recommendation_states_its_reason(reason):
    body = {"rank": 1} if reason is None else {"reason": reason, "rank": 1}
    assert set(refused(RecommendSchema(), body)) == {"reason"}
    assert load(RecommendSchema(), {"reason": "SAMPLE 市州推荐意见", "rank": 1})["reason"] == "SAMPLE 市州推荐意见"
