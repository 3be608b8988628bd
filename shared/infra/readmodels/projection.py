"""Helpers for read models fed by integration events: strict per-stream order, a case's derived stage."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from shared.domain.case import state_after


class OutOfOrder(Exception):
    """An event arrived before its predecessor; the subscriber retries it later."""


def in_sequence(current_version: int | None, event: dict) -> bool:
    """True if `event` is the next of its stream; False if already applied; raises on a gap."""
    expected = (current_version or 0) + 1
    if event["version"] < expected:
        return False
    if event["version"] > expected:
        raise OutOfOrder(
            f"{event['stream']} {event['stream_id']}: got version {event['version']}, expected {expected}"
        )
    return True


def case_state_after(event: dict, previous: str | None) -> str:
    return state_after(event["type"], event["payload"], previous)


def case_summary_table(name: str, metadata: sa.MetaData, *extra: sa.Column) -> sa.Table:
    """A per-service table of cases with their latest stage, plus the service's own columns."""
    return sa.Table(
        name,
        metadata,
        sa.Column("case_id", sa.String(36), primary_key=True),
        sa.Column("call_id", sa.String(64), nullable=False),
        sa.Column("program", sa.String(32), nullable=False),
        sa.Column("direction", sa.String(64), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("applicant", sa.String(32), nullable=False, index=True),
        sa.Column("applicant_name", sa.String(200), nullable=False),
        sa.Column("province", sa.String(6), nullable=False, index=True),
        sa.Column("city", sa.String(6), nullable=True, index=True),
        sa.Column("state", sa.String(32), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("updated_at", sa.String(40), nullable=False),
        *extra,
    )


@dataclass(frozen=True)
class _Statements:
    """A summary table's three statements, built once: every event of every service runs them, and
    building a statement and its cache key costs more than SQLite or PostgreSQL take to run it
    (bench/README.md, the rebuild's profile). Values go in as parameters."""

    select: sa.Select
    insert: sa.Insert
    update: sa.Update


_statements: dict[sa.Table, _Statements] = {}


def _summary_statements(table: sa.Table) -> _Statements:
    made = _statements.get(table)
    if made is None:
        case: sa.BindParameter[str] = sa.bindparam("case_id_")
        made = _statements[table] = _Statements(
            select=sa.select(table).where(table.c.case_id == case), insert=table.insert(),
            update=table.update().where(table.c.case_id == case))
    return made


def project_case_summary(
    table: sa.Table, session, event: dict, extra: Callable[[dict, Any], dict] | None = None
) -> bool:
    """Moves the case's row to `event`, strictly in version order; False if already applied.

    `extra(event, row)` returns the service's own column values for this event.
    """
    statements = _summary_statements(table)
    row = session.execute(statements.select, {"case_id_": event["case_id"]}).first()
    if not in_sequence(row.version if row else None, event):
        return False
    values = {
        "state": case_state_after(event, row.state if row else None),
        "version": event["version"],
        "updated_at": event["timestamp"],
        **(extra(event, row) if extra else {}),
    }
    if row is None:
        p = event["payload"]
        session.execute(statements.insert, {
            "case_id": event["case_id"], "call_id": p["call_id"], "program": p["program"],
            "direction": p["direction"], "title": p["title"], "applicant": p["applicant"]["credit_code"],
            "applicant_name": p["applicant"]["name"], "province": p["province"], "city": p.get("city"),
            **values,
        })
    else:
        session.execute(statements.update, {**values, "case_id_": event["case_id"]})
    return True
