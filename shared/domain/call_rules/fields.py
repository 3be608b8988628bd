"""The building blocks of a call's schema: strict sections, codes, texts, and the fields
that read a notice's dates and a call's chains."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any, ClassVar

from marshmallow import RAISE, Schema, ValidationError, fields, types, validate

from shared.domain.call_rules.levels import DATE_ONLY, DEFAULT_CHAIN_KEY, is_chain_key, parse_deadline
from shared.domain.case import VALID_CHAINS
from shared.domain.personal import NOT_PERSONAL
from shared.domain.regions import XPCC

CODE = validate.Regexp(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$", error="a code is 1–64 letters, digits, '_', '.', '-'")


class Strict(Schema):
    """A section of a call: a field it does not know is an error, not something to ignore."""

    class Meta:
        unknown = RAISE


def text_field(required: bool = True, **kwargs: Any) -> fields.String:
    """A text: required and not empty, or optional and empty by default.

    A call's texts are the notice's words (its notes, sources, names of bodies), no person's data,
    unless `metadata` says otherwise (shared.domain.personal).
    """
    kwargs["metadata"] = {**NOT_PERSONAL, **kwargs.get("metadata", {})}
    if required:
        return fields.String(required=True, validate=validate.Length(min=1), **kwargs)
    return fields.String(load_default="", **kwargs)


class NoticeDeadline(fields.Field[datetime]):
    """A deadline: "YYYY-MM-DD" as the notice gives it (→ 23:59:59 Asia/Shanghai of that
    day), or an ISO datetime with its offset. Loads as an aware Asia/Shanghai datetime."""

    default_error_messages: ClassVar[types.ErrorMessages] = {  # type: ignore[misc]  # marshmallow reads it per class, types it per instance
        "invalid": "a deadline is a date (YYYY-MM-DD) or an ISO datetime with offset: {why}"}

    def _deserialize(self, value: Any, attr: str | None, data: Mapping[str, Any] | None, **kwargs: Any) -> datetime:
        try:
            return parse_deadline(value)
        except (TypeError, ValueError) as exc:
            raise self.make_error("invalid", why=str(exc)) from exc

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> str | None:
        # A loaded datetime or the JSON form's text: `to_json` dumps a definition loaded or not.
        if value is None:
            return None
        return parse_deadline(value).isoformat()


class NoticeDate(fields.Field[date]):
    """A calendar date, loaded as `date`, accepted as "YYYY-MM-DD" or a `date`."""

    default_error_messages: ClassVar[types.ErrorMessages] = {"invalid": "not a date (YYYY-MM-DD)"}  # type: ignore[misc]  # marshmallow reads it per class, types it per instance

    def _deserialize(self, value: Any, attr: str | None, data: Mapping[str, Any] | None, **kwargs: Any) -> date:
        if isinstance(value, date) and not isinstance(value, datetime):
            return value
        if isinstance(value, str) and DATE_ONLY.match(value):
            try:
                return date.fromisoformat(value)
            except ValueError:
                pass
        raise self.make_error("invalid")

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> str | None:
        if value is None:
            return None
        return value.isoformat() if isinstance(value, date) else str(value)


class Chains(fields.Field[dict[str, list[str]]]):
    """{"default": [...], "<province code>": [...]}: each chain is ['province'] or ['city', 'province'].

    Errors name the region: {"chains": {"420000": [...]}}.
    """

    def _deserialize(
        self, value: Any, attr: str | None, data: Mapping[str, Any] | None, **kwargs: Any,
    ) -> dict[str, list[str]]:
        if not isinstance(value, dict):
            raise ValidationError("chains is an object: region code -> levels")
        errors: dict[str, list[str]] = {}
        result: dict[str, list[str]] = {}
        for key, chain in value.items():
            if not isinstance(key, str) or not is_chain_key(key):
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

    def _serialize(
        self, value: dict[str, list[str]] | None, attr: str | None, obj: Any, **kwargs: Any,
    ) -> dict[str, list[str]] | None:
        return None if value is None else {k: list(v) for k, v in value.items()}
