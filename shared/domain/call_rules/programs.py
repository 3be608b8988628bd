"""The program's own section of a call: the tasks of a 揭榜挂帅 call, the products of a 标志性产品 call.

揭榜挂帅 (220号): task categories and directions (揭榜方向), the consortium rules (a lead
and at most four others, the user enterprise each category needs), and the limits on
the shortlist and the successful units per direction. 标志性产品 (382号): the domains
(征集领域, open-ended), the product types, and the limit on the list if the ministry sets one.
"""

from __future__ import annotations

from typing import Any

from marshmallow import ValidationError, fields, validate, validates_schema

from shared.domain.call_rules.fields import CODE, Strict, text_field
from shared.domain.errors import DomainRuleViolation
from shared.domain.forms.open_competition_tasks import canonical_category
from shared.domain.personal import NOT_PERSONAL

USER_ENTERPRISE_RULES = ("reactor_user", "component_or_system_user")
DIRECTIONS_STATUSES = ("not_in_notice", "defined")


# -- 揭榜挂帅 ----------------------------------------------------------------------


class CategorySchema(Strict):
    code = fields.String(required=True, validate=CODE, metadata=NOT_PERSONAL)
    name = text_field()
    user_enterprise_rule = fields.String(required=True, validate=validate.OneOf(USER_ENTERPRISE_RULES))
    source = text_field(required=False)
    note = text_field(required=False)


class DirectionSchema(Strict):
    code = fields.String(required=True, validate=CODE, metadata=NOT_PERSONAL)
    name = text_field()
    category = fields.String(required=True, validate=CODE, metadata=NOT_PERSONAL)
    source = text_field(required=False)
    note = text_field(required=False)


class UserEnterpriseRuleSchema(Strict):
    min_members = fields.Integer(required=True, strict=True, validate=validate.Range(min=1))
    text = text_field()


class ConsortiumSchema(Strict):
    allowed = fields.Boolean(required=True)
    lead_units = fields.Integer(required=True, strict=True, validate=validate.Range(min=1))
    max_other_members = fields.Integer(required=True, strict=True, validate=validate.Range(min=0))
    lead_files_for_all = fields.Boolean(required=True)
    unit_may_join_several_tasks = fields.Boolean(required=True)
    user_enterprise_rules = fields.Dict(
        keys=fields.String(validate=validate.OneOf(USER_ENTERPRISE_RULES)),
        values=fields.Nested(UserEnterpriseRuleSchema), load_default=dict,
    )
    source = text_field(required=False)
    note = text_field(required=False)


class PerDirectionLimitSchema(Strict):
    per_direction_max = fields.Integer(required=True, strict=True, validate=validate.Range(min=1))
    in_principle = fields.Boolean(required=True)  # 原则上: the ministry may depart from it
    source = text_field(required=False)


def _unknown_category(name: str) -> ValueError | None:
    try:
        canonical_category(name)
    except ValueError as exc:
        return exc
    return None


class OpenCompetitionSchema(Strict):
    announced_category_count = fields.Integer(load_default=None, allow_none=True, strict=True,
                                              validate=validate.Range(min=1))
    announced_direction_count = fields.Integer(load_default=None, allow_none=True, strict=True,
                                               validate=validate.Range(min=1))
    counts_source = text_field(required=False)
    categories = fields.List(fields.Nested(CategorySchema), required=True, validate=validate.Length(min=1))
    directions = fields.List(fields.Nested(DirectionSchema), load_default=list)
    directions_status = fields.String(required=True, validate=validate.OneOf(DIRECTIONS_STATUSES))
    directions_note = text_field(required=False)
    consortium = fields.Nested(ConsortiumSchema, load_default=None, allow_none=True)
    shortlist_limit = fields.Nested(PerDirectionLimitSchema, load_default=None, allow_none=True)
    success_limit = fields.Nested(PerDirectionLimitSchema, load_default=None, allow_none=True)

    @validates_schema
    def _consistent(self, data: dict[str, Any], **kwargs: Any) -> None:
        errors: dict[str, Any] = {}
        categories = data["categories"]
        codes = [c["code"] for c in categories]
        whole: list[str] = []  # reasons about the list as a whole
        if len(set(codes)) != len(codes):
            whole.append("category codes must be unique")
        if data["announced_category_count"] is not None and len(categories) != data["announced_category_count"]:
            whole.append(f"the notice announces {data['announced_category_count']} categories, "
                         f"{len(categories)} are listed")
        # The application form and its consortium rules exist for the notice's three categories
        # only: a call naming another could be defined but nothing filed under it.
        unknown = {i: [str(exc)] for i, category in enumerate(categories)
                   if (exc := _unknown_category(category["name"])) is not None}
        if whole:  # refused as a whole: one list of reasons, the unknown names among them
            errors["categories"] = whole + [m for reasons in unknown.values() for m in reasons]
        elif unknown:
            errors["categories"] = {i: {"name": reasons} for i, reasons in unknown.items()}
        directions = data["directions"]
        direction_errors: dict[int, dict[str, list[str]]] = {}
        seen: set[str] = set()
        for i, d in enumerate(directions):
            if d["code"] in seen:
                direction_errors.setdefault(i, {})["code"] = [f"duplicate direction code {d['code']!r}"]
            seen.add(d["code"])
            if d["category"] not in codes:
                direction_errors.setdefault(i, {})["category"] = [
                    f"no category {d['category']!r} in this call (has: {', '.join(codes)})"]
        if direction_errors:
            errors["directions"] = direction_errors
        status = data["directions_status"]
        if status == "not_in_notice" and directions:
            errors["directions_status"] = ["'not_in_notice' means no directions are listed; "
                                           "an amendment that lists them sets 'defined'"]
        if status == "defined":
            announced = data["announced_direction_count"]
            if not directions:
                errors["directions_status"] = ["'defined' needs the directions listed"]
            elif announced is not None and len(directions) != announced:
                errors["directions"] = [f"the notice announces {announced} directions, {len(directions)} are listed"]
        if status == "not_in_notice" and not data["directions_note"]:
            errors["directions_note"] = ["say where the directions are and who must fill them in"]
        consortium = data["consortium"]
        if consortium is not None and consortium["allowed"]:
            needed = {c["user_enterprise_rule"] for c in categories}
            missing = sorted(needed - set(consortium["user_enterprise_rules"]))
            if missing:
                errors["consortium"] = {"user_enterprise_rules": [f"no rule given for {', '.join(missing)}"]}
        if errors:
            raise ValidationError(errors)


def accepts_applications(call: dict[str, Any]) -> bool:
    """An open-competition call accepts nothing until its directions are defined."""
    section = call.get("open_competition")
    return section is None or bool(section.get("directions"))


def require_direction(call: dict[str, Any], code: str) -> dict[str, Any]:
    """The direction `code` of an open-competition call, or DomainRuleViolation if there is none."""
    section = call.get("open_competition")
    if section is None:
        raise DomainRuleViolation("direction", f"call {call['call_id']} is not an open competition")
    directions: list[dict[str, Any]] = section.get("directions", [])
    for direction in directions:
        if direction["code"] == code:
            return direction
    if not directions:
        raise DomainRuleViolation(
            "direction",
            f"call {call['call_id']} v{call['version']} has no task directions yet "
            f"(directions_status={section.get('directions_status')}): the ministry must amend the call "
            "to list them before anything can be filed")
    codes = ", ".join(d["code"] for d in directions)
    raise DomainRuleViolation("direction", f"call {call['call_id']} has no direction {code!r} (has: {codes})")


# -- 标志性产品 --------------------------------------------------------------------


class DomainSchema(Strict):
    code = fields.String(required=True, validate=CODE, metadata=NOT_PERSONAL)
    name = text_field()
    free_text = fields.Boolean(load_default=False)  # 其他: the applicant names the domain
    source = text_field(required=False)
    note = text_field(required=False)


class ProductTypeSchema(Strict):
    code = fields.String(required=True, validate=CODE, metadata=NOT_PERSONAL)
    name = text_field()
    text = text_field(required=False)


SELECTION_SCOPES = ("call", "domain")


class ProductListLimitSchema(Strict):
    """How many products the year's list may hold, as the ministry sets it: on the whole list or per domain."""

    max = fields.Integer(required=True, strict=True, validate=validate.Range(min=1))
    per = fields.String(required=True, validate=validate.OneOf(SELECTION_SCOPES))
    source = text_field(required=False)  # the sentence (of the notice or the ministry's decision) that sets it
    note = text_field(required=False)


class SignatureProductSchema(Strict):
    domains_open_ended = fields.Boolean(required=True)  # 包括但不限于
    domains_source = text_field(required=False)
    domains = fields.List(fields.Nested(DomainSchema), required=True, validate=validate.Length(min=1))
    types = fields.List(fields.Nested(ProductTypeSchema), required=True, validate=validate.Length(min=1))
    types_source = text_field(required=False)
    # The number of products selected (入选). 382号 sets none: the field stays empty unless the
    # ministry defines one (by amending the call), and then review enforces it.
    success_limit = fields.Nested(ProductListLimitSchema, load_default=None, allow_none=True)
    success_limit_note = text_field(required=False)

    @validates_schema
    def _consistent(self, data: dict[str, Any], **kwargs: Any) -> None:
        errors: dict[str, list[str]] = {}
        for name in ("domains", "types"):
            codes = [item["code"] for item in data[name]]
            if len(set(codes)) != len(codes):
                errors[name] = [f"{name} codes must be unique"]
        if data["domains_open_ended"] and not any(d["free_text"] for d in data["domains"]):
            errors.setdefault("domains", []).append("an open-ended list needs a free-text domain (其他)")
        if data["success_limit"] is None and not data["success_limit_note"]:
            errors["success_limit_note"] = ["no limit on the products selected: say whether the notice sets none"]
        if errors:
            raise ValidationError(errors)
