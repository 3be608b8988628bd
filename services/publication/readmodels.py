"""Publication's own table: cases from selection on, with their notice and list."""

import sqlalchemy as sa

from shared.projection import case_summary_table, project_case_summary

metadata = sa.MetaData()

public_cases = case_summary_table(
    "public_cases", metadata,
    sa.Column("notice_starts_on", sa.String(10), nullable=True),
    sa.Column("notice_ends_on", sa.String(10), nullable=True),
    sa.Column("list_id", sa.String(100), nullable=True, index=True),
    sa.Column("published_at", sa.String(40), nullable=True),
)


def _publication(event: dict, row) -> dict:
    p = event["payload"]
    if event["type"] == "PublicNoticeOpened":
        return {"notice_starts_on": p["starts_on"], "notice_ends_on": p["ends_on"]}
    if event["type"] == "Published":
        return {"list_id": p["list_id"], "published_at": event["timestamp"]}
    return {}


def project(session, event: dict) -> None:
    project_case_summary(public_cases, session, event, _publication)
