"""The 揭榜挂帅 application (Program kind 1), as a marshmallow 4 schema.

Source: 工信厅联消费函〔2025〕220号, 工业和信息化部办公厅 中国科学院办公厅关于开展高性能生物反应器
创新任务揭榜挂帅工作的通知 (seed ``000_3f15a1cf903b9b04.txt``). Where it and DOMAIN.md differ,
the notice wins.

Public API
----------
- ``REACTOR_SYSTEMS``, ``COMPONENTS_AND_CONSUMABLES``, ``OPERATING_SYSTEMS``: the notice's
  three task categories (their Chinese names); ``CATEGORIES`` all three.
- ``UNIT_KINDS`` (enterprise, university, research_institute, other) and ``USER_KINDS``
  (reactor, component, system), each code -> Chinese label.
- ``REQUIRED_USER_KINDS``: category -> the user kinds of which a consortium needs one.
- ``DECLARATIONS``: the six declarations of 二(二) 申请要求, field -> (Chinese, English).
- ``open_competition_schema(category, directions)`` -> a ``Schema`` instance for one
  application to a direction of that category. ``directions`` is the call's data: codes, or
  mappings shaped like ``services.intake.schemas.DirectionSchema`` (``code``, ``category``).
  The nine task directions live in the notice's attachment 1, which we do not have, so they
  are never written down here.
- ``SAMPLE_OPEN_COMPETITION_APPLICATION`` with ``SAMPLE_CATEGORY`` and ``SAMPLE_DIRECTIONS``:
  a valid example (every name labelled SAMPLE).

The payload::

    {"direction": code, "title": ..., "summary": ..., "targets": [...],
     "lead": unit, "members": [unit, ...],           # members: 联合申请单位, at most 4
     "declarations": {field: true, ...},             # all six, each exactly `true`
     "evidence": [sha256 hex, ...]}                  # documents held by the documents service
    unit = {"name", "credit_code", "kind", "role",
            "cas_institute"?,                        # research institutes only
            "user_enterprise"?, "user_of"?}          # enterprises only

A single applicant files with ``lead`` = itself and no ``members``.

Every message is Chinese then English (``中文 / English``); every failing field is reported
at once (the cross-field rules read the raw input so that one bad field does not hide the
others); paths flatten through ``shared.domain.validation.flatten_messages`` to e.g.
``members[3].credit_code``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from functools import lru_cache
from typing import Any

from marshmallow import Schema, validates_schema
from stdnum.cn import uscc

from services.intake.forms.common import (
    Code,
    Confirmed,
    CreditCode,
    FormSection,
    Listing,
    RuleErrors,
    Section,
    Text,
    YesNo,
    bilingual,
    valid_credit_code,
)
from services.intake.forms.common import evidence as evidence_list
from services.intake.forms.common import sample_evidence

__all__ = [
    "REACTOR_SYSTEMS",
    "COMPONENTS_AND_CONSUMABLES",
    "OPERATING_SYSTEMS",
    "CATEGORIES",
    "CATEGORY_NAMES_EN",
    "UNIT_KINDS",
    "USER_KINDS",
    "REQUIRED_USER_KINDS",
    "DECLARATIONS",
    "MAX_MEMBERS",
    "canonical_category",
    "open_competition_schema",
    "SAMPLE_CATEGORY",
    "SAMPLE_DIRECTIONS",
    "SAMPLE_OPEN_COMPETITION_APPLICATION",
]

# -- the notice's data ----------------------------------------------------------

# 一、任务目标: "聚焦反应器系统、关键部件与耗材、工业操作系统3类9项揭榜任务"
REACTOR_SYSTEMS = "反应器系统"
COMPONENTS_AND_CONSUMABLES = "关键部件与耗材"
OPERATING_SYSTEMS = "工业操作系统"
CATEGORIES = (REACTOR_SYSTEMS, COMPONENTS_AND_CONSUMABLES, OPERATING_SYSTEMS)
CATEGORY_NAMES_EN = {
    REACTOR_SYSTEMS: "reactor systems",
    COMPONENTS_AND_CONSUMABLES: "key components and consumables",
    OPERATING_SYSTEMS: "industrial operating systems",
}
# 二(一) writes the same category "关键部件和耗材"; call data may use either spelling.
_CATEGORY_ALIASES = {"关键部件和耗材": COMPONENTS_AND_CONSUMABLES}

# 二(一): "联合体中应明确1家牵头单位，其余联合申请单位不超过4家"
MAX_MEMBERS = 4

UNIT_KINDS = {
    "enterprise": "企业",
    "university": "高校",
    # 二(一) "支持中国科学院院属研究单位与企业、高校等组成申请联合体": CAS institutes are
    # research institutes with `cas_institute: true`.
    "research_institute": "科研院所（含中国科学院院属研究单位）",
    "other": "其他",
}
USER_KINDS = {
    "reactor": "反应器用户企业",
    "component": "部件用户企业",
    "system": "系统用户企业",
}
# 二(一): "申请关键部件和耗材、工业操作系统类揭榜任务的联合体至少有1家部件或系统用户企业；
#          申请反应器系统类揭榜任务的联合体中至少有1家反应器用户企业"
REQUIRED_USER_KINDS = {
    REACTOR_SYSTEMS: frozenset({"reactor"}),
    COMPONENTS_AND_CONSUMABLES: frozenset({"component", "system"}),
    OPERATING_SYSTEMS: frozenset({"component", "system"}),
}
_USER_RULE_MESSAGES = {
    REACTOR_SYSTEMS: bilingual(
        "反应器系统类揭榜任务的联合体中至少须有1家反应器用户企业",
        "a consortium for a reactor-system task needs at least one reactor user enterprise"),
    COMPONENTS_AND_CONSUMABLES: bilingual(
        "关键部件与耗材类揭榜任务的联合体至少须有1家部件或系统用户企业",
        "a consortium for a key-components-and-consumables task needs at least one component "
        "or system user enterprise"),
    OPERATING_SYSTEMS: bilingual(
        "工业操作系统类揭榜任务的联合体至少须有1家部件或系统用户企业",
        "a consortium for an industrial-operating-system task needs at least one component "
        "or system user enterprise"),
}

# 二(二) 申请要求: "申请单位或联合体应具有高性能生物反应器创新工作基础和攻关能力，各项管理运行制度
# 健全，近3年无重大安全和环境污染事故；已完成产业化前期验证，具有基本定型产品且拥有知识产权；
# 揭榜后能够在各子任务榜单指定的期限内完成相关任务且达到预期目标。"
DECLARATIONS = {
    "innovation_base_and_capability": (
        "具有高性能生物反应器创新工作基础和攻关能力",
        "an innovation base and the capability to tackle high-performance bioreactors",
    ),
    "sound_management_systems": (
        "各项管理运行制度健全",
        "sound management and operating systems",
    ),
    "no_major_accident_in_3_years": (
        "近3年无重大安全和环境污染事故",
        "no major safety or environmental pollution accident in the last 3 years",
    ),
    "pre_industrialisation_verified": (
        "已完成产业化前期验证",
        "pre-industrialisation verification completed",
    ),
    "finalised_product_with_own_ip": (
        "具有基本定型产品且拥有知识产权",
        "a basically finalised product with its own intellectual property",
    ),
    "completes_within_task_deadline": (
        "揭榜后能够在各子任务榜单指定的期限内完成相关任务且达到预期目标",
        "a commitment to finish the task within the deadline its list sets and reach its targets",
    ),
}

# -- our limits (the notice sets none; attachment 2, the 申请材料 form, is not available) ------
TITLE_MAX = 100  # ours, not the notice's
SUMMARY_MAX = 1000  # ours, not the notice's: the project summary in characters (汉字 count 1)
TARGET_MAX = 300  # ours: one target indicator, in characters
TARGETS_MAX = 20  # ours: number of target indicators
UNIT_NAME_MAX = 200  # ours
ROLE_MAX = 200  # ours: the unit's division of labour in the consortium (任务分工)
EVIDENCE_MAX = 200  # ours: number of evidence documents

# -- schemas --------------------------------------------------------------------

_ONLY_ENTERPRISES_USE = bilingual("只有企业可以是用户企业", "only an enterprise can be a user enterprise")
_ONE_LEAD = bilingual("联合体应明确1家牵头单位", "exactly one lead unit (牵头单位), given as one object")


class _Part(FormSection):
    class Meta:
        register = False  # the factory makes a schema class per call: keep them out of marshmallow's registry


class UnitSchema(_Part):
    """One unit of the application: the lead unit (牵头单位) or a member (联合申请单位).

    The codes (``kind``, ``user_of``) load exactly as sent: the rules read the raw input.
    """

    name = Text(UNIT_NAME_MAX)
    credit_code = CreditCode()
    kind = Code(UNIT_KINDS, strip=False)
    role = Text(ROLE_MAX)
    cas_institute = YesNo(load_default=False)
    user_enterprise = YesNo()
    user_of = Listing(Code(USER_KINDS, strip=False), required=False)

    @validates_schema(pass_original=True, skip_on_field_errors=False)
    def _kind_rules(self, data, original, **kwargs):
        """Rules that depend on the unit kind, read from the raw input (see module docstring)."""
        if not isinstance(original, Mapping):
            return
        kind = original.get("kind")
        if not isinstance(kind, str) or kind not in UNIT_KINDS:
            return  # the kind's own error says it; nothing conditional can be judged
        errors = RuleErrors()
        user_enterprise = original.get("user_enterprise")
        user_of = original.get("user_of")
        if kind == "enterprise":
            if "user_enterprise" not in original:
                errors.add("user_enterprise", bilingual(
                    "企业须说明是否为用户企业", "an enterprise states whether it is a user enterprise"))
            elif user_enterprise is True and not user_of:
                errors.add("user_of", bilingual(
                    "用户企业须说明是反应器、部件还是系统用户",
                    "a user enterprise states what it uses: reactor, component or system"))
            elif user_enterprise is False and user_of:
                errors.add("user_of", bilingual(
                    "非用户企业不填写用户类型", "only a user enterprise names what it uses"))
        else:
            if user_enterprise is True:
                errors.add("user_enterprise", _ONLY_ENTERPRISES_USE)
            if user_of:
                errors.add("user_of", _ONLY_ENTERPRISES_USE)
        if original.get("cas_institute") is True and kind != "research_institute":
            errors.add("cas_institute", bilingual(
                "中国科学院院属研究单位的单位类型为科研院所",
                "a CAS institute has the unit kind research_institute"))
        errors.raise_if_any()


def _declared(name: str) -> Confirmed:
    """A declaration of 二(二): required, and exactly JSON ``true``; every error names it."""
    zh, en = DECLARATIONS[name]
    return Confirmed(message=bilingual(f"申请单位须声明：{zh}", f"the applicant must declare {en}"))


class DeclarationsSchema(_Part):
    """二(二) 申请要求, each declared by the applicant (the lead unit for a consortium)."""

    innovation_base_and_capability = _declared("innovation_base_and_capability")
    sound_management_systems = _declared("sound_management_systems")
    no_major_accident_in_3_years = _declared("no_major_accident_in_3_years")
    pre_industrialisation_verified = _declared("pre_industrialisation_verified")
    finalised_product_with_own_ip = _declared("finalised_product_with_own_ip")
    completes_within_task_deadline = _declared("completes_within_task_deadline")


class LeadUnit(Section):
    """二(一) "联合体中应明确1家牵头单位": one unit, not a list of them."""

    default_error_messages = {"required": _ONE_LEAD, "list": _ONE_LEAD}

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, (list, tuple)):
            raise self.make_error("list")
        return super()._deserialize(value, attr, data, **kwargs)


class OpenCompetitionApplicationBase(_Part):
    """The application without its call: ``open_competition_schema`` adds the direction.

    The consortium's user-enterprise rule (二(一)): "申请关键部件和耗材、工业操作系统类揭榜任务
    的联合体至少有1家部件或系统用户企业；申请反应器系统类揭榜任务的联合体中至少有1家反应器用户
    企业".

    Our reading: the rule binds a **consortium** (联合体), i.e. an application with a lead unit
    and at least one member; a **single applicant** without members is not held to it.
    - The sentence's subject is "…的联合体", not "申请单位". The notice keeps the two apart
      where it means both: 二(二) "申请单位或联合体应具有…", 三(一) "申请单位或联合体牵头单位…",
      三(三)–(五) "入围揭榜单位或联合体". It says "联合体" alone here.
    - 二(一) lets a single unit apply ("申请单位须为…企事业单位") and only *encourages*
      consortia ("鼓励多家单位…组成联合体共同申请"); a single applicant could not satisfy a
      user requirement with anything but itself, and nothing says it must be a user.
    - Within a consortium every unit counts, the lead unit included ("联合体中应明确1家牵头
      单位": the lead is a member of the 联合体): an enterprise with ``user_enterprise: true``
      and one of the required kinds in ``user_of``.
    Should MIIT rule that single applicants are bound too, the change is one condition in
    ``_consortium_rules``.
    """

    category: str = ""  # set by the factory

    title = Text(TITLE_MAX)
    summary = Text(SUMMARY_MAX)
    targets = Listing(Text(TARGET_MAX), minimum=1, maximum=TARGETS_MAX)
    lead = LeadUnit(UnitSchema)
    members = Listing(Section(UnitSchema), required=False)
    declarations = Section(DeclarationsSchema)
    evidence = evidence_list(required=False, maximum=EVIDENCE_MAX)

    @validates_schema(pass_original=True, skip_on_field_errors=False)
    def _consortium_rules(self, data, original, **kwargs):
        """Member count, unique credit codes, the user-enterprise rule, unique evidence.

        They read the raw input: a member whose own fields fail is left out of the loaded
        data, and its siblings' rules must still be judged on what was sent.
        """
        if not isinstance(original, Mapping):
            return
        errors = RuleErrors()
        lead = original.get("lead")
        members = original.get("members")
        members = members if isinstance(members, list) else []
        units: list[tuple[tuple[Any, ...], Any]] = [(("lead",), lead)] if isinstance(lead, Mapping) else []
        units += [(("members", i), m) for i, m in enumerate(members) if isinstance(m, Mapping)]

        if len(members) > MAX_MEMBERS:
            errors.add("members", bilingual(f"联合体成员不得超过{MAX_MEMBERS}家",
                                            f"at most {MAX_MEMBERS} members besides the lead unit"))

        seen: dict[str, str] = {}
        for path, unit in units:
            code = valid_credit_code(unit.get("credit_code"))
            if code is None:
                continue  # its own error says what is wrong
            if code in seen:
                errors.add((*path, "credit_code"),
                           bilingual(f"统一社会信用代码与{seen[code]}重复", f"the same credit code as {seen[code]}"))
            else:
                seen[code] = _path_text(path)

        if members:  # a consortium; a single applicant is not one (see the class docstring)
            wanted = REQUIRED_USER_KINDS[self.category]
            if not any(_uses(unit, wanted) for _, unit in units):
                errors.add("members", _USER_RULE_MESSAGES[self.category])

        evidence = original.get("evidence")
        if isinstance(evidence, list):
            first: dict[str, int] = {}
            for i, digest in enumerate(evidence):
                if isinstance(digest, str) and digest in first:
                    errors.add(("evidence", i), bilingual(f"证明材料与第{first[digest] + 1}份重复",
                                                          f"the same document as evidence[{first[digest]}]"))
                elif isinstance(digest, str):
                    first[digest] = i
        errors.raise_if_any()


def _uses(unit: Mapping, wanted: frozenset[str]) -> bool:
    user_of = unit.get("user_of")
    return (
        unit.get("kind") == "enterprise"
        and unit.get("user_enterprise") is True
        and isinstance(user_of, list)
        and any(kind in wanted for kind in user_of if isinstance(kind, str))
    )


def _path_text(path: tuple[Any, ...]) -> str:
    text = ""
    for key in path:
        text += f"[{key}]" if isinstance(key, int) else (f".{key}" if text else key)
    return text


# -- the factory ----------------------------------------------------------------


def canonical_category(name: str) -> str:
    """The category constant for a name the call data uses; ``ValueError`` if none."""
    name = _CATEGORY_ALIASES.get(name, name)
    if name not in CATEGORIES:
        raise ValueError(f"unknown 揭榜挂帅 category {name!r}; the notice has {', '.join(CATEGORIES)}")
    return name


def open_competition_schema(category: str, directions: Iterable[str | Mapping[str, Any]]) -> Schema:
    """A schema loading one application to a task direction of ``category``.

    ``directions`` is the call's data: direction codes, or mappings with ``code`` and an
    optional ``category`` (``services.intake.schemas.DirectionSchema``). A mapping whose
    category is set and is another category is not a direction of this schema. The
    application's ``direction`` must be one of the rest. ``ValueError`` when the category is
    unknown or no direction is left.
    """
    category = canonical_category(category)
    codes: list[str] = []
    for direction in directions:
        if isinstance(direction, Mapping):
            other = direction.get("category")
            if other is not None and canonical_category(other) != category:
                continue
            code = direction.get("code")
        else:
            code = direction
        if not isinstance(code, str) or not code:
            raise ValueError(f"a direction needs a code: {direction!r}")
        if code not in codes:
            codes.append(code)
    if not codes:
        raise ValueError(f"the call defines no task direction in the category {category}")
    return _schema_class(category, tuple(codes))()


@lru_cache(maxsize=256)
def _schema_class(category: str, codes: tuple[str, ...]) -> type[Schema]:
    return type(
        "OpenCompetitionApplicationSchema",
        (OpenCompetitionApplicationBase,),
        {"category": category, "direction": Code(codes, strip=False), "__module__": __name__},
    )


# -- the sample -----------------------------------------------------------------


def _sample_credit_code(first17: str) -> str:
    """A code that passes GB 32100's check: 17 characters and stdnum's check character."""
    return first17 + uscc.calc_check_digit(first17)


SAMPLE_CATEGORY = REACTOR_SYSTEMS
SAMPLE_DIRECTIONS = (
    # Not a direction of the notice (attachment 1 is not available): a SAMPLE code for tests
    # and demonstrations only.
    {"code": "SAMPLE-R1", "name": "SAMPLE 反应器系统方向（示例）", "category": REACTOR_SYSTEMS},
)

SAMPLE_OPEN_COMPETITION_APPLICATION: dict[str, Any] = {
    "direction": "SAMPLE-R1",
    "title": "SAMPLE 万升级高性能细胞培养生物反应器系统攻关",
    "summary": "SAMPLE 示例项目简介：联合体研制万升级一次性细胞培养生物反应器系统，"
               "由反应器用户企业开展应用验证。",
    "targets": [
        "SAMPLE 工作体积不小于10000升",
        "SAMPLE 溶氧控制精度±2%",
    ],
    "lead": {
        "name": "SAMPLE 生物装备有限公司",
        "credit_code": _sample_credit_code("91420100000000001"),
        "kind": "enterprise",
        "role": "SAMPLE 牵头单位：反应器系统集成与制造",
        "user_enterprise": False,
    },
    "members": [
        {
            "name": "SAMPLE 生物制药股份有限公司",
            "credit_code": _sample_credit_code("91420100000000002"),
            "kind": "enterprise",
            "role": "SAMPLE 反应器用户：应用验证",
            "user_enterprise": True,
            "user_of": ["reactor"],
        },
        {
            "name": "SAMPLE 大学",
            "credit_code": _sample_credit_code("12420000000000003"),
            "kind": "university",
            "role": "SAMPLE 流场模拟与放大理论",
        },
        {
            "name": "SAMPLE 中国科学院某研究所",
            "credit_code": _sample_credit_code("12100000000000004"),
            "kind": "research_institute",
            "cas_institute": True,
            "role": "SAMPLE 过程传感与控制算法",
        },
    ],
    "declarations": {name: True for name in DECLARATIONS},
    "evidence": [
        # SAMPLE files (services.intake.forms.common.SAMPLE_EVIDENCE), uploaded by demos and tests
        sample_evidence("consortium evidence 1"),
        sample_evidence("consortium evidence 2"),
    ],
}
