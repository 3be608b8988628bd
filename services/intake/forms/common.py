"""Field helpers shared by the application forms (申请表).

Every message is bilingual, Chinese then English (`"必填 / required"`), and names
the rule that failed. Text is stripped of surrounding whitespace before anything
else; a blank string counts as missing. Character limits count characters
(`len` of the Python str, so one Chinese character is one character).

Evidence (证明材料) is a list of document references: the SHA-256 hex digest
(64 lowercase hex characters) of a file held by the documents service. Which
fields hold references is one rule (`evidence_references`): lists named
`evidence` or `*_evidence`, and `seal` (the scan of a sealed page); see
`shared.domain.named_documents.document_references`.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping
from typing import Any

from marshmallow import Schema, ValidationError, fields, validate
from stdnum import exceptions as stdnum_exceptions
from stdnum.cn import uscc

# -- messages -------------------------------------------------------------------


def bilingual(zh: str, en: str) -> str:
    """One message: Chinese, then English."""
    return f"{zh} / {en}"


REQUIRED = bilingual("必填", "required")
MUST_BE_TEXT = bilingual("须为文本", "must be text")
MUST_BE_OBJECT = bilingual("须为对象", "must be an object")
MUST_BE_LIST = bilingual("须为列表", "must be a list")
MUST_BE_YES_NO = bilingual("须为是或否（true/false）", "must be yes or no (true/false)")
MUST_BE_WHOLE_NUMBER = bilingual("须为整数", "must be a whole number")
MUST_BE_NUMBER = bilingual("须为数字", "must be a number")
MUST_BE_FINITE = bilingual("须为有限数字", "must be a finite number")
MUST_BE_DATE = bilingual("须为日期，格式YYYY-MM-DD", "must be a date as YYYY-MM-DD")
MUST_BE_EMAIL = bilingual("须为有效的电子邮箱", "must be a valid email address")
MUST_BE_MOBILE = bilingual("须为11位中国大陆手机号码", "must be an 11-digit mainland China mobile number")
MUST_BE_DOCUMENT = bilingual(
    "须为文件的SHA-256摘要（64位小写十六进制）",
    "must be a document's SHA-256 digest (64 lowercase hex characters)",
)
EVIDENCE_REQUIRED = bilingual("至少提供一份证明材料", "at least one evidence document is required")
AT_LEAST_ONE_ENTRY = bilingual("至少填写一项", "at least one entry is required")
UNKNOWN_FIELD = bilingual("申请表中无此栏目", "unknown field: not on the application form")
MUST_BE_TRUE = bilingual("须确认此项声明", "this statement must be confirmed (true)")

CREDIT_CODE_LENGTH = bilingual("统一社会信用代码须为18位", "unified social credit code must have 18 characters")
CREDIT_CODE_FORMAT = bilingual(
    "统一社会信用代码含非法字符（前8位为数字，其余为数字或除I、O、S、V、Z外的大写字母）",
    "unified social credit code has invalid characters (8 digits, then digits or capitals except I, O, S, V, Z)",
)
CREDIT_CODE_CHECKSUM = bilingual(
    "统一社会信用代码校验位错误", "unified social credit code has a wrong check character"
)

SHORT_TEXT_MAX = 200
"""A bound on one-line entries (names, posts, numbers). The notice sets none; this is the platform's."""


def max_chars_message(limit: int, given: int) -> str:
    return bilingual(f"不得超过{limit}字（现为{given}字）", f"at most {limit} characters ({given} given)")


def at_least_message(minimum: Any) -> str:
    return bilingual(f"须不小于{minimum}", f"must be at least {minimum}")


def between_message(minimum: Any, maximum: Any) -> str:
    return bilingual(f"须在{minimum}到{maximum}之间", f"must be between {minimum} and {maximum}")


def at_most_field_message(other_zh: str, other_en: str) -> str:
    return bilingual(f"不得超过{other_zh}", f"must not exceed {other_en}")


def at_most_entries_message(limit: int) -> str:
    return bilingual(f"不得超过{limit}项", f"at most {limit} entries")


def evidence_max_message(limit: int) -> str:
    return bilingual(f"证明材料不得超过{limit}份", f"at most {limit} evidence documents")


def one_of_message(choices: Iterable[str]) -> str:
    listed = ", ".join(choices)
    return bilingual(f"须为以下之一：{listed}", f"must be one of: {listed}")


# -- validators -----------------------------------------------------------------


class MaxChars(validate.Length):
    """At most `limit` characters; `None` (an optional field left empty) passes.

    A `validate.Length` so that OpenAPI shows it as `maxLength`.
    """

    def __init__(self, limit: int):
        super().__init__(max=limit)
        self.limit = limit

    def __call__(self, value: str | None) -> str | None:
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

_FIELD_MESSAGES = {"required": REQUIRED, "null": REQUIRED, "validator_failed": bilingual("无效", "invalid")}


def _validators(validate_arg: Any) -> list:
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

    default_error_messages = {**_FIELD_MESSAGES, "invalid": MUST_BE_TEXT, "invalid_utf8": MUST_BE_TEXT}

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

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str | None:
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
        super().__init__(None, required=required, validate=validators, **kwargs)


class YesNo(fields.Boolean):
    """A yes/no box: JSON `true` or `false` only (no "yes", 1 or "true")."""

    default_error_messages = {**_FIELD_MESSAGES, "invalid": MUST_BE_YES_NO}

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
        validators = [*_validators(kwargs.pop("validate", None)),
                      validate.Equal(True, error=message or MUST_BE_TRUE)]
        if message is not None:
            kwargs["error_messages"] = {"required": message, "null": message, "invalid": message,
                                        **kwargs.get("error_messages", {})}
        super().__init__(required=True, validate=validators, **kwargs)


class Count(fields.Integer):
    """A whole number ≥ `minimum` (a JSON integer; 12.5, "12" and booleans are refused)."""

    default_error_messages = {**_FIELD_MESSAGES, "invalid": MUST_BE_WHOLE_NUMBER, "too_large": MUST_BE_WHOLE_NUMBER}

    def __init__(self, minimum: int = 0, **kwargs: Any):
        validators = [*_validators(kwargs.pop("validate", None)),
                      Bounds(min=minimum, error=at_least_message(minimum))]
        kwargs.setdefault("required", True)
        super().__init__(strict=True, validate=validators, **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> int:
        if isinstance(value, bool):
            raise self.make_error("invalid")
        return super()._deserialize(value, attr, data, **kwargs)


def _blank_to_missing(field: fields.Field, value: Any) -> tuple[bool, Any]:
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

    default_error_messages = {
        **_FIELD_MESSAGES, "invalid": MUST_BE_NUMBER, "special": MUST_BE_FINITE, "too_large": MUST_BE_NUMBER,
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

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any):
        if isinstance(value, bool):
            raise self.make_error("invalid")
        blank, value = _blank_to_missing(self, value)
        if blank:
            return None
        return super()._deserialize(value, attr, data, **kwargs)


class Day(fields.Date):
    """A calendar date, ISO `YYYY-MM-DD`."""

    default_error_messages = {**_FIELD_MESSAGES, "invalid": MUST_BE_DATE, "format": MUST_BE_DATE}

    def __init__(self, *, required: bool = True, **kwargs: Any):
        if not required:
            kwargs.setdefault("load_default", None)
            kwargs.setdefault("allow_none", True)
        super().__init__(required=required, **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any):
        blank, value = _blank_to_missing(self, value)
        if blank:
            return None
        return super()._deserialize(value, attr, data, **kwargs)


_SHA256 = re.compile(r"[0-9a-f]{64}")


class DocumentRef(fields.String):
    """A document held by the documents service, named by its SHA-256 hex digest."""

    default_error_messages = {**_FIELD_MESSAGES, "invalid": MUST_BE_DOCUMENT, "invalid_utf8": MUST_BE_DOCUMENT}

    def __init__(self, **kwargs: Any):
        kwargs.setdefault("required", True)
        super().__init__(**kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        digest = super()._deserialize(value, attr, data, **kwargs)
        if not _SHA256.fullmatch(digest):
            raise self.make_error("invalid")
        return digest


class Listing(fields.List):
    """A list on the form, `minimum` entries at least (with `minimum_message`) and, when
    `maximum` is given, at most `maximum` (with `maximum_message`)."""

    default_error_messages = {**_FIELD_MESSAGES, "invalid": MUST_BE_LIST}

    def __init__(self, item: fields.Field | type[fields.Field], *, minimum: int = 0,
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


def evidence(*, required: bool = True, maximum: int | None = None) -> Listing:
    """证明材料: document references; when required, at least one; at most `maximum` if given.

    `required=False` (for evidence a conditional rule demands, or that is optional):
    may be missing, loads as `[]`, and the schema checks it when the condition holds.
    """
    limits: dict[str, Any] = {}
    if maximum is not None:
        limits = {"maximum": maximum, "maximum_message": evidence_max_message(maximum)}
    if required:
        return Listing(DocumentRef(), minimum=1, minimum_message=EVIDENCE_REQUIRED, **limits)
    return Listing(DocumentRef(), required=False, **limits)


def entries(schema: type[Schema], *, minimum: int = 0) -> Listing:
    """A table of the form (one nested object per row)."""
    return Listing(Section(schema), minimum=minimum)


class Section(fields.Nested):
    """A nested group of fields (a part of the form, or one row of a table)."""

    default_error_messages = {**_FIELD_MESSAGES, "type": MUST_BE_OBJECT}

    def __init__(self, nested: Any, **kwargs: Any):
        kwargs.setdefault("required", True)
        super().__init__(nested, **kwargs)


class Mobile(Text):
    """A mainland China mobile number: 11 digits, `1[3-9]…`.

    Spaces and hyphens are dropped, and a leading +86 / 0086 country code; it loads
    as the bare 11 digits.
    """

    _PATTERN = re.compile(r"1[3-9][0-9]{9}")

    def __init__(self, **kwargs: Any):
        super().__init__(None, **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str | None:
        text = super()._deserialize(value, attr, data, **kwargs)
        if text is None:
            return None
        number = re.sub(r"[\s-]", "", text)
        for prefix in ("+86", "0086"):
            if number.startswith(prefix):
                number = number[len(prefix):]
                break
        if not self._PATTERN.fullmatch(number):
            raise ValidationError(MUST_BE_MOBILE)
        return number


class EmailAddress(fields.Email):
    """An email address, stripped; blank is missing."""

    default_error_messages = {**_FIELD_MESSAGES, "invalid": MUST_BE_EMAIL, "invalid_utf8": MUST_BE_EMAIL}

    def __init__(self, **kwargs: Any):
        kwargs.setdefault("required", True)
        super().__init__(validate=[MaxChars(254)], **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        text = super()._deserialize(value, attr, data, **kwargs).strip()
        if not text:
            raise self.make_error("required")
        return text


class CreditCode(Text):
    """统一社会信用代码 (GB 32100-2015), checked with python-stdnum's `cn.uscc`.

    Spaces and hyphens are dropped and letters upper-cased (stdnum's `compact`);
    it loads as the 18-character code.
    """

    def __init__(self, **kwargs: Any):
        super().__init__(None, **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str | None:
        text = super()._deserialize(value, attr, data, **kwargs)
        if text is None:
            return None
        return checked_credit_code(text)


def checked_credit_code(text: str) -> str:
    """The compact form of a valid 统一社会信用代码; `ValidationError` naming what is wrong."""
    try:
        return uscc.validate(text)
    except stdnum_exceptions.InvalidLength:
        raise ValidationError(CREDIT_CODE_LENGTH) from None
    except stdnum_exceptions.InvalidChecksum:
        raise ValidationError(CREDIT_CODE_CHECKSUM) from None
    except stdnum_exceptions.ValidationError:
        raise ValidationError(CREDIT_CODE_FORMAT) from None


def valid_credit_code(value: Any) -> str | None:
    """The compact form of a valid credit code, else `None` (for rules that read the raw input:
    a code that is not valid has its own field error)."""
    if not isinstance(value, str):
        return None
    try:
        return checked_credit_code(value)
    except ValidationError:
        return None


# -- schemas ----------------------------------------------------------------------


class FormSection(Schema):
    """Base of every part of a form: bilingual schema-level messages, unknown fields refused."""

    error_messages = {"type": MUST_BE_OBJECT, "unknown": UNKNOWN_FIELD}


class RuleErrors:
    """Collects the errors of a schema's conditional rules, to raise them all at once.

    `add("unit_nature_other", REQUIRED)`, or a nested path as a tuple:
    `add(("ip_items", 2, "granted_on"), ...)` gives `{"ip_items": {2: {"granted_on": [...]}}}`.
    Messages of a list or section itself and of its entries go together as marshmallow
    nests them: `{"members": {"_schema": [...], 3: {...}}}`.
    """

    def __init__(self) -> None:
        self.messages: dict = {}

    def add(self, path: str | tuple, message: str) -> None:
        keys = path if isinstance(path, tuple) else (path,)
        node = self.messages
        for key in keys[:-1]:
            child = node.setdefault(key, {})
            if isinstance(child, list):
                child = node[key] = {"_schema": child}
            node = child
        leaf = node.setdefault(keys[-1], [])
        if isinstance(leaf, dict):
            leaf = leaf.setdefault("_schema", [])
        leaf.append(message)

    def raise_if_any(self) -> None:
        if self.messages:
            raise ValidationError(self.messages)


def is_blank(data: Mapping, key: str) -> bool:
    """The field loaded as empty (None, or an empty list).

    A field that failed its own rules is absent from `data`: it is not blank, its own
    error already names it, and a conditional rule must not report it a second time.
    """
    return key in data and data[key] in (None, [], "")


# -- document references ------------------------------------------------------------------------


#: SAMPLE evidence files by digest: what the sample forms reference, for demos and tests to upload.
SAMPLE_EVIDENCE: dict[str, bytes] = {}


def sample_evidence(label: str) -> str:
    """The digest of a SAMPLE evidence file (the smallest PDF that sniffs as one, naming what it stands for)."""
    content = (f"%PDF-1.4\n% SAMPLE evidence document: {label}\n"
               "1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n").encode()
    digest = hashlib.sha256(content).hexdigest()
    SAMPLE_EVIDENCE[digest] = content
    return digest
