"""Documents' own table: every piece of evidence attached to a case, from EvidenceAttached events."""

import sqlalchemy as sa

from shared.projection import in_sequence

metadata = sa.MetaData()

evidence = sa.Table(
    "evidence",
    metadata,
    sa.Column("case_id", sa.String(36), primary_key=True),
    sa.Column("version", sa.Integer, primary_key=True),  # the case version that attached it
    sa.Column("sha256", sa.String(64), nullable=False, index=True),
    sa.Column("size", sa.BigInteger, nullable=False),
    sa.Column("content_type", sa.String(120), nullable=False),
    sa.Column("filename", sa.String(255), nullable=False),
    sa.Column("step", sa.String(64), nullable=False),
    sa.Column("attached_by", sa.String(64), nullable=False),
    sa.Column("attached_at", sa.String(40), nullable=False),
)

# The last case version seen, so evidence rows land in order with the rest of the stream.
case_versions = sa.Table(
    "case_versions",
    metadata,
    sa.Column("case_id", sa.String(36), primary_key=True),
    sa.Column("version", sa.Integer, nullable=False),
)


def project(session, event: dict) -> None:
    row = session.execute(sa.select(case_versions).where(case_versions.c.case_id == event["case_id"])).first()
    if not in_sequence(row.version if row else None, event):
        return
    if row is None:
        session.execute(case_versions.insert().values(case_id=event["case_id"], version=event["version"]))
    else:
        session.execute(case_versions.update().where(case_versions.c.case_id == event["case_id"])
                        .values(version=event["version"]))
    if event["type"] == "EvidenceAttached":
        p = event["payload"]
        session.execute(evidence.insert().values(
            case_id=event["case_id"], version=event["version"], sha256=p["sha256"], size=p["size"],
            content_type=p["content_type"], filename=p["filename"], step=p["step"],
            attached_by=event["actor"]["org"], attached_at=event["timestamp"],
        ))
