"""The 揭榜挂帅 task categories of 220号 and the user enterprise each asks of a consortium.

Source: 工信厅联消费函〔2025〕220号 (seed ``000_3f15a1cf903b9b04.txt``). The nine task
directions are in the notice's attachment 1, which we do not have: a call's data names
them, never this module.
"""

from __future__ import annotations

from shared.domain.forms.messages import bilingual

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

# 二(一): "申请关键部件和耗材、工业操作系统类揭榜任务的联合体至少有1家部件或系统用户企业；
#          申请反应器系统类揭榜任务的联合体中至少有1家反应器用户企业"
REQUIRED_USER_KINDS = {
    REACTOR_SYSTEMS: frozenset({"reactor"}),
    COMPONENTS_AND_CONSUMABLES: frozenset({"component", "system"}),
    OPERATING_SYSTEMS: frozenset({"component", "system"}),
}
USER_RULE_MESSAGES = {
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


def canonical_category(name: str) -> str:
    """The category constant for a name the call data uses; ``ValueError`` if none."""
    name = _CATEGORY_ALIASES.get(name, name)
    if name not in CATEGORIES:
        raise ValueError(f"unknown 揭榜挂帅 category {name!r}; the notice has {', '.join(CATEGORIES)}")
    return name
