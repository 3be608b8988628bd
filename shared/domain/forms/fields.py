"""The fields the application forms (申请表) are built of, and their validators.

Text is stripped of surrounding whitespace before anything else; a blank string counts
as missing. Character limits count characters (`len` of the Python str, so one Chinese
character is one character). Optional fields load as `None` when missing, null or
blank, so that a schema's conditional rule may then demand them.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from decimal import Decimal
from typing import Any, ClassVar

from marshmallow import Schema, ValidationError, fields, types, validate

from shared.domain.forms.messages import (
    AT_LEAST_ONE_ENTRY,
    MUST_BE_DATE,
    MUST_BE_FINITE,
    MUST_BE_LIST,
    MUST_BE_NUMBER,
    MUST_BE_OBJECT,
    MUST_BE_TEXT,
    MUST_BE_TRUE,
    MUST_BE_WHOLE_NUMBER,
    MUST_BE_YES_NO,
    REQUIRED,
    at_least_message,
    at_most_entries_message,
    between_message,
    bilingual,
    max_chars_message,
    one_of_message,
)
from shared.domain.personal import NOT_PERSONAL

SHORT_TEXT_MAX = 200
"""A bound on one-line entries (names, posts, numbers). The notice sets none; this is the platform's."""


# -- validators -----------------------------------------------------------------


class MaxChars(validate.Length):
    """At most `limit` characters; `None` (an optional field left empty) passes.

    A `validate.Length` so that OpenAPI shows it as `maxLength`.
    """

    def __init__(self, limit: int):
        super().__init__(max=limit)
        self.limit = limit

    def __call__(self, value: str | None) -> str | None:  # type: ignore[override]  # unlike Length, None passes
        if value is not None and len(value) > self.limit:
            raise ValidationError(max_chars_message(self.limit, len(value)))
        return value


class Choice(validate.Validator):
    """One of `choices`; `None` (an optional field left empty) passes."""

    def __init__(self, choices: Iterable[str]):
        self.choices = tuple(choices)

    def __call__(self, value: str | None) -> str | None:
        if value is not None and value not in self.choices:
            raise ValidationError(one_of_message(self.choices))
        return value

    def _repr_args(self) -> str:
        return f"choices={self.choices!r}"


class Bounds(validate.Range):
    """`validate.Range`, where `None` (an optional field left empty) passes."""

    def __call__(self, value: Any) -> Any:
        if value is None:
            return value
        return super().__call__(value)


# -- fields -----------------------------------------------------------------------

FIELD_MESSAGES = {"required": REQUIRED, "null": REQUIRED, "validator_failed": bilingual("无效", "invalid")}


def _validators(validate_arg: types.Validator | Iterable[types.Validator] | None) -> list[types.Validator]:
    if validate_arg is None:
        return []
    if callable(validate_arg):
        return [validate_arg]
    return list(validate_arg)


class Text(fields.String):
    """Text, stripped; blank is missing. `max_chars` counts characters after stripping.

    Required by default. `required=False` makes it optional: missing, null or blank
    loads as `None` (a conditional rule of the schema may then demand it).
    `strip=False` loads the text as sent (a blank one is still missing), for codes that
    a schema rule compares with the raw input.
    """

    default_error_messages: ClassVar[types.ErrorMessages] = {  # type: ignore[misc]  # marshmallow reads it per class, types it per instance
        **FIELD_MESSAGES, "invalid": MUST_BE_TEXT, "invalid_utf8": MUST_BE_TEXT,
    }

    def __init__(self, max_chars: int | None = SHORT_TEXT_MAX, *, required: bool = True, strip: bool = True,
                 **kwargs: Any):
        validators = _validators(kwargs.pop("validate", None))
        if max_chars is not None:
            validators.append(MaxChars(max_chars))
        if not required:
            kwargs.setdefault("load_default", None)
            kwargs.setdefault("allow_none", True)
        self.max_chars = max_chars
        self.strip = strip
        super().__init__(required=required, validate=validators, **kwargs)

    def _deserialize(  # type: ignore[override]  # marshmallow's String never loads None; a blank optional Text does
        self, value: Any, attr: str | None, data: Any, **kwargs: Any,
    ) -> str | None:
        text = super()._deserialize(value, attr, data, **kwargs)
        if not text.strip():
            if self.required:
                raise self.make_error("required")
            return None
        return text.strip() if self.strip else text


class Code(Text):
    """One of a fixed set of codes (a checkbox group on the form); `strip` as for `Text`."""

    def __init__(self, choices: Iterable[str], *, required: bool = True, **kwargs: Any):
        self.choices = tuple(choices)
        validators = [*_validators(kwargs.pop("validate", None)), Choice(self.choices)]
        kwargs["metadata"] = {**NOT_PERSONAL, **kwargs.get("metadata", {})}  # one of a fixed set: no one's data
        super().__init__(None, required=required, validate=validators, **kwargs)


class YesNo(fields.Boolean):
    """A yes/no box: JSON `true` or `false` only (no "yes", 1 or "true")."""

    default_error_messages: ClassVar[types.ErrorMessages] = {**FIELD_MESSAGES, "invalid": MUST_BE_YES_NO}  # type: ignore[misc]  # marshmallow reads it per class, types it per instance

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> bool:
        if isinstance(value, bool):
            return value
        raise self.make_error("invalid")


class Confirmed(YesNo):
    """A statement the applicant must confirm: only `true` passes.

    `message`, when given, is the one error for every way of not confirming (missing,
    null, not a boolean, false): a message that names the statement.
    """

    def __init__(self, *, message: str | None = None, **kwargs: Any):
        validators: list[types.Validator] = [*_validators(kwargs.pop("validate", None)),
                                             validate.Equal(True, error=message or MUST_BE_TRUE)]
        if message is not None:
            kwargs["error_messages"] = {"required": message, "null": message, "invalid": message,
                                        **kwargs.get("error_messages", {})}
        super().__init__(required=True, validate=validators, **kwargs)


class Count(fields.Integer):
    """A whole number ≥ `minimum` (a JSON integer; 12.5, "12" and booleans are refused)."""

    default_error_messages: ClassVar[types.ErrorMessages] = {  # type: ignore[misc]  # marshmallow reads it per class, types it per instance
        **FIELD_MESSAGES, "invalid": MUST_BE_WHOLE_NUMBER, "too_large": MUST_BE_WHOLE_NUMBER,
    }

    def __init__(self, minimum: int = 0, **kwargs: Any):
        validators: list[types.Validator] = [*_validators(kwargs.pop("validate", None)),
                                             Bounds(min=minimum, error=at_least_message(minimum))]
        kwargs.setdefault("required", True)
        super().__init__(strict=True, validate=validators, **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> int:
        if isinstance(value, bool):
            raise self.make_error("invalid")
        return super()._deserialize(value, attr, data, **kwargs)


def _blank_to_missing(field: fields.Field[Any], value: Any) -> tuple[bool, Any]:
    """A blank string in a non-text field: refused as missing if required, else `None`."""
    if isinstance(value, str):
        value = value.strip()
        if not value:
            if field.required:
                raise field.make_error("required")
            return True, None
    return False, value


class Amount(fields.Decimal):
    """A decimal quantity (10k CNY, tonnes, percent), ≥ `minimum` and ≤ `maximum` if given.

    Loads as `decimal.Decimal`; dumps as a string so the result is JSON.
    Required by default; `required=False` makes it optional (missing or null → `None`).
    """

    default_error_messages: ClassVar[types.ErrorMessages] = {  # type: ignore[misc]  # marshmallow reads it per class, types it per instance
        **FIELD_MESSAGES, "invalid": MUST_BE_NUMBER, "special": MUST_BE_FINITE, "too_large": MUST_BE_NUMBER,
    }

    def __init__(self, minimum: Any = 0, maximum: Any = None, *, required: bool = True, **kwargs: Any):
        validators = _validators(kwargs.pop("validate", None))
        if maximum is None:
            validators.append(Bounds(min=minimum, error=at_least_message(minimum)))
        else:
            validators.append(Bounds(min=minimum, max=maximum, error=between_message(minimum, maximum)))
        if not required:
            kwargs.setdefault("load_default", None)
            kwargs.setdefault("allow_none", True)
        super().__init__(as_string=True, required=required, validate=validators, **kwargs)

    def _deserialize(  # type: ignore[override]  # marshmallow's Decimal never loads None; a blank optional Amount does
        self, value: Any, attr: str | None, data: Any, **kwargs: Any,
    ) -> Decimal | None:
        if isinstance(value, bool):
            raise self.make_error("invalid")
        blank, value = _blank_to_missing(self, value)
        if blank:
            return None
        return super()._deserialize(value, attr, data, **kwargs)


class Day(fields.Date):
    """A calendar date, ISO `YYYY-MM-DD`."""

    default_error_messages: ClassVar[types.ErrorMessages] = {  # type: ignore[misc]  # marshmallow reads it per class, types it per instance
        **FIELD_MESSAGES, "invalid": MUST_BE_DATE, "format": MUST_BE_DATE,
    }

    def __init__(self, *, required: bool = True, **kwargs: Any):
        if not required:
            kwargs.setdefault("load_default", None)
            kwargs.setdefault("allow_none", True)
        super().__init__(required=required, **kwargs)

    def _deserialize(  # type: ignore[override]  # marshmallow's Date never loads None; a blank optional Day does
        self, value: Any, attr: str | None, data: Any, **kwargs: Any,
    ) -> date | None:
        blank, value = _blank_to_missing(self, value)
        if blank:
            return None
        return super()._deserialize(value, attr, data, **kwargs)


class Listing(fields.List[Any]):
    """A list on the form, `minimum` entries at least (with `minimum_message`) and, when
    `maximum` is given, at most `maximum` (with `maximum_message`)."""

    default_error_messages: ClassVar[types.ErrorMessages] = {**FIELD_MESSAGES, "invalid": MUST_BE_LIST}  # type: ignore[misc]  # marshmallow reads it per class, types it per instance

    def __init__(self, item: fields.Field[Any] | type[fields.Field[Any]], *, minimum: int = 0,
                 minimum_message: str = AT_LEAST_ONE_ENTRY, maximum: int | None = None,
                 maximum_message: str | None = None, **kwargs: Any):
        validators = _validators(kwargs.pop("validate", None))
        if minimum:
            validators.append(validate.Length(min=minimum, error=minimum_message))
        if maximum is not None:
            validators.append(validate.Length(max=maximum, error=maximum_message or at_most_entries_message(maximum)))
        kwargs.setdefault("required", True)
        if not kwargs["required"]:
            kwargs.setdefault("load_default", list)
        super().__init__(item, validate=validators, **kwargs)


def entries(schema: type[Schema], *, minimum: int = 0) -> Listing:
    """A table of the form (one nested object per row)."""
    return Listing(Section(schema), minimum=minimum)


class Section(fields.Nested):
    """A nested group of fields (a part of the form, or one row of a table)."""

    default_error_messages: ClassVar[types.ErrorMessages] = {**FIELD_MESSAGES, "type": MUST_BE_OBJECT}  # type: ignore[misc]  # marshmallow reads it per class, types it per instance

    def __init__(self, nested: Any, **kwargs: Any):
        kwargs.setdefault("required", True)
        super().__init__(nested, **kwargs)
