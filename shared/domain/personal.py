"""Which fields hold personal information (个人信息, PIPL), declared once where each field is defined.

A string field of a form, a call definition or a request body says what it holds in its
marshmallow metadata, under `personal`:

- `NOT_PERSONAL` (`{"personal": None}`): no person's data (a product's name, a reason, a code);
- `person(kind)` on a nested object, or on a list of them: each object is ONE data subject of
  that kind (a contact, an expert, a signatory); its string fields are then `PERSONAL`;
- `PERSONAL` (`{"personal": OF_SUBJECT}`): the data of the data subject whose object encloses it;
- `person(kind)` on a string field: the value is a person's data and the person is the field
  itself (the legal representative named in one text box).

Some fields cannot hold a person's data by what they are, and need no mark: codes from a fixed
set (`Code`, `validate.OneOf`, `validate.Equal`), document digests, credit codes, identifiers
matched by a pattern that admits no free text (see `_identifier_pattern`).

`tests/unit/test_personal_fields.py` walks every schema the platform loads and fails on a string
field that says neither; `personal_paths(schema, data)` lists, for a loaded document, where its
personal data is and whose it is: what crypto-shredding, erasure, retention and access records
(issue #21) work from.

Events say the same of their own attributes in `personal_fields` (shared.domain.case.events):
a kind, `None`, or `BY_SCHEMA` for a document whose fields the schema it was loaded with classifies.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from marshmallow import Schema, fields, validate

PERSONAL_KEY = "personal"

# -- kinds of data subject ------------------------------------------------------------------------

CONTACT = "contact"  # 申请表 封面 联系人 (contact_1, contact_2)
LEGAL_REPRESENTATIVE = "legal_representative"  # 申请单位信息 法定代表人
EXPERT = "expert"  # a panel's expert: name, token subject
AUTHORITY_CONTACT = "authority_contact"  # the official a province names on the 推荐汇总表
SIGNATORY = "signatory"  # a person who signed a task book
ACTOR = "actor"  # the person who did something (a token subject on every event)
DOCUMENT_AUTHOR = "document_author"  # a file's name, as uploaded: may name a person
DATA_SUBJECT = "data_subject"  # a person asking what the platform holds about them (their name, mobile, e-mail)

KEPT_IN_CLEAR = frozenset({ACTOR})
"""Kinds whose values are never sealed: an account's token subject is who did what on every event
(a pseudonym the identity provider maps to a person), and decisions are taken on it."""

SUBJECT_KINDS = frozenset({CONTACT, LEGAL_REPRESENTATIVE, EXPERT, AUTHORITY_CONTACT, SIGNATORY,
                           ACTOR, DOCUMENT_AUTHOR, DATA_SUBJECT})

OF_SUBJECT = "of_subject"
"""The value belongs to the data subject of the enclosing object."""

BY_SCHEMA = "by_schema"
"""An event's document attribute (the application, a task book): its schema classifies its fields."""

NOT_PERSONAL: dict[str, Any] = {PERSONAL_KEY: None}
OFFICE_KEY = "office"
OFFICE: dict[str, Any] = {PERSONAL_KEY: None, OFFICE_KEY: True}
"""An office's own name or mailbox as a notice publishes it (the ministry's 接收单位 and its 邮箱):
no person's, though it is an e-mail address."""
PERSONAL: dict[str, Any] = {PERSONAL_KEY: OF_SUBJECT}


def classified(**attributes: str | None) -> Mapping[str, str | None]:
    """An event class's `personal_fields`: for each attribute it declares, a kind of data subject,
    `None` (no one's data), or `BY_SCHEMA`."""
    for name, value in attributes.items():
        if value is not None and value != BY_SCHEMA and value not in SUBJECT_KINDS:
            raise ValueError(f"{name}: {value!r} is neither a kind of data subject, None nor BY_SCHEMA")
    return MappingProxyType(attributes)


def person(kind: str) -> dict[str, Any]:
    """Metadata of a field holding one data subject of `kind` (an object, a list of them, or a text)."""
    if kind not in SUBJECT_KINDS:
        raise ValueError(f"unknown kind of data subject {kind!r}; add it to shared.domain.personal")
    return {PERSONAL_KEY: kind}


# -- classification -----------------------------------------------------------------------------

_LITERAL_CLASS = re.compile(r"\[[A-Za-z0-9_.\-]*\]")
_IDENTIFIER = re.compile(r"\^?[A-Za-z0-9_\-{},|()C]*\$?")


_A_MOBILE = "13800138000"


def _identifier_pattern(validator: validate.Regexp) -> bool:
    """A pattern of letters, digits, '_', '.' and '-' in bounded runs (a digest, a code): no free
    text. A pattern a mobile number matches is a phone's, whatever its shape: never one of these."""
    pattern = getattr(validator.regex, "pattern", "")
    if not isinstance(pattern, str) or re.search(pattern, _A_MOBILE):
        return False
    return bool(_IDENTIFIER.fullmatch(_LITERAL_CLASS.sub("C", pattern).replace("\\d", "C")))


def classification(field: fields.Field[Any]) -> tuple[bool, str | None]:
    """(classified, value): the field's declared `personal`, or `(True, None)` for a field that
    cannot hold a person's data by what it is; `(False, None)` when nothing says."""
    if PERSONAL_KEY in field.metadata:
        value = field.metadata[PERSONAL_KEY]
        return True, value if isinstance(value, str) else None
    if isinstance(field, fields.UUID):
        return True, None
    for validator in field.validators:
        if isinstance(validator, (validate.OneOf, validate.Equal)):
            return True, None
        if isinstance(validator, validate.Regexp) and _identifier_pattern(validator):
            return True, None
    return False, None


def holds_text(field: fields.Field[Any]) -> bool:
    """A field whose value is (or may be) a string chosen by whoever sends it."""
    free_content = type(field) in (fields.Raw, fields.Dict) and getattr(field, "value_field", None) is None
    return isinstance(field, fields.String) or free_content


def nested_schema(field: fields.Field[Any]) -> Schema | None:
    if isinstance(field, fields.Nested):
        schema = field.schema
        return schema if isinstance(schema, Schema) else None
    return None


@dataclass(frozen=True)
class Unclassified:
    path: str
    why: str


def unclassified_fields(schema: Schema, prefix: str = "", subject: str | None = None,
                        seen: frozenset[int] = frozenset()) -> list[Unclassified]:
    """Every string field under `schema` that says nothing of personal data, or says it wrongly
    (`PERSONAL` outside a data subject; a mobile or an e-mail address not personal).

    A schema whose whole body is one person says so once: `personal_subject = <kind>` on its class."""
    subject = subject or getattr(schema, "personal_subject", None)
    if id(type(schema)) in seen:
        return []
    seen = seen | {id(type(schema))}
    found: list[Unclassified] = []
    for name, field in schema.fields.items():
        found += _unclassified(field, f"{prefix}{name}", subject, seen)
    return found


def _unclassified(field: fields.Field[Any], path: str, subject: str | None,
                  seen: frozenset[int]) -> list[Unclassified]:
    classified, value = classification(field)
    if value in SUBJECT_KINDS:
        subject = value
    if value == BY_SCHEMA:
        return []  # a document (an application) whose own schema classifies it, walked on its own
    if isinstance(field, fields.List):
        return _unclassified_inner(field.inner, f"{path}[]", subject, seen, classified and value in SUBJECT_KINDS)
    if isinstance(field, fields.Dict) and field.value_field is not None:
        return _unclassified_inner(field.value_field, f"{path}{{}}", subject, seen, False)
    nested = nested_schema(field)
    if nested is not None:
        return unclassified_fields(nested, f"{path}.", subject, seen)
    if not holds_text(field):
        return []
    if not classified:
        return [Unclassified(path, "a string field says nothing of personal data: "
                                   "add metadata=NOT_PERSONAL, PERSONAL or person(kind)")]
    if value == OF_SUBJECT and subject is None:
        return [Unclassified(path, "PERSONAL outside any data subject: mark the enclosing object person(kind)")]
    if value is None and _names_a_person(field) and not field.metadata.get(OFFICE_KEY):
        return [Unclassified(path, "a mobile number or an e-mail address is always a person's")]
    return []


def _unclassified_inner(inner: fields.Field[Any], path: str, subject: str | None, seen: frozenset[int],
                        marked: bool) -> list[Unclassified]:
    if marked and PERSONAL_KEY not in inner.metadata and not isinstance(inner, fields.Nested):
        return []  # a list of texts marked as a whole: each entry is the subject's
    return _unclassified(inner, path, subject, seen)


def _names_a_person(field: fields.Field[Any]) -> bool:
    return isinstance(field, fields.Email) or type(field).__name__ == "Mobile"


# -- where a loaded document holds personal data --------------------------------------------------


@dataclass(frozen=True)
class PersonalValue:
    """One personal value of a document: `path` ("cover.contact_1.mobile"), the `kind` of its data
    subject, and `subject`, the path of the object (or field) that is that subject ("cover.contact_1")."""

    path: str
    kind: str
    subject: str


def personal_paths(schema: Schema, data: Mapping[str, Any]) -> list[PersonalValue]:
    """Where `data`, loaded (or dumped) with `schema`, holds personal data, and whose it is
    (the subject of a schema that is one person, `personal_subject`, is the whole document: "")."""
    kind = getattr(schema, "personal_subject", None)
    return list(_walk_schema(schema, data, "", (kind, "") if kind else None))


def _walk_schema(schema: Schema, data: Any, prefix: str,
                 subject: tuple[str, str] | None) -> Sequence[PersonalValue]:
    if not isinstance(data, Mapping):
        return []
    found: list[PersonalValue] = []
    for name, field in schema.fields.items():
        key = field.data_key or name
        if key in data and data[key] is not None:
            found += _walk_field(field, data[key], f"{prefix}{key}", subject)
    return found


def _walk_field(field: fields.Field[Any], value: Any, path: str,
                subject: tuple[str, str] | None) -> Sequence[PersonalValue]:
    _, marked = classification(field)
    if marked in SUBJECT_KINDS:
        subject = (marked, path)
    if isinstance(field, fields.List) and isinstance(value, list):
        found: list[PersonalValue] = []
        for index, item in enumerate(value):
            item_subject = (subject[0], f"{path}.{index}") if marked in SUBJECT_KINDS and subject else subject
            found += _walk_field(field.inner, item, f"{path}.{index}", item_subject)
        return found
    nested = nested_schema(field)
    if nested is not None:
        return _walk_schema(nested, value, f"{path}.", subject)
    if isinstance(value, str) and value and subject is not None and (
            marked == OF_SUBJECT or marked in SUBJECT_KINDS or subject[1] == path):
        return [PersonalValue(path, subject[0], subject[1])]
    return []


def event_personal_fields(event_class: type) -> dict[str, str | None]:
    """The classification of every attribute an event class carries, its bases' included."""
    merged: dict[str, str | None] = {}
    for cls in reversed(event_class.__mro__):
        merged.update(vars(cls).get("personal_fields", {}))
    return merged


def comparable(text: str) -> str:
    """A person's name, mobile or e-mail as a person's copy compares them: width, spaces, hyphens and
    case do not tell two writings of the same value apart."""
    return unicodedata.normalize("NFKC", text).replace(" ", "").replace("-", "").casefold()
