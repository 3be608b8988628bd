"""docs/rules.md, the map of the notices' rules, held to the code.

Every function and test the page names exists; every rule row names the one function that enforces
it and a test that proves it, or says plainly that the rule is not enforced, why, and what the
platform does instead; the "start here" rows agree with the rules they point to; every quotation is
the notices' own text. A failure names the row (its id, clause and line) and what is missing, so that
whoever moves code knows which reference to re-point.
"""

from __future__ import annotations

import ast
import importlib
import os
import re
import types
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PAGE = ROOT / "docs" / "rules.md"
# The notices in Chinese live beside the checkout (../shared/seeds), outside the repository.
SEEDS = Path(os.environ.get("CASEPLATFORM_SEEDS", ROOT.parent / "shared" / "seeds"))

RULE_COLUMNS = ("Rule", "Clause", "The notice says", "Enforced by", "Also involved", "Proved by")
START_COLUMNS = ("Start here", "Rule", "Enforced by", "Proved by")
TOPIC_COLUMNS = ("Topic", "Rules")
NOTICES = ("220号", "382号", "湖北转发")
NOT_ENFORCED = "**Not enforced**:"
# What issue #16 says a newcomer must find in one look.
MUST_START_HERE = {"quota-province", "quota-planned-city", "consortium-lead", "consortium-size", "user-enterprise",
                   "public-notice-10-days", "shortlist-per-direction"}

FUNCTION = re.compile(r"`([A-Za-z_][\w.]*):([A-Za-z_][\w.]*)`")
TEST = re.compile(r"`(tests/[\w/]+\.py)::([A-Za-z_]\w*(?:::[A-Za-z_]\w*)?)`")
RULE_ID = re.compile(r"\*\*([a-z0-9]+(?:-[a-z0-9]+)*)\*\*")
SEPARATOR = re.compile(r"\|(\s*:?-+:?\s*\|)+")
_WIDTH = str.maketrans({"（": "(", "）": ")", "，": ",", "：": ":", "；": ";"})


@dataclass(frozen=True)
class Row:
    line: int
    header: tuple[str, ...]
    cells: tuple[str, ...]

    def __getitem__(self, column: str) -> str:
        # Not strict: a row with a cell too many or too few is what the cell-count check
        # reports, naming the row through this (str(row) reads its Clause).
        return dict(zip(self.header, self.cells, strict=False)).get(column, "")

    @property
    def rule_id(self) -> str:
        found = RULE_ID.match(self["Rule"])
        return found.group(1) if found else ""

    def __str__(self) -> str:
        return f"row {self.rule_id or '(no id)'} ({self['Clause'] or 'no clause'}, docs/rules.md line {self.line})"


@cache
def tables() -> tuple[Row, ...]:
    """Every row of every table on the page, with its table's header."""
    lines = PAGE.read_text(encoding="utf-8").splitlines()
    rows: list[Row] = []
    header: tuple[str, ...] | None = None
    for number, line in enumerate(lines, start=1):
        if not line.startswith("|"):
            header = None
        elif header is None and number < len(lines) and SEPARATOR.fullmatch(lines[number].strip()):
            header = _cells(line)
        elif header is not None and not SEPARATOR.fullmatch(line.strip()):
            rows.append(Row(number, header, _cells(line)))
    return tuple(rows)


def _cells(line: str) -> tuple[str, ...]:
    return tuple(cell.strip() for cell in line.strip().strip("|").split("|"))


def rows_of(columns: tuple[str, ...]) -> list[Row]:
    return [row for row in tables() if row.header == columns]


def rules() -> dict[str, Row]:
    return {row.rule_id: row for row in rows_of(RULE_COLUMNS)}


def where(line: int) -> str:
    """The rule row on `line`, or the line itself."""
    row = next((r for r in tables() if r.line == line), None)
    return str(row) if row is not None and row.header == RULE_COLUMNS else f"docs/rules.md line {line}"


def resolve(module: str, qualname: str) -> tuple[object | None, str]:
    """The object `module:qualname` names, or None and why it cannot be found."""
    try:
        found: object = importlib.import_module(module)
    except Exception as exc:  # noqa: BLE001 - reported with the row that names it
        return None, f"module {module} cannot be imported ({type(exc).__name__}: {exc})"
    walked = module
    for part in qualname.split("."):
        if not hasattr(found, part):
            return None, f"{walked} has no attribute {part!r}"
        found, walked = getattr(found, part), f"{walked}.{part}"
        if walked == f"{module}.{part}":
            # The page names where a rule lives, not a module that merely imports it.
            home = getattr(found, "__module__", module)
            if isinstance(found, (type, types.FunctionType)) and home != module:
                return None, f"{module} only imports {part}; it is defined in {home}"
    return found, ""


@cache
def defined_tests(path: str) -> frozenset[str] | None:
    """The test functions of a file, module-level and `Class::method`, by name; None if there is no file."""
    file = ROOT / path
    if not file.is_file():
        return None
    tree = ast.parse(file.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            names.add(node.name)
        elif isinstance(node, ast.ClassDef):
            names.update(f"{node.name}::{item.name}" for item in node.body
                         if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)))
    return frozenset(names)


def normal(text: str) -> str:
    return re.sub(r"\s+", "", text).translate(_WIDTH)


def _refs(functions: list[tuple[str, str]]) -> str:
    return ", ".join(f"`{module}:{qualname}`" for module, qualname in functions) or "no function"


def _report(problems: list[str], what: str) -> str:
    return f"docs/rules.md {what}:\n" + "\n".join(f"  - {p}" for p in problems)


# -- the page's shape ----------------------------------------------------------------------------------


def test_every_rule_row_has_an_id_of_its_own_and_a_clause_of_a_notice():
    problems = []
    seen: dict[str, int] = {}
    for row in rows_of(RULE_COLUMNS):
        if len(row.cells) != len(RULE_COLUMNS):
            problems.append(f"{row}: {len(row.cells)} cells, not {len(RULE_COLUMNS)} (a '|' inside a cell?)")
        if not row.rule_id:
            problems.append(f"{row}: the Rule cell does not start with its **id**")
        elif row.rule_id in seen:
            problems.append(f"{row}: id {row.rule_id} is already the id of the row on line {seen[row.rule_id]}")
        seen.setdefault(row.rule_id, row.line)
        if not all(part.startswith(NOTICES) for part in row["Clause"].split(" · ")):
            problems.append(f"{row}: the clause {row['Clause']!r} does not start with one of {', '.join(NOTICES)}")
    assert len(seen) >= 50, f"docs/rules.md lists {len(seen)} rules: is the page's table header still {RULE_COLUMNS}?"
    assert not problems, _report(problems, "has malformed rule rows")


# -- what it names exists --------------------------------------------------------------------------------


def test_every_function_the_page_names_exists():
    problems = []
    for number, line in enumerate(PAGE.read_text(encoding="utf-8").splitlines(), start=1):
        for module, qualname in FUNCTION.findall(line):
            found, why = resolve(module, qualname)
            if found is None:
                problems.append(f"{where(number)}: `{module}:{qualname}` does not exist: {why}")
    assert not problems, _report(problems, "names functions that no longer exist (re-point them)")


def test_every_test_the_page_names_exists():
    problems = []
    for number, line in enumerate(PAGE.read_text(encoding="utf-8").splitlines(), start=1):
        for path, name in TEST.findall(line):
            names = defined_tests(path)
            if names is None:
                problems.append(f"{where(number)}: `{path}::{name}`: there is no file {path}")
            elif name not in names:
                problems.append(f"{where(number)}: `{path}::{name}`: {path} has no function {name}")
            elif not name.rpartition("::")[2].startswith("test"):
                problems.append(f"{where(number)}: `{path}::{name}` is not a test (its name does not start with test)")
    assert not problems, _report(problems, "names tests that no longer exist (re-point them)")


# -- every rule is enforced and proved, or says why not ----------------------------------------------------


def test_every_rule_row_names_the_function_that_enforces_it_and_a_test_that_proves_it():
    problems = []
    for row in rows_of(RULE_COLUMNS):
        enforced, also, proved = row["Enforced by"], row["Also involved"], row["Proved by"]
        functions = FUNCTION.findall(enforced)
        if enforced.startswith(NOT_ENFORCED):
            if len(enforced[len(NOT_ENFORCED):].strip()) < 10:
                problems.append(f"{row}: marked not enforced without a reason")
            if functions:
                problems.append(f"{row}: marked not enforced yet names an enforcing function; what the platform "
                                "does instead goes under Also involved")
            if not also:
                problems.append(f"{row}: marked not enforced without saying what the platform does instead")
            continue
        if len(functions) != 1 or not enforced.startswith("`"):
            problems.append(f"{row}: Enforced by must start with the one enforcing function as `module:Qualified.name` "
                            f"(found {len(functions)}), or with {NOT_ENFORCED} and a reason")
        else:
            found, _ = resolve(*functions[0])
            if found is not None and not callable(found):
                problems.append(f"{row}: `{':'.join(functions[0])}` is not a function or class")
        if not TEST.search(proved):
            problems.append(f"{row}: no test proves it (Proved by names none as `tests/path.py::test_name`)")
    assert not problems, _report(problems, "has rules without their function or test")


def test_the_start_here_rows_agree_with_the_rules_they_point_to():
    known, problems = rules(), []
    start = rows_of(START_COLUMNS)
    for row in start:
        rule = known.get(row["Rule"])
        if rule is None:
            problems.append(f"start here, line {row.line}: no rule row has the id {row['Rule']!r}")
            continue
        named, enforcing = FUNCTION.findall(row["Enforced by"]), FUNCTION.findall(rule["Enforced by"])[:1]
        if named != enforcing:
            problems.append(f"start here, line {row.line}: names {_refs(named)} for {row['Rule']}; "
                            f"its {rule} names {_refs(enforcing)}")
        tests = TEST.findall(row["Proved by"])
        if not tests or not set(tests) <= set(TEST.findall(rule["Proved by"])):
            problems.append(f"start here, line {row.line}: its tests must be among those of {rule}")
    missing = MUST_START_HERE - {row["Rule"] for row in start}
    if missing:
        problems.append(f"start here lacks {', '.join(sorted(missing))}")
    assert not problems, _report(problems, "start here disagrees with its rules")


def test_every_topic_names_rules_of_the_page():
    known = rules()
    problems = [f"topic {row['Topic']!r} (line {row.line}): no rule row has the id {rule_id!r}"
                for row in rows_of(TOPIC_COLUMNS) for rule_id in map(str.strip, row["Rules"].split(","))
                if rule_id not in known]
    assert rows_of(TOPIC_COLUMNS) and not problems, _report(problems, "topics name unknown rules")


# -- the notices' own words ----------------------------------------------------------------------------------


def test_every_quotation_is_in_the_notices_text():
    seeds = sorted(SEEDS.glob("*.txt")) if SEEDS.is_dir() else []
    if not seeds:
        pytest.skip(f"the notice texts are not at {SEEDS} (set CASEPLATFORM_SEEDS)")
    notices = "".join(normal(seed.read_text(encoding="utf-8")) for seed in seeds)
    problems = [f"{row}: {passage!r} is not in the notices' text"
                for row in rows_of(RULE_COLUMNS) for passage in row["The notice says"].split("……")
                if not passage.strip() or normal(passage) not in notices]
    assert not problems, _report(problems, "quotes what the notices do not say")
