"""Limited places: how many items each kind of decision may take, as the notices and the call set them.

One function per kind of limited place, each reading the limit from the call in force
(so an amendment changes the limit for the decisions still to be made). The places
themselves are `Allocation` streams (shared/domain/allocation.py), taken in the same
ledger transaction as the case's event so that a limit holds under concurrency.

- recommendation quota per authority (382号): `recommendation_quota`;
- shortlist per direction (220号): `shortlist_places`;
- successful units per direction (220号), or the ministry's own limit on the list of
  products (382号 sets none): `success_places`.
"""

from __future__ import annotations

from typing import Any

from shared.domain.case import Case, Program
from shared.domain.regions import authority_kind

#: The kinds of places the ministry's decisions take (allocation kinds; see allocation.KINDS).
SHORTLIST, SUCCESS = "shortlist", "success"
#: The scope of a limit on a whole list rather than per direction or domain.
WHOLE_CALL = "*"


def recommendation_quota(call: dict[str, Any], authority_code: str) -> int | None:
    """How many items the authority may recommend to the ministry; None when the call sets no limit for it.

    382号 三（二）: "各省、自治区、直辖市及新疆生产建设兵团工业和信息化主管部门推荐产品数量
    不超过 5 项，计划单列市工业和信息化主管部门推荐产品数量不超过 2 项。" The call states these
    as rules by kind of authority (province-level, 计划单列市) or by code.

    None covers both a call with no quotas (220号 三(二): the province recommends, with no
    number) and an authority the quotas do not name (an ordinary city bureau recommending
    to its province, as Hubei's 市州经信局 do: neither notice limits them).
    """
    quotas = call.get("recommendation_quotas")
    if not quotas:
        return None
    kind = authority_kind(authority_code)
    for rule in quotas["rules"]:
        codes = rule.get("authority_codes")
        if codes is not None:
            if authority_code in codes:
                return int(rule["max"])
        elif rule["authorities"] == kind:
            return int(rule["max"])
    return None


def shortlist_places(call: dict[str, Any], case: Case) -> tuple[int, str] | None:
    """(capacity, scope) of the shortlist places (入围) of `case`'s direction, or None if unlimited.

    220号 三(三): "公布入围揭榜单位或联合体名单,每个揭榜方向原则上不超过5家。" The call's
    `open_competition.shortlist_limit` states it per direction. 标志性产品 have no shortlist.
    """
    if case.program != Program.OPEN_COMPETITION:
        return None
    limit = (call.get("open_competition") or {}).get("shortlist_limit")
    return (limit["per_direction_max"], case.direction) if limit else None


def success_places(call: dict[str, Any], case: Case) -> tuple[int, str] | None:
    """(capacity, scope) of the places on the successful list `case` competes for, or None if unlimited.

    揭榜挂帅, 220号 三(四): "择优确定揭榜任务成功单位或联合体,每个揭榜方向原则上不超过5家。"
    The call's `open_competition.success_limit` states it per direction.

    标志性产品, 382号 三（三）: "工业和信息化部组织专家对各省级工业和信息化主管部门推荐的申请材料
    进行评议，形成 2024 年度生物制造标志性产品名单" sets no number: the limit is whatever the
    ministry sets in the call (`signature_product.success_limit`), on the whole list or
    per domain, and none until it does.
    """
    if case.program == Program.OPEN_COMPETITION:
        limit = (call.get("open_competition") or {}).get("success_limit")
        return (limit["per_direction_max"], case.direction) if limit else None
    limit = (call.get("signature_product") or {}).get("success_limit")
    if not limit:
        return None
    return limit["max"], case.direction if limit["per"] == "domain" else WHOLE_CALL


def places_of(call: dict[str, Any], kind: str, case: Case) -> tuple[int, str] | None:
    """(capacity, scope) of the places a ministry's decision of `kind` (SHORTLIST or SUCCESS) takes for `case`."""
    if kind == SHORTLIST:
        return shortlist_places(call, case)
    if kind == SUCCESS:
        return success_places(call, case)
    raise ValueError(f"no limited places of kind {kind!r} on the ministry's desk")
