"""The call definition (shared.domain.call_rules.CallDefinitionSchema) as a form, and back.

One description of the tree (`CALL`) drives three things: the form's flat fields from a
definition (`to_values`), the definition from the posted fields (`to_definition`), and the
widgets the template draws (`widgets`). Field names are the definition's own paths
(`deadlines.province.due`, `open_competition.directions[0].code`), so the service's
per-field refusals land next to the field that caused them. A value the form cannot read
(a quota of "abc") is passed on as typed: the service refuses it by name and the form keeps it.
Objects keyed by a code (regions, a consortium's user-enterprise rules, chains) are rows
with a `_key` field; their refusals are under `regions.<code>.…`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any

from shared.domain.call_rules.levels import LEVELS, SHANGHAI

END_OF_DAY = time(23, 59, 59)
CHAIN_CHOICES = ("province", "city,province")


@dataclass(frozen=True)
class Node:
    key: str
    kind: str  # text, area, text_or_null, int, bool, date, deadline, choice, lines, codes, ints, hidden_int,
    #            section, optional, override, program, rows, keyed, chains
    children: tuple[Node, ...] = ()
    options: tuple[str, ...] = ()  # choice (and a keyed row's key)


def n(key: str, kind: str = "text", *children: Node, options: tuple[str, ...] = ()) -> Node:
    return Node(key, kind, children, options)


def _deadline() -> tuple[Node, ...]:
    return n("due", "deadline"), n("source", "area"), n("note", "area")


def _limit() -> tuple[Node, ...]:
    return n("per_direction_max", "int"), n("in_principle", "bool"), n("source", "area")


USER_RULES = ("reactor_user", "component_or_system_user")

OPEN_COMPETITION = (
    n("announced_category_count", "int"), n("announced_direction_count", "int"), n("counts_source", "area"),
    n("categories", "rows", n("code"), n("name"), n("user_enterprise_rule", "choice", options=USER_RULES),
      n("source", "area"), n("note", "area")),
    n("directions", "rows", n("code"), n("name"), n("category"), n("source", "area"), n("note", "area")),
    n("directions_status", "choice", options=("not_in_notice", "defined")), n("directions_note", "area"),
    n("consortium", "optional", n("allowed", "bool"), n("lead_units", "int"), n("max_other_members", "int"),
      n("lead_files_for_all", "bool"), n("unit_may_join_several_tasks", "bool"),
      Node("user_enterprise_rules", "keyed", (n("min_members", "int"), n("text", "area")), USER_RULES),
      n("source", "area"), n("note", "area")),
    n("shortlist_limit", "optional", *_limit()),
    n("success_limit", "optional", *_limit()),
)

SIGNATURE_PRODUCT = (
    n("domains_open_ended", "bool"), n("domains_source", "area"),
    n("domains", "rows", n("code"), n("name"), n("free_text", "bool"), n("source", "area"), n("note", "area")),
    n("types", "rows", n("code"), n("name"), n("text", "area")), n("types_source", "area"),
    n("success_limit", "optional", n("max", "int"), n("per", "choice", options=("call", "domain")),
      n("source", "area"), n("note", "area")),
    n("success_limit_note", "area"),
)

REGION = (
    n("name"), n("authority"),
    n("forwarding_notice", "optional", n("title"), n("issuer"), n("notice_number", "text_or_null"),
      n("issued_on", "date"), n("source", "area"), n("note", "area")),
    n("city_level_bodies", "area"), n("chain_source", "area"),
    n("deadlines", "section", *(n(level, "override", *_deadline()) for level in LEVELS)),
    n("note", "area"),
)

CALL = (
    n("version", "hidden_int"), n("amended_from", "hidden_int"),
    n("call_id"), n("program", "choice", options=("open_competition", "signature_product")),
    n("year", "int"), n("title"), n("notice_number"), n("issued_on", "date"), n("issued_on_note", "area"),
    n("issuing_bodies", "rows", n("code"), n("name")),
    n("addressees", "lines"),
    n("ministry_recipient", "optional", n("name"), n("email", "text_or_null"), n("source", "area")),
    n("sample", "bool"), n("timezone", "fixed"), n("deadline_reading", "area"), n("note", "area"),
    n("open_competition", "program", *OPEN_COMPETITION),
    n("signature_product", "program", *SIGNATURE_PRODUCT),
    n("eligibility", "rows", n("code"), n("applies_to", "choice", options=(
        "applicant", "applicant_or_consortium", "consortium", "product")), n("text", "area"), n("note", "area")),
    n("chains", "chains"), n("chains_source", "area"), n("chains_note", "area"),
    Node("regions", "keyed", REGION),
    n("deadlines", "section", *(n(level, "section", *_deadline()) for level in LEVELS)),
    n("recommendation_quotas", "optional", n("unit", "choice", options=("product", "application")),
      n("rules", "rows", n("authorities", "choice", options=("province_level", "planned_city")),
        n("authority_codes", "codes"), n("max", "int"), n("source", "area")),
      n("note", "area")),
    n("recommendation_quotas_note", "area"),
    n("public_notice", "section", n("required", "bool"), n("working_days", "int"), n("source", "area"),
      n("note", "area")),
    n("reminder_days", "ints"),
    n("personal_data_retention_days", "int"),
)

SECTIONS = ("section", "optional", "override", "program")
PRESENT = "_present"
ON = "on"


def _join(prefix: str, key: str) -> str:
    return f"{prefix}.{key}" if prefix else key


# -- definition → form fields ------------------------------------------------------------


def to_values(definition: Mapping[str, Any]) -> dict[str, str]:
    values: dict[str, str] = {}
    _put(CALL, definition, "", values)
    return values


def _put(nodes: tuple[Node, ...], obj: Mapping[str, Any], prefix: str, values: dict[str, str]) -> None:
    for node in nodes:
        name, value = _join(prefix, node.key), obj.get(node.key)
        if node.kind in SECTIONS:
            if value is not None:
                values[f"{name}.{PRESENT}"] = ON
                _put(node.children, value, name, values)
        elif node.kind == "rows":
            for i, row in enumerate(value or []):
                _put(node.children, row, f"{name}[{i}]", values)
        elif node.kind == "keyed":
            for i, (code, row) in enumerate((value or {}).items()):
                values[f"{name}[{i}]._key"] = code
                _put(node.children, row, f"{name}[{i}]", values)
        elif node.kind == "chains":
            chains = dict(value or {})
            values[f"{name}.default"] = ",".join(chains.pop("default", []))
            for i, (code, levels) in enumerate(chains.items()):
                values[f"{name}[{i}]._key"], values[f"{name}[{i}].levels"] = code, ",".join(levels)
        elif node.kind == "deadline":
            day, moment = _split_deadline(value)
            values[name], values[f"{name}_time"] = day, moment
        elif node.kind == "bool":
            if value:
                values[name] = ON
        elif node.kind == "lines":
            values[name] = "\n".join(value or [])
        elif node.kind in ("codes", "ints"):
            values[name] = "" if value is None else ", ".join(str(v) for v in value)
        else:
            values[name] = "" if value is None else str(value)


def _split_deadline(value: Any) -> tuple[str, str]:
    """A stored deadline as the date and (unless it is the end of the day) the time it is due."""
    if value is None:
        return "", ""
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        return str(value), ""
    if moment.tzinfo is None:
        return str(value), ""
    local = moment.astimezone(SHANGHAI)
    return local.date().isoformat(), "" if local.time() == END_OF_DAY else local.time().isoformat()


# -- form fields → definition ------------------------------------------------------------


def to_definition(form: Mapping[str, str]) -> dict[str, Any]:
    """The definition the posted fields say; what cannot be read is passed on as typed."""
    values = {k: v.replace("\r\n", "\n") for k, v in form.items()}
    return _take(CALL, values, "")


def _take(nodes: tuple[Node, ...], values: Mapping[str, str], prefix: str) -> dict[str, Any]:
    obj: dict[str, Any] = {}
    for node in nodes:
        name = _join(prefix, node.key)
        raw = values.get(name, "")
        if node.kind == "section":
            obj[node.key] = _take(node.children, values, name)
        elif node.kind == "optional":
            obj[node.key] = _take(node.children, values, name) if values.get(f"{name}.{PRESENT}") else None
        elif node.kind == "override":  # a region's own date for a level, or the call's (the key left out)
            if values.get(f"{name}.{PRESENT}"):
                obj[node.key] = _take(node.children, values, name)
        elif node.kind == "program":
            obj[node.key] = _take(node.children, values, name) if values.get("program") == node.key else None
        elif node.kind == "rows":
            obj[node.key] = [_take(node.children, values, row) for row in _rows(values, name)]
        elif node.kind == "keyed":
            obj[node.key] = {values.get(f"{row}._key", "").strip(): _take(node.children, values, row)
                             for row in _rows(values, name)}
        elif node.kind == "chains":
            chains = {"default": _levels(values.get(f"{name}.default", ""))}
            chains.update({values.get(f"{row}._key", "").strip(): _levels(values.get(f"{row}.levels", ""))
                           for row in _rows(values, name)})
            obj[node.key] = chains
        else:
            obj[node.key] = _leaf(node.kind, raw, values.get(f"{name}_time", ""))
    return obj


def _rows(values: Mapping[str, str], name: str) -> list[str]:
    """The rows of a repeated part, in index order, leaving out the rows left wholly blank
    (the indexes may have gaps where a row was removed)."""
    pattern = re.compile(re.escape(name) + r"\[(\d+)\]\.")
    found: dict[int, bool] = {}
    for key, value in values.items():
        match = pattern.match(key)
        if match:
            index = int(match.group(1))
            found[index] = found.get(index, False) or bool(value.strip())
    return [f"{name}[{i}]" for i in sorted(found) if found[i]]


def _levels(raw: str) -> list[str]:
    return [level for level in raw.split(",") if level]


def _leaf(kind: str, raw: str, moment: str) -> Any:
    if kind == "bool":
        return raw == ON
    if kind in ("int", "hidden_int"):
        text = raw.strip()
        if not text:
            return None
        return int(text) if re.fullmatch(r"-?\d{1,12}", text) else text
    if kind == "deadline":
        return _deadline_value(raw.strip(), moment.strip())
    if kind in ("date", "text_or_null", "choice"):
        return raw.strip() or None
    if kind == "lines":
        return [line.strip() for line in raw.split("\n") if line.strip()]
    if kind in ("codes", "ints"):
        codes = [c for c in re.split(r"[\s,，、]+", raw) if c]
        if kind == "ints":  # what is not a number is kept as typed, for the call's schema to refuse by name
            return [int(c) if re.fullmatch(r"\d{1,6}", c) else c for c in codes] or None
        return codes or None
    return raw


def _deadline_value(day: str, moment: str) -> str | None:
    if not day:
        return None
    try:
        when = time.fromisoformat(moment) if moment else END_OF_DAY
        return datetime.combine(date.fromisoformat(day), when, tzinfo=SHANGHAI).isoformat()
    except ValueError:
        return day if not moment else f"{day}T{moment}"  # the service names what is wrong with it


# -- what the template draws -------------------------------------------------------------


@dataclass
class Widget:
    kind: str
    key: str
    name: str  # the form field's name
    path: str  # where the service puts its refusal of this part
    value: str = ""
    extra: str = ""  # a deadline's time
    errors: list[str] = field(default_factory=list)
    children: list[Widget] = field(default_factory=list)
    rows: list[Widget] = field(default_factory=list)
    blank: Widget | None = None  # a new row's fields (index __i__), for the add button
    options: tuple[str, ...] = ()
    present: bool = False

    @property
    def dom_id(self) -> str:
        return "f-" + re.sub(r"[^A-Za-z0-9_-]", "-", self.name)


def widgets(values: Mapping[str, str], errors: Mapping[str, Any]) -> list[Widget]:
    return _widgets(CALL, values, _messages(errors), "", "")


def walk(drawn: list[Widget]) -> Iterator[Widget]:
    """Every widget of a drawn form, rows and their fields included, in the order drawn."""
    for w in drawn:
        yield w
        yield from walk(w.children)
        for row in w.rows:
            yield row
            yield from walk(row.children)


def _messages(errors: Mapping[str, Any]) -> dict[str, list[str]]:
    return {path: [why] if isinstance(why, str) else [str(w) for w in why] for path, why in errors.items()}


def _widgets(nodes: tuple[Node, ...], values: Mapping[str, str], errors: dict[str, list[str]], prefix: str,
             path_prefix: str) -> list[Widget]:
    made = []
    for node in nodes:
        name, path = _join(prefix, node.key), _join(path_prefix, node.key)
        w = Widget(node.kind, node.key, name, path, values.get(name, ""), values.get(f"{name}_time", ""),
                   errors.get(path, []), options=node.options)
        if node.kind in SECTIONS:
            w.present = bool(values.get(f"{name}.{PRESENT}")) or node.kind == "section"
            w.children = _widgets(node.children, values, errors, name, path)
        elif node.kind in ("rows", "keyed", "chains"):
            w.rows = [_row(node, values, errors, row, path) for row in _rows(values, name)]
            w.blank = _row(node, {}, {}, f"{name}[__i__]", path)
            if node.kind == "chains":
                w.children = [Widget("choice", "default", f"{name}.default", f"{path}.default",
                                     values.get(f"{name}.default", ""), errors=errors.get(f"{path}.default", []),
                                     options=CHAIN_CHOICES)]
        made.append(w)
    return made


def _row(node: Node, values: Mapping[str, str], errors: dict[str, list[str]], row: str, path: str) -> Widget:
    code = values.get(f"{row}._key", "").strip()
    # A list's row is refused at `list[i]`; a keyed object's at `object.<code>`.
    index = row[row.rindex("[") + 1:-1]
    row_path = f"{path}[{index}]" if node.kind == "rows" else f"{path}.{code}"
    w = Widget("row", node.key, row, row_path, errors=errors.get(row_path, []) if code or node.kind == "rows" else [])
    if node.kind in ("keyed", "chains"):
        key_kind = "choice" if node.options else "text"
        w.children.append(Widget(key_kind, "_key", f"{row}._key", row_path, code, options=node.options))
    if node.kind == "chains":
        w.children.append(Widget("choice", "levels", f"{row}.levels", row_path, values.get(f"{row}.levels", ""),
                                 options=CHAIN_CHOICES))
    else:
        w.children += _widgets(node.children, values, errors, row, row_path)
    return w
