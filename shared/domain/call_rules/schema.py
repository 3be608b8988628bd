"""The call definition: one schema for the whole call, and loading and dumping it.

A call (征集/揭榜通知) is a JSON document, not code: `load_call` validates it and loads its
deadlines as aware datetimes, `to_json` gives the form that is stored and shipped. Every
value of a shipped call is taken from the notice's text (the `source` and `text` fields
quote it), and whatever the notice leaves unsaid is null or empty with a `note`.
"""

from __future__ import annotations

import json
from itertools import pairwise
from typing import Any

from marshmallow import ValidationError, fields, validate, validates_schema

from shared.domain.call_rules.fields import CODE, Chains, NoticeDate, NoticeDeadline, Strict, text_field
from shared.domain.call_rules.levels import DEFAULT_CHAIN_KEY, LEVELS
from shared.domain.call_rules.programs import OpenCompetitionSchema, SignatureProductSchema
from shared.domain.case import Program
from shared.domain.errors import ValidationFailed
from shared.domain.personal import NOT_PERSONAL, OFFICE
from shared.domain.regions import PROVINCE_LEVEL_AUTHORITIES
from shared.domain.validation import flatten_messages

QUOTA_AUTHORITIES = ("province_level", "planned_city")


class IssuingBodySchema(Strict):
    code = fields.String(required=True, validate=validate.Regexp(r"^[A-Z]{2,16}$"))
    name = text_field()


class MinistryRecipientSchema(Strict):
    """Where the recommendations go (部里接收单位): the office the notice names and its mailbox, as both
    notices give them (工业和信息化部（消费品工业司）, spc@miit.gov.cn). An office, not a person: the
    notices' named contacts (联系人及电话) are not recorded by the platform."""

    name = text_field(metadata=OFFICE)
    email = fields.Email(metadata=OFFICE, load_default=None, allow_none=True)
    source = text_field(required=False)



class EligibilitySchema(Strict):
    code = fields.String(required=True, validate=CODE, metadata=NOT_PERSONAL)
    applies_to = fields.String(required=True, validate=validate.OneOf(
        ("applicant", "applicant_or_consortium", "consortium", "product")))
    text = text_field()  # the notice's sentence, in Chinese
    note = text_field(required=False)


class DeadlineSchema(Strict):
    due = NoticeDeadline(required=True, allow_none=True)
    source = text_field(required=False)
    note = text_field(required=False)

    @validates_schema
    def _sourced_or_explained(self, data: dict[str, Any], **kwargs: Any) -> None:
        if data["due"] is None and not data["note"]:
            raise ValidationError({"note": ["a level without a date says why (the notice gives none, set by …)"]})
        if data["due"] is not None and not data["source"]:
            raise ValidationError({"source": ["a date quotes the notice sentence that sets it"]})


class DeadlinesSchema(Strict):
    applicant = fields.Nested(DeadlineSchema, required=True)
    city = fields.Nested(DeadlineSchema, required=True)
    province = fields.Nested(DeadlineSchema, required=True)
    ministry = fields.Nested(DeadlineSchema, required=True)


class RegionDeadlinesSchema(Strict):
    applicant = fields.Nested(DeadlineSchema)
    city = fields.Nested(DeadlineSchema)
    province = fields.Nested(DeadlineSchema)
    ministry = fields.Nested(DeadlineSchema)


class ForwardingNoticeSchema(Strict):
    title = text_field()
    issuer = text_field()
    notice_number = fields.String(metadata=NOT_PERSONAL, load_default=None, allow_none=True)
    issued_on = NoticeDate(load_default=None, allow_none=True)
    source = text_field(required=False)
    note = text_field(required=False)


class RegionSchema(Strict):
    name = text_field()
    authority = text_field()
    forwarding_notice = fields.Nested(ForwardingNoticeSchema, load_default=None, allow_none=True)
    city_level_bodies = text_field(required=False)
    chain_source = text_field(required=False)
    deadlines = fields.Nested(RegionDeadlinesSchema, load_default=dict)
    note = text_field(required=False)


class QuotaRuleSchema(Strict):
    authorities = fields.String(required=True, validate=validate.OneOf(QUOTA_AUTHORITIES))
    # null: resolved from the reference data (PROVINCE_LEVEL_AUTHORITIES / PLANNED_CITIES)
    authority_codes = fields.List(fields.String(validate=validate.Regexp(r"^(\d{6}|XPCC)$")),
                                  load_default=None, allow_none=True)
    max = fields.Integer(required=True, strict=True, validate=validate.Range(min=1))
    source = text_field(required=False)


class QuotasSchema(Strict):
    unit = fields.String(required=True, validate=validate.OneOf(("product", "application")))
    rules = fields.List(fields.Nested(QuotaRuleSchema), required=True, validate=validate.Length(min=1))
    note = text_field(required=False)

    @validates_schema
    def _one_rule_per_kind(self, data: dict[str, Any], **kwargs: Any) -> None:
        kinds = [r["authorities"] for r in data["rules"]]
        if len(set(kinds)) != len(kinds):
            raise ValidationError({"rules": ["one rule per kind of authority"]})


class PublicNoticeSchema(Strict):
    required = fields.Boolean(required=True)
    working_days = fields.Integer(load_default=None, allow_none=True, strict=True, validate=validate.Range(min=1))
    source = text_field(required=False)
    note = text_field(required=False)

    @validates_schema
    def _days_iff_required(self, data: dict[str, Any], **kwargs: Any) -> None:
        if data["required"] and data["working_days"] is None:
            raise ValidationError({"working_days": ["a required public notice (公示) states its length"]})
        if not data["required"] and data["working_days"] is not None:
            raise ValidationError({"working_days": ["no public notice, no length"]})


class CallDefinitionSchema(Strict):
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
    reminder_days: [n, ...] (optional; the notices name none): reminders come n working days before each
        deadline of this call; without it the platform's REMINDER_DAYS (7, 3, 1)
    personal_data_retention_days: n (optional; the notices name none): the applications' personal data
        (contacts, legal representative) is erased n days after a case ends (rejected, not shortlisted,
        not selected, delisted, published, withdrawn); without it, kept until erased on request

    Deadlines: `due` is loaded as an aware datetime in Asia/Shanghai. "于2025年6月30日前" is
    read as *by the end of* that day: a date without a time becomes 23:59:59 Asia/Shanghai
    of that day. A level's deadline is when that level must hand its submission to the
    next level (applicant → first authority, city → province, province → ministry);
    `ministry` is the ministry's own step. A level the notice does not date is null with a
    note saying so; a date quotes its sentence in `source`.
    """

    call_id = fields.String(metadata=NOT_PERSONAL,
                            required=True, validate=validate.Regexp(r"^[a-z0-9][a-z0-9-]{2,63}$"))
    version = fields.Integer(required=True, strict=True, validate=validate.Range(min=1))
    amended_from = fields.Integer(load_default=None, allow_none=True, strict=True)
    program = fields.String(required=True, validate=validate.OneOf(Program.ALL))
    year = fields.Integer(required=True, strict=True, validate=validate.Range(2000, 2100))
    title = fields.String(metadata=NOT_PERSONAL, required=True, validate=validate.Length(min=1, max=300))
    notice_number = fields.String(metadata=NOT_PERSONAL, required=True, validate=validate.Length(min=1, max=100))
    issued_on = NoticeDate(load_default=None, allow_none=True)
    issued_on_note = text_field(required=False)
    issuing_bodies = fields.List(fields.Nested(IssuingBodySchema), required=True, validate=validate.Length(min=1))
    addressees = fields.List(fields.String(metadata=NOT_PERSONAL, validate=validate.Length(min=1)), load_default=list)
    ministry_recipient = fields.Nested(MinistryRecipientSchema, load_default=None, allow_none=True)
    sample = fields.Boolean(load_default=False)
    timezone = fields.String(load_default="Asia/Shanghai", validate=validate.Equal("Asia/Shanghai"))
    deadline_reading = text_field()
    note = text_field(required=False)
    open_competition = fields.Nested(OpenCompetitionSchema, load_default=None, allow_none=True)
    signature_product = fields.Nested(SignatureProductSchema, load_default=None, allow_none=True)
    eligibility = fields.List(fields.Nested(EligibilitySchema), load_default=list)
    chains = Chains(required=True)
    chains_source = text_field(required=False)
    chains_note = text_field(required=False)
    regions = fields.Dict(keys=fields.String(), values=fields.Nested(RegionSchema), load_default=dict)
    deadlines = fields.Nested(DeadlinesSchema, required=True)
    recommendation_quotas = fields.Nested(QuotasSchema, load_default=None, allow_none=True)
    recommendation_quotas_note = text_field(required=False)
    public_notice = fields.Nested(PublicNoticeSchema, required=True)
    # The ministry's own reminder schedule for this call, in working days before each deadline.
    reminder_days = fields.List(fields.Integer(strict=True, validate=validate.Range(min=1, max=60)),
                                load_default=None, allow_none=True, validate=validate.Length(min=1, max=10))
    # How long after a case ends its people's data is kept (issue #21); a retention of the
    # ministry's choosing, not the notices'.
    personal_data_retention_days = fields.Integer(strict=True, load_default=None, allow_none=True,
                                                  validate=validate.Range(min=1, max=36500))

    @validates_schema
    def _consistent(self, data: dict[str, Any], **kwargs: Any) -> None:
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
            for (a, da), (b, db) in pairwise(dated):
                if db < da:
                    path = "deadlines" if key == DEFAULT_CHAIN_KEY else f"regions.{key}.deadlines"
                    errors.setdefault("deadlines", {}).setdefault(b, {})["due"] = [
                        f"{path}: the {b} deadline ({db.isoformat()}) precedes the {a} deadline ({da.isoformat()})"]
        if errors:
            raise ValidationError(errors)


_SCHEMA = CallDefinitionSchema()


def load_call(raw: dict[str, Any]) -> dict[str, Any]:
    """Validate a definition (JSON form) and return it loaded: deadlines as aware datetimes.

    Raises ValidationFailed whose fields are dotted paths, e.g. "chains.420000".
    """
    try:
        loaded: dict[str, Any] = _SCHEMA.load(raw)
        return loaded
    except ValidationError as exc:
        raise ValidationFailed(flatten_messages(exc.messages), "the call definition has invalid fields") from exc


def to_json(call: dict[str, Any]) -> dict[str, Any]:
    """The JSON form of a definition (loaded or not): what is stored and shipped."""
    stored: dict[str, Any] = json.loads(json.dumps(_SCHEMA.dump(call), ensure_ascii=False))
    return stored
