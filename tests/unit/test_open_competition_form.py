"""The 揭榜挂帅 application form (工信厅联消费函〔2025〕220号), one test per rule.

The directions here are test data (T-…): the notice's nine directions are in its
attachment 1, which we do not have, and a call defines them.
"""

from __future__ import annotations

import copy
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st
from marshmallow import ValidationError
from stdnum.cn import uscc

from shared.domain.errors import ValidationFailed
from shared.domain.forms.open_competition import DECLARATIONS, SUMMARY_MAX, open_competition_schema
from shared.domain.forms.open_competition_tasks import (
    CATEGORIES,
    COMPONENTS_AND_CONSUMABLES,
    OPERATING_SYSTEMS,
    REACTOR_SYSTEMS,
)
from shared.domain.forms.samples import SAMPLE_CATEGORY, SAMPLE_DIRECTIONS, SAMPLE_OPEN_COMPETITION_APPLICATION
from shared.domain.validation import load
from shared.infra.web.errors import refusal_of

TEST_DIRECTIONS = [
    {"code": "T-R1", "name": "test reactor direction", "category": REACTOR_SYSTEMS},
    {"code": "T-R2", "name": "test reactor direction", "category": REACTOR_SYSTEMS},
    {"code": "T-C1", "name": "test component direction", "category": COMPONENTS_AND_CONSUMABLES},
    {"code": "T-O1", "name": "test OS direction", "category": OPERATING_SYSTEMS},
]
DIRECTION_OF = {REACTOR_SYSTEMS: "T-R1", COMPONENTS_AND_CONSUMABLES: "T-C1", OPERATING_SYSTEMS: "T-O1"}
USER_KIND_OF = {REACTOR_SYSTEMS: "reactor", COMPONENTS_AND_CONSUMABLES: "component", OPERATING_SYSTEMS: "system"}

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"  # GB 32100 characters (no I, O, S, V, Z)


def code(first17: str) -> str:
    return first17 + uscc.calc_check_digit(first17)


def application(category: str = SAMPLE_CATEGORY) -> dict:
    """The sample, moved to a test direction of `category`, its user member using that kind."""
    app = copy.deepcopy(SAMPLE_OPEN_COMPETITION_APPLICATION)
    app["direction"] = DIRECTION_OF[category]
    app["members"][0]["user_of"] = [USER_KIND_OF[category]]
    return app


def enterprise(n: int, **extra) -> dict:
    return {"name": f"SAMPLE 企业{n}", "credit_code": code(f"9142010000000{n:04d}"), "kind": "enterprise",
            "role": "SAMPLE 分工", "user_enterprise": False, **extra}


def university(n: int) -> dict:
    return {"name": f"SAMPLE 大学{n}", "credit_code": code(f"1242000000000{n:04d}"), "kind": "university",
            "role": "SAMPLE 分工"}


def errors(app, category: str = SAMPLE_CATEGORY) -> dict[str, list[str]]:
    """The flat `{path: [messages]}` the API answers with."""
    with pytest.raises(ValidationFailed) as excinfo:
        load(open_competition_schema(category, TEST_DIRECTIONS), app)
    return excinfo.value.fields


def loads(app, category: str = SAMPLE_CATEGORY) -> dict:
    return load(open_competition_schema(category, TEST_DIRECTIONS), app)


# -- the call's data ----------------------------------------------------------------


def test_the_sample_application_is_valid_for_the_sample_call():
    loaded = open_competition_schema(SAMPLE_CATEGORY, SAMPLE_DIRECTIONS).load(SAMPLE_OPEN_COMPETITION_APPLICATION)
    assert loaded["direction"] == "SAMPLE-R1"
    assert loaded["lead"]["credit_code"] == SAMPLE_OPEN_COMPETITION_APPLICATION["lead"]["credit_code"]


def test_the_sample_is_labelled_sample_and_its_credit_codes_pass_stdnum():
    app = SAMPLE_OPEN_COMPETITION_APPLICATION
    units = [app["lead"], *app["members"]]
    assert all(u["name"].startswith("SAMPLE") for u in units)
    assert app["title"].startswith("SAMPLE")
    assert all(uscc.is_valid(u["credit_code"]) for u in units)
    assert all(d["code"].startswith("SAMPLE") for d in SAMPLE_DIRECTIONS)


def test_the_three_categories_carry_the_notices_chinese_names():
    assert (REACTOR_SYSTEMS, COMPONENTS_AND_CONSUMABLES, OPERATING_SYSTEMS) == (
        "反应器系统", "关键部件与耗材", "工业操作系统")
    assert CATEGORIES == (REACTOR_SYSTEMS, COMPONENTS_AND_CONSUMABLES, OPERATING_SYSTEMS)


def test_the_factory_refuses_a_category_the_notice_does_not_have():
    with pytest.raises(ValueError):
        open_competition_schema("生物能源", TEST_DIRECTIONS)


def test_the_notices_second_spelling_of_the_components_category_is_the_same_category():
    app = application(COMPONENTS_AND_CONSUMABLES)
    assert loads(app, "关键部件和耗材")["direction"] == "T-C1"


def test_the_direction_is_one_of_the_calls_directions_of_the_category():
    app = application(REACTOR_SYSTEMS)
    assert loads({**app, "direction": "T-R2"})["direction"] == "T-R2"
    assert set(errors({**app, "direction": "T-C1"})) == {"direction"}  # another category's direction
    assert set(errors({**app, "direction": "R1"})) == {"direction"}  # not in the call at all
    # plain codes, as a call may list them
    assert open_competition_schema(REACTOR_SYSTEMS, ["T-R1"]).load(app)["direction"] == "T-R1"


def test_a_call_without_a_direction_in_the_category_gives_no_schema():
    with pytest.raises(ValueError):
        open_competition_schema(OPERATING_SYSTEMS, [d for d in TEST_DIRECTIONS if d["code"] != "T-O1"])


# -- the consortium ------------------------------------------------------------------


def test_an_application_has_exactly_one_lead_unit():
    app = application()
    missing = {k: v for k, v in app.items() if k != "lead"}
    assert "牵头单位" in errors(missing)["lead"][0]
    assert "牵头单位" in errors({**app, "lead": [app["lead"], enterprise(9)]})["lead"][0]


def test_a_consortium_has_at_most_four_members_besides_the_lead():
    app = application()
    four = app["members"] + [university(5)]
    assert len(four) == 4
    assert len(loads({**app, "members": four})["members"]) == 4
    flat = errors({**app, "members": [*four, university(6)]})
    assert flat == {"members": ["联合体成员不得超过4家 / at most 4 members besides the lead unit"]}


def test_every_unit_has_a_valid_unified_social_credit_code():
    app = application()
    app["members"].append(university(5))
    bad = app["members"][3]["credit_code"]
    app["members"][3]["credit_code"] = bad[:-1] + ("0" if bad[-1] != "0" else "1")
    app["lead"]["credit_code"] = "9142010000000000"  # 16 characters
    flat = errors(app)
    assert set(flat) == {"members[3].credit_code", "lead.credit_code"}
    assert "校验位" in flat["members[3].credit_code"][0]
    assert "18" in flat["lead.credit_code"][0]


def test_a_credit_code_loads_in_its_compact_upper_case_form():
    app = application()
    lead_code = app["lead"]["credit_code"]
    app["lead"]["credit_code"] = f" {lead_code[:8]}-{lead_code[8:].lower()} "
    assert loads(app)["lead"]["credit_code"] == lead_code


credit_codes = st.builds(
    lambda head, body: code(head + body),
    st.text(alphabet="0123456789", min_size=8, max_size=8),
    st.text(alphabet=ALPHABET, min_size=9, max_size=9),
)


@given(credit_codes)
def test_a_credit_code_with_its_check_character_passes(credit_code):
    app = application()
    app["lead"]["credit_code"] = credit_code
    assert loads(app)["lead"]["credit_code"] == credit_code


@given(credit_codes, st.sampled_from(ALPHABET))
def test_a_credit_code_with_a_changed_check_character_fails(credit_code, other):
    if other == credit_code[-1]:
        other = ALPHABET[(ALPHABET.index(other) + 1) % len(ALPHABET)]
    app = application()
    app["lead"]["credit_code"] = credit_code[:-1] + other
    assert set(errors(app)) == {"lead.credit_code"}


def test_no_credit_code_appears_twice_in_one_application():
    app = application()
    app["members"][1]["credit_code"] = app["lead"]["credit_code"]
    app["members"][2]["credit_code"] = app["members"][0]["credit_code"].lower()  # same code, other case
    flat = errors(app)
    assert set(flat) == {"members[1].credit_code", "members[2].credit_code"}
    assert "lead" in flat["members[1].credit_code"][0]
    assert "members[0]" in flat["members[2].credit_code"][0]


def test_a_unit_is_an_enterprise_university_research_institute_or_other():
    app = application()
    app["members"].append({**university(5), "kind": "other"})
    assert loads(app)
    app["members"][1]["kind"] = "hospital"
    assert set(errors(app)) == {"members[1].kind"}


def test_every_unit_names_its_role_in_the_consortium():
    app = application()
    del app["members"][2]["role"]
    app["lead"]["role"] = "   "
    assert set(errors(app)) == {"members[2].role", "lead.role"}


def test_an_enterprise_states_whether_it_is_a_user_enterprise():
    app = application()
    del app["lead"]["user_enterprise"]
    assert set(errors(app)) == {"lead.user_enterprise"}


def test_a_user_enterprise_states_whether_it_uses_reactors_components_or_systems():
    app = application()
    app["members"][0]["user_of"] = []
    assert "members[0].user_of" in errors(app)
    app["members"][0]["user_of"] = ["pipettes"]
    assert "members[0].user_of[0]" in errors(app)


def test_only_an_enterprise_can_be_a_user_enterprise():
    app = application()
    app["members"][1].update(user_enterprise=True, user_of=["reactor"])
    flat = errors(app)
    assert set(flat) == {"members[1].user_enterprise", "members[1].user_of"}


def test_only_a_research_institute_can_be_a_cas_institute():
    app = application()
    app["members"][1]["cas_institute"] = True  # a university
    assert set(errors(app)) == {"members[1].cas_institute"}


# -- the user-enterprise rule (二(一)) -------------------------------------------------


def test_a_reactor_system_task_consortium_needs_a_reactor_user_enterprise():
    app = application(REACTOR_SYSTEMS)
    app["members"][0]["user_of"] = ["component", "system"]  # users, but not of reactors
    assert errors(app, REACTOR_SYSTEMS) == {
        "members": ["反应器系统类揭榜任务的联合体中至少须有1家反应器用户企业 / "
                    "a consortium for a reactor-system task needs at least one reactor user enterprise"]
    }


@pytest.mark.parametrize("category", [COMPONENTS_AND_CONSUMABLES, OPERATING_SYSTEMS])
def test_a_components_or_operating_system_task_consortium_needs_a_component_or_system_user_enterprise(category):
    app = application(category)
    for kind in ("component", "system"):
        app["members"][0]["user_of"] = [kind]
        assert loads(app, category)
    app["members"][0]["user_of"] = ["reactor"]  # a reactor user does not count here
    flat = errors(app, category)
    assert list(flat) == ["members"]
    assert "部件或系统用户企业" in flat["members"][0]


def test_the_lead_unit_counts_as_the_consortiums_user_enterprise():
    app = application(REACTOR_SYSTEMS)
    app["members"][0].update(user_enterprise=False, user_of=[])
    app["lead"].update(user_enterprise=True, user_of=["reactor"])
    assert loads(app, REACTOR_SYSTEMS)


def test_a_single_applicant_without_members_is_not_held_to_the_consortium_user_rule():
    # 二(一) binds "…的联合体"; a single applicant is a 申请单位, not a 联合体.
    for category in CATEGORIES:
        app = application(category)
        app["members"] = []
        assert app["lead"]["user_enterprise"] is False
        assert loads(app, category)["members"] == []


# -- the declarations (二(二)) ----------------------------------------------------------


@pytest.mark.parametrize("declaration", list(DECLARATIONS))
@pytest.mark.parametrize("answer", [False, "true", 1, None, "missing"])
def test_every_declaration_of_the_notice_is_an_explicit_true(declaration, answer):
    app = application()
    if answer == "missing":
        del app["declarations"][declaration]
    else:
        app["declarations"][declaration] = answer
    flat = errors(app)
    assert list(flat) == [f"declarations.{declaration}"]
    assert DECLARATIONS[declaration][0] in flat[f"declarations.{declaration}"][0]


def test_the_declarations_are_required():
    app = application()
    del app["declarations"]
    assert set(errors(app)) == {"declarations"}


# -- the project ---------------------------------------------------------------------


def test_the_summary_has_at_most_our_limit_of_characters():
    app = application()
    app["summary"] = "长" * SUMMARY_MAX
    assert loads(app)
    app["summary"] = "长" * (SUMMARY_MAX + 1)
    assert errors(app) == {"summary": [f"不得超过{SUMMARY_MAX}字（现为{SUMMARY_MAX + 1}字） / at most "
                                       f"{SUMMARY_MAX} characters ({SUMMARY_MAX + 1} given)"]}


def test_the_project_has_a_title_and_at_least_one_target():
    app = application()
    app["title"] = ""
    app["targets"] = []
    assert set(errors(app)) == {"title", "targets"}


def test_evidence_is_a_lowercase_sha256_hex_digest():
    app = application()
    good = app["evidence"][0]
    app["evidence"] = [good, good.upper(), good[:-1], "g" * 64]
    flat = errors(app)
    assert set(flat) == {"evidence[1]", "evidence[2]", "evidence[3]"}


def test_the_same_evidence_document_is_referenced_once():
    app = application()
    app["evidence"].append(app["evidence"][0])
    assert set(errors(app)) == {"evidence[2]"}


def test_unknown_fields_are_refused():
    app = application()
    app["budget"] = 100
    app["members"][0]["shares"] = 5
    unknown = "申请表中无此栏目 / unknown field: not on the application form"
    assert errors(app) == {"budget": [unknown], "members[0].shares": [unknown]}


# -- how errors leave ----------------------------------------------------------------


def test_every_failing_field_is_reported_at_once():
    app = application()
    app["members"] += [university(5), university(6)]  # 5 members
    app["members"][3]["credit_code"] = app["members"][3]["credit_code"][:-1] + "I"  # I is not a GB 32100 character
    app["members"][4]["credit_code"] = app["lead"]["credit_code"]
    app["members"][0]["user_of"] = ["system"]  # no reactor user left
    app["declarations"]["pre_industrialisation_verified"] = False
    app["summary"] = "长" * (SUMMARY_MAX + 1)
    flat = errors(app)
    assert set(flat) == {
        "members", "members[3].credit_code", "members[4].credit_code",
        "declarations.pre_industrialisation_verified", "summary",
    }
    assert len(flat["members"]) == 2  # the count and the user-enterprise rule


def test_every_message_is_chinese_then_english():
    app = application()
    app["members"] += [university(5), university(6)]
    app["members"][0]["user_of"] = []
    app["members"][1].update(user_enterprise=True, cas_institute=True, kind="hospital")
    app["lead"]["credit_code"] = "short"
    app["declarations"] = {}
    app["evidence"] = ["x"]
    app["direction"] = "nowhere"
    app["title"] = 7
    app["extra"] = True
    del app["targets"]
    flat = errors(app)
    messages = [m for ms in flat.values() for m in ms]
    assert len(messages) >= 12
    bilingual = re.compile(r"^[^/]*[\u4e00-\u9fff][^/]* / [A-Za-z(][^\u4e00-\u9fff]*$", re.S)
    assert [m for m in messages if not bilingual.match(m)] == []


def test_an_error_path_reaches_the_api_through_shared_http_load():
    app = application()
    app["members"].append(university(5))
    app["members"][3]["credit_code"] = app["members"][3]["credit_code"][:-1] + "Z"
    schema = open_competition_schema(SAMPLE_CATEGORY, TEST_DIRECTIONS)
    with pytest.raises(ValidationError):  # marshmallow's own error, nested
        schema.load(app)
    with pytest.raises(ValidationFailed) as excinfo:
        load(schema, app)
    assert refusal_of(excinfo.value).status == 400
    assert excinfo.value.fields == {
        "members[3].credit_code": [
            "统一社会信用代码含非法字符（前8位为数字，其余为数字或除I、O、S、V、Z外的大写字母） / "
            "unified social credit code has invalid characters (8 digits, then digits or "
            "capitals except I, O, S, V, Z)"],
    }


def test_a_body_that_is_not_an_object_is_one_error():
    assert errors([SAMPLE_OPEN_COMPETITION_APPLICATION]) == {"_body": ["须为对象 / must be an object"]}


@pytest.mark.parametrize("kind", [["enterprise"], {"x": 1}, 7])
def test_a_unit_kind_that_is_not_text_is_a_field_error_not_a_crash(kind):
    form = copy.deepcopy(SAMPLE_OPEN_COMPETITION_APPLICATION)
    form["members"][0]["kind"] = kind
    with pytest.raises(ValidationFailed) as refused:
        load(open_competition_schema(SAMPLE_CATEGORY, SAMPLE_DIRECTIONS), form)
    assert "members[0].kind" in refused.value.fields
