"""The application form of one call: which schema an application to it is loaded with.

A 揭榜挂帅 application's fields depend on its direction's task category (220号 附件2), so
its schema is the direction's; a 标志性产品 application accepts the call's own domains and
product types (382号 附件1).
"""

from __future__ import annotations

from typing import Any

from marshmallow import Schema

from shared.domain import call_rules
from shared.domain.case import Program
from shared.domain.errors import DomainRuleViolation
from shared.domain.forms.open_competition import open_competition_schema
from shared.domain.forms.open_competition_tasks import canonical_category
from shared.domain.forms.signature_product import signature_product_schema


def application_schema(call: dict[str, Any], direction: str | None = None) -> Schema:
    """The schema an application to `call` is loaded with; an open-competition call needs
    the `direction` the application is for."""
    if call["program"] == Program.OPEN_COMPETITION:
        if not isinstance(direction, str) or not direction:
            raise DomainRuleViolation("direction", "必填：揭榜方向 / required: the task direction")
        chosen = call_rules.require_direction(call, direction)
        section = call["open_competition"]
        names = {c["code"]: canonical_category(c["name"]) for c in section["categories"]}
        directions = [{"code": d["code"], "category": names[d["category"]]} for d in section["directions"]]
        return open_competition_schema(names[chosen["category"]], directions)
    section = call["signature_product"]
    return signature_product_schema(
        [d["name"] for d in section["domains"]], [t["name"] for t in section["types"]],
        free_text_domains=[d["name"] for d in section["domains"] if d.get("free_text")],
    )
