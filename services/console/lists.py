"""Lists people work through: filtered and sorted by the query string, exported as CSV or
xlsx exactly as filtered. One shape for every list page (calls, cases, inbox, milestones,
assignments...), so a filter or an export works the same everywhere.

A page builds a `Listing` from the rows a service gave and the columns it shows; the
template macro `listing()` in _lists.html draws the filter form, sortable headings,
export links and (when the page has batch actions) a checkbox per row."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from openpyxl import Workbook

EXPORTS = {"csv": "text/csv; charset=utf-8",
           "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


@dataclass(frozen=True)
class Column:
    key: str  # the row's key (dotted for nested values: "applicant.name")
    label: str  # a word key (i18n) for the heading
    filter: str = ""  # "" none, "choice" (a select of the values present), "text" (contains), "date" (on/before)
    value: Callable[[Mapping[str, Any]], Any] | None = None  # a computed column (days left, a count)
    # How a value is shown and exported (a state's words); filters and sorting keep the value itself.
    display: Callable[[Any], str] | None = None

    def shown(self, value: Any) -> str:
        return self.display(value) if self.display is not None else _text(value)

    def of(self, row: Mapping[str, Any]) -> Any:
        if self.value is not None:
            return self.value(row)
        found: Any = row
        for part in self.key.split("."):
            found = found.get(part) if isinstance(found, Mapping) else None
        return found


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, (list, tuple)):
        return "; ".join(_text(v) for v in value)
    return str(value)


@dataclass
class Listing:
    rows: list[Mapping[str, Any]]
    columns: Sequence[Column]
    args: Mapping[str, str] = field(default_factory=dict)  # the request's query string
    id_key: str = "case_id"  # what a batch action's checkbox carries

    @property
    def sort(self) -> str:
        wanted = self.args.get("sort", "")
        return wanted if any(c.key == wanted for c in self.columns) else ""

    @property
    def descending(self) -> bool:
        return self.args.get("order") == "desc"

    def wanted(self, column: Column) -> str:
        return (self.args.get(f"f.{column.key}") or "").strip()

    def choices(self, column: Column) -> list[str]:
        return sorted({_text(column.of(row)) for row in self.rows} - {""})

    def shown(self) -> list[Mapping[str, Any]]:
        rows = [row for row in self.rows if all(self._keeps(c, row) for c in self.columns if self.wanted(c))]
        if self.sort:
            column = next(c for c in self.columns if c.key == self.sort)
            # None last whichever the order, numbers as numbers, the rest as text.
            present = [r for r in rows if column.of(r) not in (None, "")]
            absent = [r for r in rows if column.of(r) in (None, "")]
            present.sort(key=lambda r: _sort_key(column.of(r)), reverse=self.descending)
            rows = present + absent
        return rows

    def _keeps(self, column: Column, row: Mapping[str, Any]) -> bool:
        wanted, value = self.wanted(column), _text(column.of(row))
        if column.filter == "text":
            return wanted.casefold() in value.casefold()
        if column.filter == "date":
            return bool(value) and value[:10] <= wanted
        return value == wanted

    def query(self, **changes: str) -> str:
        """This listing's query string with some arguments changed (for headings and exports)."""
        from urllib.parse import urlencode
        merged = {k: v for k, v in self.args.items() if v}
        merged.update({k: v for k, v in changes.items()})
        return urlencode({k: v for k, v in merged.items() if v})

    def export(self, fmt: str, heading: Callable[[str], str], title: str) -> tuple[bytes, str]:
        """The rows shown, in the columns shown, as CSV (UTF-8 with BOM, which Excel needs to
        read Chinese) or xlsx."""
        header = [heading(c.label) for c in self.columns]
        body = [[c.shown(c.of(row)) for c in self.columns] for row in self.shown()]
        if fmt == "csv":
            out = io.StringIO()
            writer = csv.writer(out)
            writer.writerow(header)
            writer.writerows(_safe(line) for line in body)
            return ("\ufeff" + out.getvalue()).encode("utf-8"), EXPORTS["csv"]
        book = Workbook()
        sheet = book.active
        assert sheet is not None
        sheet.title = title[:31] or "export"
        sheet.append(header)
        for line in body:
            sheet.append(_safe(line))
        out_bytes = io.BytesIO()
        book.save(out_bytes)
        return out_bytes.getvalue(), EXPORTS["xlsx"]


def _safe(line: Iterable[str]) -> list[str]:
    # A cell starting with = + - @ is a formula to a spreadsheet: applicants write these
    # texts, so they leave as text (OWASP's CSV injection advice: a leading apostrophe).
    return [f"'{cell}" if cell[:1] in ("=", "+", "-", "@", "\t", "\r") else cell for cell in line]


def _sort_key(value: Any) -> tuple[int, Any]:
    if isinstance(value, bool):
        return (1, str(value))
    if isinstance(value, (int, float)):
        return (0, value)
    return (1, _text(value))
