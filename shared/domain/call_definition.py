"""Calls as the ministries define them: data, validated, versioned. No nameko, no HTTP, no SQL.

A call (征集/揭榜通知) is a JSON document, not code. The two shipped ones live in
`shared/domain/calls/*.json` and are read by `load_shipped()`; every value in them is taken
from the notice's text (the `source` and `text` fields quote it), and whatever the
notice leaves unsaid is null or empty with a `note`.

A call is never edited in place: `amend(previous, changes)` returns the next
version's definition and leaves the previous one untouched, so a case filed under
version N is judged by version N's rules for its whole life.

Two readings of the notices are fixed here, once:

* **"于X月X日前"** is read as "by the end of that day" (inclusive): a notice date
  without a time becomes 23:59:59 Asia/Shanghai of that day (`end_of_notice_day`).
  The stricter reading ("before that day starts") would be one day earlier; if the
  ministry says so, a call is amended with explicit datetimes.
* **A level's deadline** (`deadlines.<level>`) is the moment by which *that* level
  must have handed its submission to the next level of its chain: the applicant to
  the first authority, the city bureau to the province, the province to the
  ministry. `ministry` is the ministry's own step (its list); neither notice dates it.

Reference data that is not in the notices (region codes, the 计划单列市) is in
`shared.domain.regions`.
"""

from __future__ import annotations

import copy
import json
import re
from datetime import date, datetime, time, timedelta, timezone
from importlib import resources
from typing import Any

from marshmallow import RAISE, Schema, ValidationError, fields, validate, validates_schema

from shared.domain.case import VALID_CHAINS, Program
from shared.domain.regions import (  # noqa: F401 - re-exported: a call's rules are read with them
    PLANNED_CITIES, PROVINCE_LEVEL_AUTHORITIES, PROVINCES, XPCC, authority_kind, is_planned_city,
    is_province_level_authority,
)
from shared.domain.errors import DomainRuleViolation, ValidationFailed
from shared.domain.validation import flatten_messages

try:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    SHANGHAI = ZoneInfo("Asia/Shanghai")
except ZoneInfoNotFoundError:  # no tz database on the host: China has kept UTC+8 without DST since 1991
    SHANGHAI = timezone(timedelta(hours=8), "Asia/Shanghai")

#: Levels of a call, in order. `city` and `province` are the verification levels of a chain.
LEVELS = ("applicant", "city", "province", "ministry")

DEFAULT_CHAIN_KEY = "default"
USER_ENTERPRISE_RULES = ("reactor_user", "component_or_system_user")
DIRECTIONS_STATUSES = ("not_in_notice", "defined")
QUOTA_AUTHORITIES = ("province_level", "planned_city")
#: Fields an amendment may not touch: they identify the call and its lineage.
IMMUTABLE_ON_AMEND = ("call_id", "program", "version", "amended_from")

_CODE = validate.Regexp(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$", error="a code is 1–64 letters, digits, '_', '.', '-'")
_DATE_ONLY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def end_of_notice_day(day: date) -> datetime:
    """The deadline a notice means by "于<day>前": the end of that day, Asia/Shanghai."""
    return datetime.combine(day, time(23, 59, 59), tzinfo=SHANGHAI)


def _parse_deadline(value: Any) -> datetime:
    """A notice date (→ end of that day) or an aware datetime, as an Asia/Shanghai datetime."""
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, date):
        return end_of_notice_day(value)
    elif isinstance(value, str) and _DATE_ONLY.match(value):
        return end_of_notice_day(date.fromisoformat(value))
    elif isinstance(value, str):
        moment = datetime.fromisoformat(value)
    else:
        raise ValueError("not a date or datetime")
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("a datetime deadline needs its UTC offset (or give the notice's date alone)")
    return moment.astimezone(SHANGHAI)


# -- fields --------------------------------------------------------------------


class NoticeDeadline(fields.Field):
    """A deadline: "YYYY-MM-DD" as the notice gives it (→ 23:59:59 Asia/Shanghai of that
    day), or an ISO datetime with its offset. Loads as an aware Asia/Shanghai datetime."""

    default_error_messages = {"invalid": "a deadline is a date (YYYY-MM-DD) or an ISO datetime with offset: {why}"}

    def _deserialize(self, value, attr, data, **kwargs):
        try:
            return _parse_deadline(value)
        except (TypeError, ValueError) as exc:
            raise self.make_error("invalid", why=str(exc)) from exc

    def _serialize(self, value, attr, obj, **kwargs):
        if value is None:
            return None
        return _parse_deadline(value).isoformat()


class NoticeDate(fields.Field):
    """A calendar date, loaded as `date`, accepted as "YYYY-MM-DD" or a `date`."""

    default_error_messages = {"invalid": "not a date (YYYY-MM-DD)"}

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, date) and not isinstance(value, datetime):
            return value
        if isinstance(value, str) and _DATE_ONLY.match(value):
            try:
                return date.fromisoformat(value)
            except ValueError:
                pass
        raise self.make_error("invalid")

    def _serialize(self, value, attr, obj, **kwargs):
        if value is None:
            return None
        return value.isoformat() if isinstance(value, date) else str(value)


def _is_chain_key(key: str) -> bool:
    return key == DEFAULT_CHAIN_KEY or key in PROVINCE_LEVEL_AUTHORITIES


class Chains(fields.Field):
    """{"default": [...], "<province code>": [...]}: each chain is ['province'] or ['city', 'province'].

    Errors name the region: {"chains": {"420000": [...]}}.
    """

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, dict):
            raise ValidationError("chains is an object: region code -> levels")
        errors: dict[str, list[str]] = {}
        result: dict[str, list[str]] = {}
        for key, chain in value.items():
            if not isinstance(key, str) or not _is_chain_key(key):
                errors[str(key)] = [
                    f"{key!r} is neither 'default' nor a GB/T 2260 province-level code (e.g. 420000) or {XPCC!r}"
                ]
            elif not isinstance(chain, list) or chain not in [list(c) for c in VALID_CHAINS]:
                errors[key] = [f"a chain is ['province'] or ['city', 'province'], not {chain!r}"]
            else:
                result[key] = list(chain)
        if DEFAULT_CHAIN_KEY not in value:
            errors.setdefault(DEFAULT_CHAIN_KEY, []).append("a 'default' chain is required for regions not listed")
        if errors:
            raise ValidationError(errors)
        return result

    def _serialize(self, value, attr, obj, **kwargs):
        return None if value is None else {k: list(v) for k, v in value.items()}


def _text(required: bool = True, **kwargs) -> fields.String:
    if required:
        return fields.String(required=True, validate=validate.Length(min=1), **kwargs)
    return fields.String(load_default="", **kwargs)


# -- schemas -------------------------------------------------------------------


class _Strict(Schema):
    class Meta:
        unknown = RAISE


class IssuingBodySchema(_Strict):
    code = fields.String(required=True, validate=validate.Regexp(r"^[A-Z]{2,16}$"))
    name = _text()


class MinistryRecipientSchema(_Strict):
    name = _text()
    email = fields.Email(load_default=None, allow_none=True)
    source = _text(required=False)


class CategorySchema(_Strict):
    code = fields.String(required=True, validate=_CODE)
    name = _text()
    user_enterprise_rule = fields.String(required=True, validate=validate.OneOf(USER_ENTERPRISE_RULES))
    source = _text(required=False)
    note = _text(required=False)


class DirectionSchema(_Strict):
    code = fields.String(required=True, validate=_CODE)
    name = _text()
    category = fields.String(required=True, validate=_CODE)
    source = _text(required=False)
    note = _text(required=False)


class UserEnterpriseRuleSchema(_Strict):
    min_members = fields.Integer(required=True, strict=True, validate=validate.Range(min=1))
    text = _text()


class ConsortiumSchema(_Strict):
    allowed = fields.Boolean(required=True)
    lead_units = fields.Integer(required=True, strict=True, validate=validate.Range(min=1))
    max_other_members = fields.Integer(required=True, strict=True, validate=validate.Range(min=0))
    lead_files_for_all = fields.Boolean(required=True)
    unit_may_join_several_tasks = fields.Boolean(required=True)
    user_enterprise_rules = fields.Dict(
        keys=fields.String(validate=validate.OneOf(USER_ENTERPRISE_RULES)),
        values=fields.Nested(UserEnterpriseRuleSchema), load_default=dict,
    )
    source = _text(required=False)
    note = _text(required=False)


class PerDirectionLimitSchema(_Strict):
    per_direction_max = fields.Integer(required=True, strict=True, validate=validate.Range(min=1))
    in_principle = fields.Boolean(required=True)  # 原则上: the ministry may depart from it
    source = _text(required=False)


class OpenCompetitionSchema(_Strict):
    announced_category_count = fields.Integer(load_default=None, allow_none=True, strict=True,
                                              validate=validate.Range(min=1))
    announced_direction_count = fields.Integer(load_default=None, allow_none=True, strict=True,
                                               validate=validate.Range(min=1))
    counts_source = _text(required=False)
    categories = fields.List(fields.Nested(CategorySchema), required=True, validate=validate.Length(min=1))
    directions = fields.List(fields.Nested(DirectionSchema), load_default=list)
    directions_status = fields.String(required=True, validate=validate.OneOf(DIRECTIONS_STATUSES))
    directions_note = _text(required=False)
    consortium = fields.Nested(ConsortiumSchema, load_default=None, allow_none=True)
    shortlist_limit = fields.Nested(PerDirectionLimitSchema, load_default=None, allow_none=True)
    success_limit = fields.Nested(PerDirectionLimitSchema, load_default=None, allow_none=True)

    @validates_schema
    def _consistent(self, data, **kwargs):
        errors: dict[str, Any] = {}
        categories = data["categories"]
        codes = [c["code"] for c in categories]
        if len(set(codes)) != len(codes):
            errors["categories"] = ["category codes must be unique"]
        if data["announced_category_count"] is not None and len(categories) != data["announced_category_count"]:
            errors.setdefault("categories", []).append(
                f"the notice announces {data['announced_category_count']} categories, {len(categories)} are listed")
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


class DomainSchema(_Strict):
    code = fields.String(required=True, validate=_CODE)
    name = _text()
    free_text = fields.Boolean(load_default=False)  # 其他: the applicant names the domain
    source = _text(required=False)
    note = _text(required=False)


class ProductTypeSchema(_Strict):
    code = fields.String(required=True, validate=_CODE)
    name = _text()
    text = _text(required=False)


SELECTION_SCOPES = ("call", "domain")


class ProductListLimitSchema(_Strict):
    """How many products the year's list may hold, as the ministry sets it: on the whole list or per domain."""

    max = fields.Integer(required=True, strict=True, validate=validate.Range(min=1))
    per = fields.String(required=True, validate=validate.OneOf(SELECTION_SCOPES))
    source = _text(required=False)  # the sentence (of the notice or the ministry's decision) that sets it
    note = _text(required=False)


class SignatureProductSchema(_Strict):
    domains_open_ended = fields.Boolean(required=True)  # 包括但不限于
    domains_source = _text(required=False)
    domains = fields.List(fields.Nested(DomainSchema), required=True, validate=validate.Length(min=1))
    types = fields.List(fields.Nested(ProductTypeSchema), required=True, validate=validate.Length(min=1))
    types_source = _text(required=False)
    # The number of products selected (入选). 382号 sets none: the field stays empty unless the
    # ministry defines one (by amending the call), and then review enforces it.
    success_limit = fields.Nested(ProductListLimitSchema, load_default=None, allow_none=True)
    success_limit_note = _text(required=False)

    @validates_schema
    def _consistent(self, data, **kwargs):
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


class EligibilitySchema(_Strict):
    code = fields.String(required=True, validate=_CODE)
    applies_to = fields.String(required=True, validate=validate.OneOf(
        ("applicant", "applicant_or_consortium", "consortium", "product")))
    text = _text()  # the notice's sentence, in Chinese
    note = _text(required=False)


class DeadlineSchema(_Strict):
    due = NoticeDeadline(required=True, allow_none=True)
    source = _text(required=False)
    note = _text(required=False)

    @validates_schema
    def _sourced_or_explained(self, data, **kwargs):
        if data["due"] is None and not data["note"]:
            raise ValidationError({"note": ["a level without a date says why (the notice gives none, set by …)"]})
        if data["due"] is not None and not data["source"]:
            raise ValidationError({"source": ["a date quotes the notice sentence that sets it"]})


class DeadlinesSchema(_Strict):
    applicant = fields.Nested(DeadlineSchema, required=True)
    city = fields.Nested(DeadlineSchema, required=True)
    province = fields.Nested(DeadlineSchema, required=True)
    ministry = fields.Nested(DeadlineSchema, required=True)


class RegionDeadlinesSchema(_Strict):
    applicant = fields.Nested(DeadlineSchema)
    city = fields.Nested(DeadlineSchema)
    province = fields.Nested(DeadlineSchema)
    ministry = fields.Nested(DeadlineSchema)


class ForwardingNoticeSchema(_Strict):
    title = _text()
    issuer = _text()
    notice_number = fields.String(load_default=None, allow_none=True)
    issued_on = NoticeDate(load_default=None, allow_none=True)
    source = _text(required=False)
    note = _text(required=False)


class RegionSchema(_Strict):
    name = _text()
    authority = _text()
    forwarding_notice = fields.Nested(ForwardingNoticeSchema, load_default=None, allow_none=True)
    city_level_bodies = _text(required=False)
    chain_source = _text(required=False)
    deadlines = fields.Nested(RegionDeadlinesSchema, load_default=dict)
    note = _text(required=False)


class QuotaRuleSchema(_Strict):
    authorities = fields.String(required=True, validate=validate.OneOf(QUOTA_AUTHORITIES))
    # null: resolved from the reference data (PROVINCE_LEVEL_AUTHORITIES / PLANNED_CITIES)
    authority_codes = fields.List(fields.String(validate=validate.Regexp(r"^(\d{6}|XPCC)$")),
                                  load_default=None, allow_none=True)
    max = fields.Integer(required=True, strict=True, validate=validate.Range(min=1))
    source = _text(required=False)


class QuotasSchema(_Strict):
    unit = fields.String(required=True, validate=validate.OneOf(("product", "application")))
    rules = fields.List(fields.Nested(QuotaRuleSchema), required=True, validate=validate.Length(min=1))
    note = _text(required=False)

    @validates_schema
    def _one_rule_per_kind(self, data, **kwargs):
        kinds = [r["authorities"] for r in data["rules"]]
        if len(set(kinds)) != len(kinds):
            raise ValidationError({"rules": ["one rule per kind of authority"]})


class PublicNoticeSchema(_Strict):
    required = fields.Boolean(required=True)
    working_days = fields.Integer(load_default=None, allow_none=True, strict=True, validate=validate.Range(min=1))
    source = _text(required=False)
    note = _text(required=False)

    @validates_schema
    def _days_iff_required(self, data, **kwargs):
        if data["required"] and data["working_days"] is None:
            raise ValidationError({"working_days": ["a required public notice (公示) states its length"]})
        if not data["required"] and data["working_days"] is not None:
            raise ValidationError({"working_days": ["no public notice, no length"]})


class CallDefinitionSchema(_Strict):
    """A call as the ministry defines it (data, not code). Field tree:

    call_id, version (1, 2, …), amended_from (null | version - 1)
    program: open_competition | signature_product; year; title; notice_number
    issued_on (date | null), issued_on_note
    issuing_bodies[]: {code (MIIT, CAS, …), name}; addressees[]
    ministry_recipient: {name, email, source} | null
    sample (bool: invented data, labelled)
    timezone: "Asia/Shanghai"; deadline_reading; note
    open_competition (iff program is open_competition, else null):
        announced_category_count, announced_direction_count, counts_source
        categories[]: {code, name, user_enterprise_rule: reactor_user | component_or_system_user, source, note}
        directions[]: {code, name, category (a category code), source, note}
        directions_status: not_in_notice (no directions; nothing can be filed) | defined
        directions_note
        consortium: {allowed, lead_units, max_other_members, lead_files_for_all,
                     unit_may_join_several_tasks, user_enterprise_rules{rule: {min_members, text}},
                     source, note} | null
        shortlist_limit, success_limit: {per_direction_max, in_principle (原则上), source} | null
    signature_product (iff program is signature_product, else null):
        domains_open_ended (包括但不限于), domains_source
        domains[]: {code, name, free_text (其他), source, note}
        types[]: {code, name, text}; types_source
        success_limit: {max, per: call | domain, source, note} | null (null needs success_limit_note)
    eligibility[]: {code, applies_to: applicant | applicant_or_consortium | consortium | product, text, note}
    chains: {"default": levels, "<GB/T 2260 province code>": levels};
            levels is ['province'] or ['city', 'province']; chains_source, chains_note
    regions: {"<province code>": {name, authority, forwarding_notice {title, issuer, notice_number,
              issued_on, source, note} | null, city_level_bodies, chain_source,
              deadlines {<level>: deadline} (overrides), note}}
    deadlines: {applicant, city, province, ministry}: each {due, source, note}
    recommendation_quotas: {unit: product | application,
                            rules[]: {authorities: province_level | planned_city,
                                      authority_codes (null: from reference data), max, source},
                            note} | null; recommendation_quotas_note
    public_notice: {required, working_days (公示, working days), source, note}

    Deadlines: `due` is loaded as an aware datetime in Asia/Shanghai. "于2025年6月30日前" is
    read as *by the end of* that day: a date without a time becomes 23:59:59 Asia/Shanghai
    of that day. A level's deadline is when that level must hand its submission to the
    next level (applicant → first authority, city → province, province → ministry);
    `ministry` is the ministry's own step. A level the notice does not date is null with a
    note saying so; a date quotes its sentence in `source`.
    """

    call_id = fields.String(required=True, validate=validate.Regexp(r"^[a-z0-9][a-z0-9-]{2,63}$"))
    version = fields.Integer(required=True, strict=True, validate=validate.Range(min=1))
    amended_from = fields.Integer(load_default=None, allow_none=True, strict=True)
    program = fields.String(required=True, validate=validate.OneOf(Program.ALL))
    year = fields.Integer(required=True, strict=True, validate=validate.Range(2000, 2100))
    title = fields.String(required=True, validate=validate.Length(min=1, max=300))
    notice_number = fields.String(required=True, validate=validate.Length(min=1, max=100))
    issued_on = NoticeDate(load_default=None, allow_none=True)
    issued_on_note = _text(required=False)
    issuing_bodies = fields.List(fields.Nested(IssuingBodySchema), required=True, validate=validate.Length(min=1))
    addressees = fields.List(fields.String(validate=validate.Length(min=1)), load_default=list)
    ministry_recipient = fields.Nested(MinistryRecipientSchema, load_default=None, allow_none=True)
    sample = fields.Boolean(load_default=False)
    timezone = fields.String(load_default="Asia/Shanghai", validate=validate.Equal("Asia/Shanghai"))
    deadline_reading = _text()
    note = _text(required=False)
    open_competition = fields.Nested(OpenCompetitionSchema, load_default=None, allow_none=True)
    signature_product = fields.Nested(SignatureProductSchema, load_default=None, allow_none=True)
    eligibility = fields.List(fields.Nested(EligibilitySchema), load_default=list)
    chains = Chains(required=True)
    chains_source = _text(required=False)
    chains_note = _text(required=False)
    regions = fields.Dict(keys=fields.String(), values=fields.Nested(RegionSchema), load_default=dict)
    deadlines = fields.Nested(DeadlinesSchema, required=True)
    recommendation_quotas = fields.Nested(QuotasSchema, load_default=None, allow_none=True)
    recommendation_quotas_note = _text(required=False)
    public_notice = fields.Nested(PublicNoticeSchema, required=True)

    @validates_schema
    def _consistent(self, data, **kwargs):
        errors: dict[str, Any] = {}

        program = data["program"]
        own, other = (("open_competition", "signature_product") if program == Program.OPEN_COMPETITION
                      else ("signature_product", "open_competition"))
        if data[own] is None:
            errors[own] = [f"a {program} call defines its {own} section"]
        if data[other] is not None:
            errors[other] = [f"a {program} call has no {other} section (null)"]

        if data["version"] == 1 and data["amended_from"] is not None:
            errors["amended_from"] = ["version 1 amends nothing"]
        if data["version"] > 1 and data["amended_from"] != data["version"] - 1:
            errors["amended_from"] = [f"version {data['version']} amends version {data['version'] - 1}"]

        if data["recommendation_quotas"] is None and not data["recommendation_quotas_note"]:
            errors["recommendation_quotas_note"] = ["no quotas: say whether the notice sets none"]

        chains = data["chains"]
        national = data["deadlines"]
        if national["city"]["due"] is not None and "city" not in chains[DEFAULT_CHAIN_KEY]:
            errors["deadlines"] = {"city": {"due": ["the default chain has no city level"]}}

        region_errors: dict[str, Any] = {}
        for code, region in data["regions"].items():
            if code not in PROVINCE_LEVEL_AUTHORITIES:
                region_errors[code] = ["a region is keyed by its GB/T 2260 province-level code"]
                continue
            chain = chains.get(code, chains[DEFAULT_CHAIN_KEY])
            overrides = region["deadlines"]
            if overrides.get("city", {}).get("due") is not None and "city" not in chain:
                region_errors[code] = {"deadlines": {"city": {"due": [f"the chain of {code} has no city level"]}}}
        if region_errors:
            errors["regions"] = region_errors

        # Deadlines follow the levels: applicant ≤ city ≤ province ≤ ministry, in every region.
        for key in [DEFAULT_CHAIN_KEY, *data["regions"]]:
            overrides = data["regions"][key]["deadlines"] if key != DEFAULT_CHAIN_KEY else {}
            dated = [(level, (overrides.get(level) or national[level])["due"]) for level in LEVELS]
            dated = [(level, due) for level, due in dated if due is not None]
            for (a, da), (b, db) in zip(dated, dated[1:]):
                if db < da:
                    path = "deadlines" if key == DEFAULT_CHAIN_KEY else f"regions.{key}.deadlines"
                    errors.setdefault("deadlines", {}).setdefault(b, {})["due"] = [
                        f"{path}: the {b} deadline ({db.isoformat()}) precedes the {a} deadline ({da.isoformat()})"]
        if errors:
            raise ValidationError(errors)


_SCHEMA = CallDefinitionSchema()


# -- loading, dumping, amending ----------------------------------------------------


def load_call(raw: dict) -> dict:
    """Validate a definition (JSON form) and return it loaded: deadlines as aware datetimes.

    Raises ValidationFailed whose fields are dotted paths, e.g. "chains.420000".
    """
    try:
        return _SCHEMA.load(raw)
    except ValidationError as exc:
        raise ValidationFailed(flatten_messages(exc.messages), "the call definition has invalid fields") from exc


def to_json(call: dict) -> dict:
    """The JSON form of a definition (loaded or not): what is stored and shipped."""
    return json.loads(json.dumps(_SCHEMA.dump(call), ensure_ascii=False))


def _merge(base: Any, changes: Any) -> Any:
    """Objects merge key by key; anything else (lists, scalars, null) replaces."""
    if isinstance(base, dict) and isinstance(changes, dict):
        merged = {k: copy.deepcopy(v) for k, v in base.items()}
        for key, value in changes.items():
            merged[key] = _merge(base.get(key), value) if key in base else copy.deepcopy(value)
        return merged
    return copy.deepcopy(changes)


def amend(previous: dict, changes: dict) -> dict:
    """The next version of `previous` with `changes` applied, validated; `previous` is not touched.

    `changes` is a partial definition: objects merge key by key, lists and scalars
    replace. The call's identity and lineage (call_id, program, version,
    amended_from) cannot be changed; the new version is previous + 1.
    """
    forbidden = {k: ["an amendment cannot change this field"] for k in IMMUTABLE_ON_AMEND if k in changes}
    if forbidden:
        raise ValidationFailed(forbidden, "an amendment may not change the call's identity")
    base = to_json(previous)
    merged = _merge(base, changes)
    merged["version"] = base["version"] + 1
    merged["amended_from"] = base["version"]
    return load_call(merged)


def load_shipped() -> list[dict]:
    """The calls shipped in shared/domain/calls/*.json, validated and loaded, in file-name order."""
    folder = resources.files("shared.domain").joinpath("calls")
    entries = sorted((e for e in folder.iterdir() if e.name.endswith(".json")), key=lambda e: e.name)
    calls = []
    for entry in entries:
        raw = json.loads(entry.read_text(encoding="utf-8"))
        try:
            calls.append(load_call(raw))
        except ValidationFailed as exc:
            raise ValidationFailed(exc.fields, f"shipped call {entry.name} is invalid") from exc
    return calls


# -- questions a call answers ---------------------------------------------------


def chain_for(call: dict, province_code: str) -> list[str]:
    """The levels an application from `province_code` passes, in order (a fresh list)."""
    chains = call["chains"]
    return list(chains.get(province_code) or chains[DEFAULT_CHAIN_KEY])


def deadline_for(call: dict, level: str, province_code: str | None = None) -> datetime | None:
    """When `level` must hand its submission on (aware, Asia/Shanghai), or None if the notice sets no date.

    With `province_code`, that region's override (e.g. Hubei's city bureaus) wins over
    the call's national date.
    """
    if level not in LEVELS:
        raise ValueError(f"no level {level!r}; levels are {', '.join(LEVELS)}")
    entry = None
    if province_code is not None:
        entry = call.get("regions", {}).get(province_code, {}).get("deadlines", {}).get(level)
    if entry is None:
        entry = call["deadlines"][level]
    due = entry.get("due")
    return None if due is None else _parse_deadline(due)


def quota_for(call: dict, authority_code: str) -> int | None:
    """How many items the authority may recommend to the ministry; None when the call sets no limit for it.

    None covers both a call with no quotas (220) and an authority the quotas do not
    name (an ordinary city bureau recommending to its province).
    """
    quotas = call.get("recommendation_quotas")
    if not quotas:
        return None
    kind = authority_kind(authority_code)
    for rule in quotas["rules"]:
        codes = rule.get("authority_codes")
        if codes is not None:
            if authority_code in codes:
                return rule["max"]
        elif rule["authorities"] == kind:
            return rule["max"]
    return None


def accepts_applications(call: dict) -> bool:
    """An open-competition call accepts nothing until its directions are defined."""
    section = call.get("open_competition")
    return section is None or bool(section.get("directions"))


def require_direction(call: dict, code: str) -> dict:
    """The direction `code` of an open-competition call, or DomainRuleViolation if there is none."""
    section = call.get("open_competition")
    if section is None:
        raise DomainRuleViolation("direction", f"call {call['call_id']} is not an open competition")
    for direction in section.get("directions", []):
        if direction["code"] == code:
            return direction
    if not section.get("directions"):
        raise DomainRuleViolation(
            "direction",
            f"call {call['call_id']} v{call['version']} has no task directions yet "
            f"(directions_status={section.get('directions_status')}): the ministry must amend the call "
            "to list them before anything can be filed")
    codes = ", ".join(d["code"] for d in section["directions"])
    raise DomainRuleViolation("direction", f"call {call['call_id']} has no direction {code!r} (has: {codes})")
