"""Fields that name something outside the form: a document, a unit, a person's mobile or email.

Evidence (证明材料) is a list of document references: the SHA-256 hex digest (64
lowercase hex characters) of a file held by the documents service. Which fields hold
references is one rule (`evidence_references`): lists named `evidence` or
`*_evidence`, and `seal` (the scan of a sealed page); see
`shared.domain.named_documents.document_references`.
"""

from __future__ import annotations

import re
from typing import Any, ClassVar

from marshmallow import ValidationError, fields, types
from stdnum import exceptions as stdnum_exceptions
from stdnum.cn import uscc

from shared.domain.forms.fields import FIELD_MESSAGES, Listing, MaxChars, Text
from shared.domain.forms.messages import (
    CREDIT_CODE_CHECKSUM,
    CREDIT_CODE_FORMAT,
    CREDIT_CODE_LENGTH,
    EVIDENCE_REQUIRED,
    MUST_BE_DOCUMENT,
    MUST_BE_EMAIL,
    MUST_BE_MOBILE,
    evidence_max_message,
)
from shared.domain.personal import NOT_PERSONAL

_SHA256 = re.compile(r"[0-9a-f]{64}")


class DocumentRef(fields.String):
    """A document held by the documents service, named by its SHA-256 hex digest."""

    default_error_messages: ClassVar[types.ErrorMessages] = {  # type: ignore[misc]  # marshmallow reads it per class, types it per instance
        **FIELD_MESSAGES, "invalid": MUST_BE_DOCUMENT, "invalid_utf8": MUST_BE_DOCUMENT,
    }

    def __init__(self, **kwargs: Any):
        kwargs.setdefault("required", True)
        kwargs["metadata"] = {**NOT_PERSONAL, **kwargs.get("metadata", {})}  # a digest: no one's data in itself
        super().__init__(**kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        digest = super()._deserialize(value, attr, data, **kwargs)
        if not _SHA256.fullmatch(digest):
            raise self.make_error("invalid")
        return digest


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


class Mobile(Text):
    """A mainland China mobile number: 11 digits, `1[3-9]…`.

    Spaces and hyphens are dropped, and a leading +86 / 0086 country code; it loads
    as the bare 11 digits.
    """

    _PATTERN = re.compile(r"1[3-9][0-9]{9}")

    def __init__(self, **kwargs: Any):
        super().__init__(None, **kwargs)

    def _deserialize(  # type: ignore[override]  # as Text's: a blank optional one loads None
        self, value: Any, attr: str | None, data: Any, **kwargs: Any,
    ) -> str | None:
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

    default_error_messages: ClassVar[types.ErrorMessages] = {  # type: ignore[misc]  # marshmallow reads it per class, types it per instance
        **FIELD_MESSAGES, "invalid": MUST_BE_EMAIL, "invalid_utf8": MUST_BE_EMAIL,
    }

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
        kwargs["metadata"] = {**NOT_PERSONAL, **kwargs.get("metadata", {})}  # a unit's code, not a person's
        super().__init__(None, **kwargs)

    def _deserialize(  # type: ignore[override]  # as Text's: a blank optional one loads None
        self, value: Any, attr: str | None, data: Any, **kwargs: Any,
    ) -> str | None:
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
