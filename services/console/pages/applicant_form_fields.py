"""An application form as HTML fields, generated from the call's JSON Schema (GET
/intake/calls/<id>/form), and the posted fields read back into the JSON the service loads.

A field's `name` is its path as the service names it in a refusal (`product.ip_items[2].name`,
shared.domain.validation.flatten_messages), so a refusal finds its field by name alone.

Characters are counted as the domain counts them (shared/domain/forms/fields.py): the text
stripped of surrounding whitespace, one character per Unicode code point (Python's `len`), so
one Chinese character is one. Browsers send a textarea's line breaks as CRLF; they are read
back as LF, the one character the browser's own `value` (and form.js's count) sees.

The schema names no conditions (its rules are checked on submission), so which parts apply
when is `SHOW_WHEN` below, taken from the rules in shared/domain/forms.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

# (schema component, property) -> (sibling property, the values that show it). "true" is a
# checked box. The free-text domains of a 标志性产品 call come from the call: `FREE_TEXT`.
FREE_TEXT = "*free-text*"
SHOW_WHEN: dict[tuple[str, str], tuple[str, tuple[str, ...]]] = {
    ("SignatureProductApplicant", "unit_nature_other"): ("unit_nature", ("other",)),
    ("SignatureProductApplicant", "stock_code"): ("listed", ("true",)),
    ("SignatureProductApplicant", "stock_exchange"): ("listed", ("true",)),
    ("SignatureProductApplicant", "listed_on"): ("listed", ("true",)),
    ("SignatureProductDetails", "domain_other"): ("domain", (FREE_TEXT,)),
    ("SignatureProductDetails", "admin_licence_category"): ("needs_admin_licence", ("true",)),
    ("SignatureProductDetails", "admin_licence_number"): ("needs_admin_licence", ("true",)),
    ("SignatureProductDetails", "admin_licence_evidence"): ("needs_admin_licence", ("true",)),
    ("SignatureProductDetails", "pilot_verification"): ("stage", ("early_commercial",)),
    ("SignatureProductDetails", "export_volume_last_year_tonnes"): ("exports", ("true",)),
    ("SignatureProductIpItem", "kind_other"): ("kind", ("other",)),
    ("Unit", "cas_institute"): ("kind", ("research_institute",)),
    ("Unit", "user_enterprise"): ("kind", ("enterprise",)),
    ("Unit", "user_of"): ("user_enterprise", ("true",)),
}
# Rows a list may have where the schema leaves the bound to a rule (220号 二(一): four members).
MAX_ROWS = {("Application", "members"): 4}
LONG_TEXT = 200  # a text allowed more characters than a one-line entry is a textarea


def count_chars(text: str | None) -> int:
    """Characters as the domain counts them (see the module docstring)."""
    return len((text or "").replace("\r\n", "\n").strip())


@dataclass
class Field:
    path: str  # the form field's name, and the refusal's path
    name: str  # the schema property
    component: str  # the schema component the property belongs to
    kind: str  # text textarea number integer date email select checkbox checkboxes evidence group list
    required: bool = False
    max_length: int | None = None
    enum: list[Any] = field(default_factory=list)
    value: Any = None
    children: list[Field] = field(default_factory=list)  # a group's fields, or a list's rows
    min_items: int = 0
    max_items: int | None = None
    show_when: tuple[str, tuple[str, ...]] | None = None  # (the sibling's path, values)

    @property
    def id(self) -> str:
        return "f-" + re.sub(r"[^A-Za-z0-9_-]", "-", self.path)

    @property
    def count(self) -> int:
        return count_chars(self.value if isinstance(self.value, str) else "")

    @property
    def label_keys(self) -> tuple[str, str]:
        return (f"form.{self.component}.{self.name}", f"form.{self.name}")

    def walk(self):
        yield self
        for child in self.children:
            yield from child.walk()


class Schema:
    """The call's form schema (`json_schema` of GET /intake/calls/<id>/form) with `$ref`s resolved."""

    def __init__(self, document: Mapping[str, Any], free_text: tuple[str, ...] = ()):
        self.components = document["components"]["schemas"]
        self.top = self._name(document["$ref"])
        self.free_text = free_text

    @staticmethod
    def _name(ref: str) -> str:
        return ref.rsplit("/", 1)[-1]

    def _resolve(self, prop: Mapping[str, Any]) -> tuple[str | None, Mapping[str, Any]]:
        if "$ref" in prop:
            name = self._name(prop["$ref"])
            return name, self.components[name]
        return None, prop

    # -- schema + values -> fields ---------------------------------------------------

    def fields(self, values: Mapping[str, Any] | None) -> list[Field]:
        return self._object(self.top, self.components[self.top], "", values or {})

    def _object(self, component: str, schema: Mapping[str, Any], prefix: str, values: Any) -> list[Field]:
        values = values if isinstance(values, Mapping) else {}
        required = set(schema.get("required", ()))
        out = []
        for name, prop in schema.get("properties", {}).items():
            path = f"{prefix}.{name}" if prefix else name
            made = self._field(component, name, prop, path, values.get(name), name in required)
            rule = SHOW_WHEN.get((component, name))
            if rule is not None:
                sibling, wanted = rule
                shown = tuple(v for w in wanted for v in (self.free_text if w == FREE_TEXT else (w,)))
                made.show_when = (f"{prefix}.{sibling}" if prefix else sibling, shown)
            out.append(made)
        return out

    def _field(self, component: str, name: str, prop: Mapping[str, Any], path: str, value: Any,
               required: bool) -> Field:
        nested, prop = self._resolve(prop)
        made = Field(path, name, component, "text", required=required, value=value)
        if nested is not None or prop.get("type") == "object":
            made.kind = "group"
            made.children = self._object(nested or component, prop, path, value)
        elif prop.get("type") == "array":
            self._list(made, prop, value)
        elif prop.get("type") == "boolean":
            made.kind = "checkbox"
        elif "enum" in prop:
            made.kind, made.enum = "select", list(prop["enum"])
        elif prop.get("type") in ("number", "integer"):
            made.kind = prop["type"]
        elif prop.get("format") in ("date", "email"):
            made.kind = prop["format"]
        elif is_document(name):
            made.kind = "evidence"
        else:
            made.max_length = prop.get("maxLength")
            made.kind = "textarea" if (made.max_length or 0) > LONG_TEXT else "text"
        return made

    def _list(self, made: Field, prop: Mapping[str, Any], value: Any) -> None:
        made.kind = "list"
        made.min_items = prop.get("minItems", 0)
        made.max_items = prop.get("maxItems", MAX_ROWS.get((made.component, made.name)))
        nested, item = self._resolve(prop.get("items", {}))
        if "enum" in item:  # a choice of several codes (user_of): a box per code
            made.kind, made.enum = "checkboxes", list(item["enum"])
            made.value = list(value) if isinstance(value, list) else []
            return
        rows = list(value) if isinstance(value, list) else []
        if not rows and (made.min_items or nested is None):
            rows = [None]  # one row to type into: a required list, or a list of lines
        for i, row in enumerate(rows):
            row_field = self._field(nested or made.component, made.name, item, f"{made.path}[{i}]", row, True)
            if is_document(made.name):
                row_field.kind = "evidence"
            made.children.append(row_field)

    # -- posted fields -> JSON -----------------------------------------------------------

    def parse(self, form: Any, *, keep_blank_rows: bool = False) -> dict[str, Any]:
        """The application the posted `form` (a werkzeug MultiDict) holds. Blank rows of a
        list are left out, unless `keep_blank_rows` (to show the form again as it was)."""
        return self._parse_object(self.components[self.top], "", form, keep_blank_rows)

    def _parse_object(self, schema: Mapping[str, Any], prefix: str, form: Any, keep: bool) -> dict[str, Any]:
        out = {}
        for name, prop in schema.get("properties", {}).items():
            path = f"{prefix}.{name}" if prefix else name
            value = self._parse(name, prop, path, form, keep)
            if value is not _ABSENT:
                out[name] = value
        return out

    def _parse(self, name: str, prop: Mapping[str, Any], path: str, form: Any, keep: bool) -> Any:
        nested, prop = self._resolve(prop)
        if nested is not None or prop.get("type") == "object":
            return self._parse_object(prop, path, form, keep)
        if prop.get("type") == "array":
            _, item = self._resolve(prop.get("items", {}))
            if "enum" in item:
                return [v for v in form.getlist(path) if v]
            rows = [self._parse(name, item, f"{path}[{i}]", form, keep) for i in _indices(form, path)]
            return [r for r in rows if keep or not _blank(r)]
        if prop.get("type") == "boolean":
            # Each box posts a hidden "false" before it: nothing at all means it was not shown.
            posted = form.getlist(path)
            return "true" in posted if posted else _ABSENT
        text = form.get(path)
        if text is None and path not in form:
            # Not posted: a part that does not apply (form.js disables it) or not on the page.
            return None if prop.get("nullable") or prop.get("type") == "integer" else _ABSENT
        text = text.replace("\r\n", "\n")
        if not text.strip():
            return None if prop.get("nullable") or prop.get("type") == "integer" else ""
        if prop.get("type") == "integer" and re.fullmatch(r"\s*-?\d+\s*", text):
            return int(text)
        return text


_ABSENT = object()


def _indices(form: Any, path: str) -> list[int]:
    """The row numbers posted for the list at `path` (`path[3]`, `path[3].name`, ...), in order."""
    pattern = re.compile(re.escape(path) + r"\[(\d+)\]")
    return sorted({int(m.group(1)) for key in form for m in [pattern.match(key)] if m})


def _blank(value: Any) -> bool:
    if isinstance(value, Mapping):
        # A row whose only values are unchecked boxes was left untouched.
        return all(_blank(v) or v is False for v in value.values())
    if isinstance(value, list):
        return all(_blank(v) for v in value)
    return value is None or value == "" or value is _ABSENT


def is_document(name: str) -> bool:
    """The fields that hold documents (shared.domain.named_documents.document_references)."""
    return name == "seal" or name == "evidence" or name.endswith("_evidence")


def flatten(values: Any, prefix: str = "") -> list[tuple[str, Any]]:
    """An application as (form field name, value) pairs: what a browser would post for it."""
    if isinstance(values, Mapping):
        return [pair for k, v in values.items() for pair in flatten(v, f"{prefix}.{k}" if prefix else k)]
    if isinstance(values, list):
        if all(isinstance(v, str) for v in values) and prefix.rsplit(".", 1)[-1] in ("user_of",):
            return [(prefix, v) for v in values]
        return [pair for i, v in enumerate(values) for pair in flatten(v, f"{prefix}[{i}]")]
    if isinstance(values, bool):
        return [(prefix, "true" if values else "false")]
    return [(prefix, "" if values is None else str(values))]


def edit_rows(values: dict[str, Any], op: str) -> None:
    """`add:<list path>` appends a blank row, `remove:<row path>` drops that row (in place)."""
    action, _, path = op.partition(":")
    match = re.fullmatch(r"(.+)\[(\d+)\]", path) if action == "remove" else None
    target = match.group(1) if match else path
    node: Any = values
    parts = re.findall(r"[^.\[\]]+|\[\d+\]", target)
    for part in parts:
        key: Any = int(part[1:-1]) if part.startswith("[") else part
        if isinstance(node, dict) and isinstance(key, str):
            node = node.setdefault(key, [] if part is parts[-1] else {})
        elif isinstance(node, list) and isinstance(key, int) and key < len(node):
            node = node[key]
        else:
            return
    if not isinstance(node, list):
        return
    if action == "add":
        node.append(None)
    elif match and int(match.group(2)) < len(node):
        del node[int(match.group(2))]
