"""Intake's own tables: the calls it knows and each applicant's cases with their stage."""

import json

import sqlalchemy as sa

from shared.projection import case_summary_table, project_case_summary

metadata = sa.MetaData()

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


def project(session, event: dict) -> None:
    project_case_summary(applicant_cases, session, event)


def latest_call(session, call_id: str) -> tuple[int, dict] | None:
    row = session.execute(
        sa.select(calls.c.version, calls.c.definition)
        .where(calls.c.call_id == call_id).order_by(calls.c.version.desc()).limit(1)
    ).first()
    return (row.version, json.loads(row.definition)) if row else None
