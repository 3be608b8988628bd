"""The units of a 揭榜挂帅 application: the lead unit (牵头单位) and its members (联合申请单位).

Source: 工信厅联消费函〔2025〕220号 二(一) (seed ``000_3f15a1cf903b9b04.txt``). A unit is::

    {"name", "credit_code", "kind", "role",
     "cas_institute"?,                        # research institutes only
     "user_enterprise"?, "user_of"?}          # enterprises only

The rules that depend on a unit's kind read the raw input, so that one bad field does
not hide the others.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from marshmallow import types, validates_schema

from shared.domain.forms.fields import Code, Listing, Section, Text, YesNo
from shared.domain.forms.identifiers import CreditCode
from shared.domain.forms.messages import bilingual
from shared.domain.forms.parts import FormSection, RuleErrors
from shared.domain.personal import NOT_PERSONAL

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
UNIT_NAME_MAX = 200  # ours
ROLE_MAX = 200  # ours: the unit's division of labour in the consortium (任务分工)

_ONLY_ENTERPRISES_USE = bilingual("只有企业可以是用户企业", "only an enterprise can be a user enterprise")
_ONE_LEAD = bilingual("联合体应明确1家牵头单位", "exactly one lead unit (牵头单位), given as one object")


class OpenCompetitionPart(FormSection):
    """Base of every part of the 揭榜挂帅 application."""

    class Meta:
        register = False  # the factory makes a schema class per call: keep them out of marshmallow's registry


class UnitSchema(OpenCompetitionPart):
    """One unit of the application: the lead unit (牵头单位) or a member (联合申请单位).

    The codes (``kind``, ``user_of``) load exactly as sent: the rules read the raw input.
    """

    name = Text(UNIT_NAME_MAX, metadata=NOT_PERSONAL)
    credit_code = CreditCode()
    kind = Code(UNIT_KINDS, strip=False)
    role = Text(ROLE_MAX, metadata=NOT_PERSONAL)
    cas_institute = YesNo(load_default=False)
    user_enterprise = YesNo()
    user_of = Listing(Code(USER_KINDS, strip=False), required=False)

    @validates_schema(pass_original=True, skip_on_field_errors=False)
    def _kind_rules(self, data: dict[str, Any], original: Any, **kwargs: Any) -> None:
        """Rules that depend on the unit kind, read from the raw input (see the module docstring)."""
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


class LeadUnit(Section):
    """二(一) "联合体中应明确1家牵头单位": one unit, not a list of them."""

    default_error_messages: ClassVar[types.ErrorMessages] = {"required": _ONE_LEAD, "list": _ONE_LEAD}  # type: ignore[misc]  # marshmallow reads it per class, types it per instance

    def _deserialize(
        self, value: Any, attr: str | None, data: Mapping[str, Any] | None,
        partial: bool | types.StrSequenceOrSet | None = None, **kwargs: Any,
    ) -> Any:
        if isinstance(value, (list, tuple)):
            raise self.make_error("list")
        return super()._deserialize(value, attr, data, partial=partial, **kwargs)


def uses(unit: Mapping[str, Any], wanted: frozenset[str]) -> bool:
    """The raw `unit` is a user enterprise of one of the `wanted` user kinds."""
    user_of = unit.get("user_of")
    return (
        unit.get("kind") == "enterprise"
        and unit.get("user_enterprise") is True
        and isinstance(user_of, list)
        and any(kind in wanted for kind in user_of if isinstance(kind, str))
    )
