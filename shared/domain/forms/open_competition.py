"""The 揭榜挂帅 application (Program kind 1), as a marshmallow 4 schema.

Source: 工信厅联消费函〔2025〕220号, 工业和信息化部办公厅 中国科学院办公厅关于开展高性能生物反应器
创新任务揭榜挂帅工作的通知 (seed ``000_3f15a1cf903b9b04.txt``). Where it and DOMAIN.md differ,
the notice wins.

Where its parts are
-------------------
- ``shared.domain.forms.open_competition_tasks``: the notice's three task categories
  (``REACTOR_SYSTEMS``, ``COMPONENTS_AND_CONSUMABLES``, ``OPERATING_SYSTEMS``; ``CATEGORIES``
  all three), ``canonical_category``, and ``REQUIRED_USER_KINDS``: category -> the user kinds
  of which a consortium needs one.
- ``shared.domain.forms.open_competition_units``: ``UNIT_KINDS`` (enterprise, university,
  research_institute, other) and ``USER_KINDS`` (reactor, component, system), each code ->
  Chinese label, and the schema of one unit.
- Here: ``DECLARATIONS``, the six declarations of 二(二) 申请要求, field -> (Chinese, English);
  ``MAX_MEMBERS``; the consortium's rules; and ``open_competition_schema(category, directions)``
  -> a ``Schema`` instance for one application to a direction of that category. ``directions``
  is the call's data: codes, or mappings shaped like ``services.intake.schemas.DirectionSchema``
  (``code``, ``category``). The nine task directions live in the notice's attachment 1, which
  we do not have, so they are never written down here.
- ``shared.domain.forms.samples``: ``SAMPLE_OPEN_COMPETITION_APPLICATION`` with
  ``SAMPLE_CATEGORY`` and ``SAMPLE_DIRECTIONS``: a valid example (every name labelled SAMPLE).

The payload::

    {"direction": code, "title": ..., "summary": ..., "targets": [...],
     "lead": unit, "members": [unit, ...],           # members: 联合申请单位, at most 4
     "declarations": {field: true, ...},             # all six, each exactly `true`
     "evidence": [sha256 hex, ...]}                  # documents held by the documents service

with ``unit`` as ``open_competition_units`` describes it. A single applicant files with
``lead`` = itself and no ``members``.

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

from shared.domain.forms.fields import Code, Confirmed, Listing, Section, Text
from shared.domain.forms.identifiers import evidence as evidence_list
from shared.domain.forms.identifiers import valid_credit_code
from shared.domain.forms.messages import bilingual
from shared.domain.forms.open_competition_tasks import REQUIRED_USER_KINDS, USER_RULE_MESSAGES, canonical_category
from shared.domain.forms.open_competition_units import LeadUnit, OpenCompetitionPart, UnitSchema, uses
from shared.domain.forms.parts import RuleErrors
from shared.domain.personal import NOT_PERSONAL

# 二(一): "联合体中应明确1家牵头单位，其余联合申请单位不超过4家"
MAX_MEMBERS = 4

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
EVIDENCE_MAX = 200  # ours: number of evidence documents


def _declared(name: str) -> Confirmed:
    """A declaration of 二(二): required, and exactly JSON ``true``; every error names it."""
    zh, en = DECLARATIONS[name]
    return Confirmed(message=bilingual(f"申请单位须声明：{zh}", f"the applicant must declare {en}"))


class DeclarationsSchema(OpenCompetitionPart):
    """二(二) 申请要求, each declared by the applicant (the lead unit for a consortium)."""

    innovation_base_and_capability = _declared("innovation_base_and_capability")
    sound_management_systems = _declared("sound_management_systems")
    no_major_accident_in_3_years = _declared("no_major_accident_in_3_years")
    pre_industrialisation_verified = _declared("pre_industrialisation_verified")
    finalised_product_with_own_ip = _declared("finalised_product_with_own_ip")
    completes_within_task_deadline = _declared("completes_within_task_deadline")


class OpenCompetitionApplicationBase(OpenCompetitionPart):
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

    title = Text(TITLE_MAX, metadata=NOT_PERSONAL)
    summary = Text(SUMMARY_MAX, metadata=NOT_PERSONAL)
    targets = Listing(Text(TARGET_MAX, metadata=NOT_PERSONAL), minimum=1, maximum=TARGETS_MAX)
    lead = LeadUnit(UnitSchema)
    members = Listing(Section(UnitSchema), required=False)
    declarations = Section(DeclarationsSchema)
    evidence = evidence_list(required=False, maximum=EVIDENCE_MAX)

    @validates_schema(pass_original=True, skip_on_field_errors=False)
    def _consortium_rules(self, data: dict[str, Any], original: Any, **kwargs: Any) -> None:
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
            if not any(uses(unit, wanted) for _, unit in units):
                errors.add("members", USER_RULE_MESSAGES[self.category])

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


def _path_text(path: tuple[Any, ...]) -> str:
    text = ""
    for key in path:
        text += f"[{key}]" if isinstance(key, int) else (f".{key}" if text else key)
    return text


# -- the factory ----------------------------------------------------------------


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
