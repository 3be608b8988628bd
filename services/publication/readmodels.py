"""Publication's own tables, projected from case events and the public lists' streams.

`public_cases`: every case with its stage (the candidates of a list).
`entry_fields`: each case's public fields (`shared.domain.publication_list.public_fields`), the
  only part of an application this service keeps; recomputed on a resubmission.
`public_lists` / `list_entries`: the lists and who is on them, from `publiclist.*`.
`objections`: from the cases' ObjectionRaised / ObjectionResolved.
`products`: the signature-product library, one row per published product, with the
  columns the public searches by.

New tables rather than new columns of `public_cases`, so that an existing database
gains them without a migration.
"""

from __future__ import annotations

import json

import sqlalchemy as sa

from shared.domain.publication_list import ListKind, ListStatus, public_fields
from shared.infra.readmodels.projection import OutOfOrder, case_summary_table, in_sequence, project_case_summary

metadata = sa.MetaData()

public_cases = case_summary_table(
    "public_cases", metadata,
    sa.Column("notice_starts_on", sa.String(10), nullable=True),
    sa.Column("notice_ends_on", sa.String(10), nullable=True),
    sa.Column("list_id", sa.String(100), nullable=True, index=True),  # the list it is noticed or published on
    sa.Column("published_at", sa.String(40), nullable=True),
)

entry_fields = sa.Table(
    "entry_fields", metadata,
    sa.Column("case_id", sa.String(36), primary_key=True),
    sa.Column("fields", sa.Text, nullable=False),  # JSON: public fields only
)

public_lists = sa.Table(
    "public_lists", metadata,
    sa.Column("list_id", sa.String(100), primary_key=True),
    sa.Column("stream_id", sa.String(36), nullable=False, unique=True),  # what its events carry as case_id
    sa.Column("kind", sa.String(32), nullable=False, index=True),
    sa.Column("call_id", sa.String(64), nullable=False, index=True),
    sa.Column("program", sa.String(32), nullable=False),
    sa.Column("year", sa.Integer, nullable=False, index=True),
    sa.Column("title", sa.String(400), nullable=False),
    sa.Column("directions", sa.Text, nullable=False),  # JSON {code: name}
    sa.Column("status", sa.String(16), nullable=True, index=True),  # None until put up
    sa.Column("notice_starts_on", sa.String(10), nullable=True),
    sa.Column("notice_ends_on", sa.String(10), nullable=True, index=True),
    sa.Column("notice_working_days", sa.Integer, nullable=True),
    sa.Column("notice_closed_on", sa.String(10), nullable=True),
    sa.Column("published_at", sa.String(40), nullable=True),
    sa.Column("version", sa.Integer, nullable=False),
)

list_entries = sa.Table(
    "list_entries", metadata,
    sa.Column("list_id", sa.String(100), primary_key=True),
    sa.Column("case_id", sa.String(36), primary_key=True),
    sa.Column("position", sa.Integer, nullable=False),
    sa.Column("on_list", sa.Boolean, nullable=False),  # False once delisted
)

objections = sa.Table(
    "objections", metadata,
    sa.Column("objection_id", sa.String(40), primary_key=True),
    sa.Column("case_id", sa.String(36), nullable=False, index=True),
    sa.Column("list_id", sa.String(100), nullable=True, index=True),
    sa.Column("raised_by", sa.String(100), nullable=False),
    sa.Column("raised_by_org", sa.String(64), nullable=False, index=True),
    sa.Column("raised_by_role", sa.String(16), nullable=False),
    sa.Column("reasons", sa.Text, nullable=False),
    sa.Column("evidence", sa.Text, nullable=False),  # JSON [sha256]
    sa.Column("raised_at", sa.String(40), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),  # open, upheld, dismissed, moot
    sa.Column("resolution", sa.Text, nullable=True),
    sa.Column("resolved_at", sa.String(40), nullable=True),
)

products = sa.Table(
    "products", metadata,
    sa.Column("case_id", sa.String(36), primary_key=True),
    sa.Column("list_id", sa.String(100), nullable=False, index=True),
    sa.Column("call_id", sa.String(64), nullable=False),
    sa.Column("year", sa.Integer, nullable=False, index=True),
    sa.Column("position", sa.Integer, nullable=False),
    sa.Column("product", sa.String(400), nullable=False),
    sa.Column("unit", sa.String(400), nullable=False),
    sa.Column("domain", sa.String(200), nullable=False, index=True),
    sa.Column("type", sa.String(64), nullable=False, index=True),
    sa.Column("province", sa.String(8), nullable=False, index=True),
    sa.Column("province_name", sa.String(64), nullable=False),
    sa.Column("published_at", sa.String(40), nullable=False),
)


def project(session, event: dict) -> None:
    if event["stream"] == "publiclist":
        project_list(session, event)
    else:
        project_case(session, event)


# -- case events ---------------------------------------------------------------------------


def _case_columns(event: dict, row) -> dict:
    p = event["payload"]
    if event["type"] == "PublicNoticeOpened":
        return {"notice_starts_on": p["starts_on"], "notice_ends_on": p["ends_on"], "list_id": p["notice_id"]}
    if event["type"] == "Published":
        return {"list_id": p["list_id"], "published_at": event["timestamp"]}
    return {}


def project_case(session, event: dict) -> None:
    if not project_case_summary(public_cases, session, event, _case_columns):
        return
    kind, p, case_id = event["type"], event["payload"], event["case_id"]
    if kind in ("Submitted", "Resubmitted"):
        row = session.execute(sa.select(public_cases).where(public_cases.c.case_id == case_id)).one()
        fields = json.dumps(public_fields(row.program, p["application"], row.province), ensure_ascii=False)
        session.execute(entry_fields.delete().where(entry_fields.c.case_id == case_id))
        session.execute(entry_fields.insert().values(case_id=case_id, fields=fields))
    elif kind == "ObjectionRaised":
        row = session.execute(sa.select(public_cases.c.list_id).where(public_cases.c.case_id == case_id)).one()
        actor = event["actor"]
        session.execute(objections.insert().values(
            objection_id=p["objection_id"], case_id=case_id, list_id=row.list_id, raised_by=actor["sub"],
            raised_by_org=actor["org"], raised_by_role=actor["role"], reasons=p["reasons"],
            evidence=json.dumps(p.get("evidence", [])), raised_at=event["timestamp"], status="open"))
    elif kind == "ObjectionResolved":
        status = "upheld" if p["upheld"] else "dismissed"
        session.execute(objections.update().where(objections.c.objection_id == p["objection_id"]).values(
            status=status, resolution=p["resolution"], resolved_at=event["timestamp"]))
        if p["upheld"]:
            # As on the case: the entry has left the list, its other objections are moot.
            session.execute(objections.update().where(
                objections.c.case_id == case_id, objections.c.status == "open").values(
                status="moot", resolution=f"the entry was delisted on objection {p['objection_id']}",
                resolved_at=event["timestamp"]))


# -- list events ---------------------------------------------------------------------------


def project_list(session, event: dict) -> None:
    row = session.execute(sa.select(public_lists).where(public_lists.c.stream_id == event["stream_id"])).first()
    if not in_sequence(row.version if row else None, event):
        return
    p, kind = event["payload"], event["type"]
    if kind == "ListCreated":
        session.execute(public_lists.insert().values(
            list_id=p["list_id"], stream_id=event["stream_id"], kind=p["kind"], call_id=p["call_id"],
            program=p["program"], year=p["year"], title=p["title"],
            directions=json.dumps(p["directions"], ensure_ascii=False), status=None, version=event["version"]))
        return
    values: dict = {"version": event["version"]}
    if kind == "NoticeOpened":
        values.update(status=ListStatus.NOTICE_OPEN, notice_starts_on=p["starts_on"], notice_ends_on=p["ends_on"],
                      notice_working_days=p["working_days"])
        _put_entries(session, row.list_id, p["entries"])
    elif kind == "EntryDelisted":
        session.execute(list_entries.update().where(
            list_entries.c.list_id == row.list_id, list_entries.c.case_id == p["case_id"]).values(on_list=False))
    elif kind == "NoticeClosed":
        values.update(status=ListStatus.NOTICE_CLOSED, notice_closed_on=p["closed_on"])
    elif kind == "ListPublished":
        values.update(status=ListStatus.PUBLISHED, published_at=event["timestamp"])
        _put_entries(session, row.list_id, p["entries"])
        if row.kind == ListKind.SIGNATURE_PRODUCTS:
            _add_products(session, row, p["entries"], event["timestamp"])
    session.execute(public_lists.update().where(public_lists.c.list_id == row.list_id).values(**values))


def _put_entries(session, list_id: str, entries: list[str]) -> None:
    """The entries as the event names them, in its order; any other row of the list is off it."""
    session.execute(list_entries.update().where(list_entries.c.list_id == list_id).values(on_list=False))
    for position, case_id in enumerate(entries, start=1):
        updated = session.execute(list_entries.update().where(
            list_entries.c.list_id == list_id, list_entries.c.case_id == case_id).values(
            position=position, on_list=True)).rowcount
        if not updated:
            session.execute(list_entries.insert().values(list_id=list_id, case_id=case_id, position=position,
                                                         on_list=True))


def _add_products(session, list_row, entries: list[str], published_at: str) -> None:
    fields = dict(session.execute(sa.select(entry_fields.c.case_id, entry_fields.c.fields).where(
        entry_fields.c.case_id.in_(entries))).all())
    for position, case_id in enumerate(entries, start=1):
        if case_id not in fields:
            # The case's filing has not reached this read model yet (a replay in a burst): later.
            raise OutOfOrder(f"list {list_row.list_id}: case {case_id} not yet projected")
        f = json.loads(fields[case_id])
        session.execute(products.insert().values(
            case_id=case_id, list_id=list_row.list_id, call_id=list_row.call_id, year=list_row.year,
            position=position, product=f["product"], unit=f["unit"], domain=f["domain"], type=f["type"],
            province=f["province"], province_name=f["province_name"], published_at=published_at))
