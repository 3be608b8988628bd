"""Intake's own tables: the calls it has heard of, the recorded calendar years, each applicant's cases, drafts,
and application claims."""

import json

import sqlalchemy as sa

from shared.infra.readmodels.projection import case_summary_table, project_case_summary
from shared.infra.readmodels.store import KEPT

metadata = sa.MetaData()

# One row per call version, projected from the call's stream in the ledger (the
# ledger is where a call is read for a decision; this table only lists them).
calls = sa.Table(
    "call_versions",
    metadata,
    sa.Column("call_id", sa.String(64), primary_key=True),
    sa.Column("version", sa.Integer, primary_key=True),
    sa.Column("definition", sa.Text, nullable=False),
    sa.Column("defined_by", sa.String(200), nullable=False),
    sa.Column("defined_at", sa.String(40), nullable=False),
)

# One row per version of a year's recorded holiday arrangement (shared.domain.calendar_year);
# a decision reads the year from the ledger, this table only lists the years.
calendar_years = sa.Table(
    "calendar_year_versions",
    metadata,
    sa.Column("year", sa.Integer, primary_key=True),
    sa.Column("version", sa.Integer, primary_key=True),
    sa.Column("arrangement", sa.Text, nullable=False),
    sa.Column("recorded_by", sa.String(200), nullable=False),
    sa.Column("recorded_at", sa.String(40), nullable=False),
)

applicant_cases = case_summary_table("applicant_cases", metadata)

# Drafts are the applicant's working copies: not part of any case's history.
drafts = sa.Table(
    "drafts",
    metadata,
    sa.Column("draft_id", sa.String(32), primary_key=True),
    sa.Column("applicant", sa.String(32), nullable=False, index=True),
    sa.Column("call_id", sa.String(64), nullable=False),
    sa.Column("form", sa.Text, nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    info=KEPT,  # the applicant's working copy, written by its commands: a rebuild keeps it
)

# One live application per unit and direction (揭榜挂帅) or product (标志性产品) in a
# call. The primary key makes two concurrent submissions of the same thing collide.
claims = sa.Table(
    "claims",
    metadata,
    sa.Column("call_id", sa.String(64), primary_key=True),
    sa.Column("applicant", sa.String(32), primary_key=True),
    sa.Column("subject", sa.String(300), primary_key=True),
    sa.Column("case_id", sa.String(36), nullable=False, index=True),
    info=KEPT,  # written by the filing command before its event: a rebuild keeps it
)


# Keys an erasure recorded on a case (PersonalDataErased), until the key store confirms them
# destroyed: the command destroys them at once, and this makes sure of it should it have been
# interrupted between the event and the key store (the retention pass finishes them).
keys_to_destroy = sa.Table(
    "keys_to_destroy",
    metadata,
    sa.Column("key_id", sa.String(32), primary_key=True),
    sa.Column("case_id", sa.String(36), nullable=False),
)


def project(session, event: dict) -> None:
    if event["stream"] == "call":
        project_call(session, event)
        return
    if event["stream"] == "calendar":
        project_calendar_year(session, event)
        return
    if project_case_summary(applicant_cases, session, event) and event["type"] == "Withdrawn":
        # A withdrawn application frees its direction (or product) for a new one.
        session.execute(claims.delete().where(claims.c.case_id == event["case_id"]))
    if event["type"] == "PersonalDataErased":
        for key_id in event["payload"]["keys"]:
            if session.execute(sa.select(keys_to_destroy.c.key_id).where(keys_to_destroy.c.key_id == key_id)).first() \
                    is None:
                session.execute(keys_to_destroy.insert().values(key_id=key_id, case_id=event["case_id"]))


def project_call(session, event: dict) -> None:
    # Versions are keyed rows: order between versions does not matter for a list,
    # and the primary key absorbs a redelivery.
    definition = event["payload"]["definition"]
    exists = session.execute(sa.select(calls.c.version).where(
        calls.c.call_id == definition["call_id"], calls.c.version == definition["version"])).first()
    if exists is None:
        session.execute(calls.insert().values(
            call_id=definition["call_id"], version=definition["version"],
            definition=json.dumps(definition, ensure_ascii=False), defined_by=event["actor"]["org"],
            defined_at=event["timestamp"],
        ))


def latest_calls(session) -> list[dict]:
    latest = sa.select(calls.c.call_id, sa.func.max(calls.c.version).label("version")).group_by(
        calls.c.call_id).subquery()
    rows = session.execute(sa.select(calls.c.definition).join(
        latest, sa.and_(calls.c.call_id == latest.c.call_id, calls.c.version == latest.c.version))
        .order_by(calls.c.call_id))
    return [json.loads(r.definition) for r in rows]


def project_calendar_year(session, event: dict) -> None:
    p = event["payload"]
    # Versions are keyed rows, as a call's: their order of arrival does not matter, a redelivery is absorbed.
    year, version = p["year"], p.get("version", 1)
    exists = session.execute(sa.select(calendar_years.c.version).where(
        calendar_years.c.year == year, calendar_years.c.version == version)).first()
    if exists is None:
        session.execute(calendar_years.insert().values(
            year=year, version=version, arrangement=json.dumps(p["arrangement"], ensure_ascii=False),
            recorded_by=event["actor"]["org"], recorded_at=event["timestamp"]))


def latest_calendar_years(session) -> list[dict]:
    latest = sa.select(calendar_years.c.year, sa.func.max(calendar_years.c.version).label("version")).group_by(
        calendar_years.c.year).subquery()
    rows = session.execute(sa.select(calendar_years).join(
        latest, sa.and_(calendar_years.c.year == latest.c.year, calendar_years.c.version == latest.c.version))
        .order_by(calendar_years.c.year))
    return [{"year": r.year, "version": r.version, **json.loads(r.arrangement), "recorded_by": r.recorded_by,
             "recorded_at": r.recorded_at} for r in rows]
