"""What anyone may read, from publication's read model: the lists, the notices, the product library.

Only lists that were put up (under notice, closed, or published) exist here, and
only their entries still on them; the product library holds only products of a
published signature-product list. Everything else is "not found", whether or not a
case by that id exists. No nameko, no HTTP.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import sqlalchemy as sa

from shared.domain.errors import NotFound, ValidationFailed
from shared.domain.publication_list import ListKind, ListStatus, entry_view, parse_list_key
from shared.infra.readmodels.store import ReadModelStore

from . import readmodels as rm

MAX_PER_PAGE = 100


def list_href(list_id: str) -> str:
    return f"/publication/lists/{list_id}"


def product_href(case_id: str) -> str:
    return f"/publication/products/{case_id}"


def _notice(row) -> dict | None:
    if row.notice_starts_on is None:
        return None
    return {"starts_on": row.notice_starts_on, "ends_on": row.notice_ends_on,
            "working_days": row.notice_working_days, "closed_on": row.notice_closed_on}


@dataclass
class ProductQuery:
    """The library's search: every filter optional; `name` is a substring of the product's or unit's name."""

    year: int | None = None
    domain: str | None = None
    type: str | None = None
    province: str | None = None  # a GB/T 2260 code (420000) or its name (湖北省)
    name: str | None = None
    page: int = 1
    per_page: int = 20

    @classmethod
    def from_args(cls, args) -> ProductQuery:
        errors: dict[str, list[str]] = {}

        def given(key: str, low: int, high: int) -> int | None:
            raw = args.get(key)
            if raw is None or raw == "":
                return None
            if not raw.isdigit() or not low <= int(raw) <= high:
                errors[key] = [f"a whole number from {low} to {high}"]
                return None
            return int(raw)

        def number(key: str, default: int, low: int, high: int) -> int:
            value = given(key, low, high)
            return default if value is None else value

        def text(key: str) -> str | None:
            raw = args.get(key)
            if raw is not None and len(raw) > 200:
                errors[key] = ["at most 200 characters"]
            return (raw.strip() or None) if raw is not None else None

        query = cls(year=given("year", 2000, 2100), domain=text("domain"), type=text("type"),
                    province=text("province"), name=text("name"), page=number("page", 1, 1, 100000),
                    per_page=number("per_page", 20, 1, MAX_PER_PAGE))
        if errors:
            raise ValidationFailed(errors, "the search has invalid parameters")
        return query


class PublicLibrary:
    def __init__(self, store: ReadModelStore):
        self.store = store

    # -- lists -------------------------------------------------------------------------

    def lists(self, kind: str | None = None, year: str | None = None, call_id: str | None = None) -> list[dict]:
        t = rm.public_lists
        query = sa.select(t).where(t.c.status.is_not(None))
        if kind:
            if kind not in ListKind.ALL:
                raise ValidationFailed({"kind": [f"one of {', '.join(ListKind.ALL)}"]})
            query = query.where(t.c.kind == kind)
        if year:
            if not year.isdigit():
                raise ValidationFailed({"year": ["a year, e.g. 2024"]})
            query = query.where(t.c.year == int(year))
        if call_id:
            query = query.where(t.c.call_id == call_id)
        with self.store.session() as session:
            rows = session.execute(query.order_by(t.c.year.desc(), t.c.list_id)).all()
            counts: dict[str, int] = dict(session.execute(  # type: ignore[arg-type]  # rows of (list_id, count)
                sa.select(rm.list_entries.c.list_id, sa.func.count()).where(rm.list_entries.c.on_list)
                .group_by(rm.list_entries.c.list_id)).all())
        return [{
            "list_id": r.list_id, "kind": r.kind, "call_id": r.call_id, "year": r.year, "title": r.title,
            "status": r.status, "notice": _notice(r), "published_at": r.published_at,
            "entry_count": counts.get(r.list_id, 0), "href": list_href(r.list_id),
        } for r in rows]

    def document(self, list_id: str) -> dict:
        """The list as the public reads it; the same shape as `shared.domain.publication_list.list_document`."""
        parse_list_key(list_id)
        with self.store.session() as session:
            row = session.execute(sa.select(rm.public_lists).where(rm.public_lists.c.list_id == list_id)).first()
            if row is None or row.status is None:
                raise NotFound(f"no list {list_id} has been put up for public notice or published")
            return self._document(session, row)

    def notices(self) -> list[dict]:
        """Every list under public notice now, with its period and its entries."""
        t = rm.public_lists
        with self.store.session() as session:
            rows = session.execute(sa.select(t).where(t.c.status == ListStatus.NOTICE_OPEN)
                                   .order_by(t.c.notice_ends_on, t.c.list_id)).all()
            return [self._document(session, row) for row in rows]

    def _document(self, session, row) -> dict:
        e, f = rm.list_entries, rm.entry_fields
        entries = session.execute(
            sa.select(e.c.case_id, f.c.fields).join(f, f.c.case_id == e.c.case_id)
            .where(e.c.list_id == row.list_id, e.c.on_list).order_by(e.c.position)).all()
        directions = json.loads(row.directions)
        return {
            "list_id": row.list_id, "kind": row.kind, "call_id": row.call_id, "year": row.year,
            "title": row.title, "status": row.status, "notice": _notice(row), "published_at": row.published_at,
            "entries": [entry_view(n, case_id, json.loads(fields), directions)
                        for n, (case_id, fields) in enumerate(entries, start=1)],
        }

    # -- the signature-product library --------------------------------------------------------

    def products(self, q: ProductQuery) -> dict:
        p = rm.products
        conditions = []
        if q.year is not None:
            conditions.append(p.c.year == q.year)
        if q.domain:
            conditions.append(p.c.domain == q.domain)
        if q.type:
            conditions.append(p.c.type == q.type)
        if q.province:
            conditions.append(sa.or_(p.c.province == q.province, p.c.province_name == q.province))
        if q.name:
            pattern = "%" + q.name.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            conditions.append(sa.or_(p.c.product.ilike(pattern, escape="\\"), p.c.unit.ilike(pattern, escape="\\")))
        with self.store.session() as session:
            total = session.execute(sa.select(sa.func.count()).select_from(p).where(*conditions)).scalar_one()
            rows = session.execute(
                sa.select(p).where(*conditions).order_by(p.c.year.desc(), p.c.list_id, p.c.position)
                .limit(q.per_page).offset((q.page - 1) * q.per_page)).all()
        return {"page": q.page, "per_page": q.per_page, "total": total, "items": [_product(r) for r in rows]}

    def product(self, case_id: str) -> dict:
        with self.store.session() as session:
            row = session.execute(sa.select(rm.products).where(rm.products.c.case_id == case_id)).first()
        if row is None:
            raise NotFound(f"no published signature product {case_id}")
        return _product(row)


def _product(row) -> dict:
    return {
        "case_id": row.case_id, "product": row.product, "unit": row.unit, "domain": row.domain, "type": row.type,
        "province": row.province, "province_name": row.province_name, "year": row.year, "list_id": row.list_id,
        "position": row.position, "published_at": row.published_at, "href": product_href(row.case_id),
    }
