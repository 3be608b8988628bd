"""Intake's own tables: call versions, each applicant's cases, drafts, and application claims."""

import json

import sqlalchemy as sa

from shared.projection import case_summary_table, project_case_summary

metadata = sa.MetaData()

# One row per call version; a version is never changed once stored.
calls = sa.Table(
    "calls",
    metadata,
    sa.Column("call_id", sa.String(64), primary_key=True),
    sa.Column("version", sa.Integer, primary_key=True),
    sa.Column("definition", sa.Text, nullable=False),
    sa.Column("defined_by", sa.String(200), nullable=False),
    sa.Column("defined_at", sa.DateTime(timezone=True), server_default=sa.func.now()),
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
)


def project(session, event: dict) -> None:
    if project_case_summary(applicant_cases, session, event) and event["type"] == "Withdrawn":
        # A withdrawn application frees its direction (or product) for a new one.
        session.execute(claims.delete().where(claims.c.case_id == event["case_id"]))


def call_version(session, call_id: str, version: int | None = None) -> dict | None:
    query = sa.select(calls.c.definition).where(calls.c.call_id == call_id)
    query = query.where(calls.c.version == version) if version else query.order_by(calls.c.version.desc())
    row = session.execute(query.limit(1)).first()
    return json.loads(row.definition) if row else None
