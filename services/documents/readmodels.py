"""Documents' own tables: every piece of evidence filed on a case, and which corrections
replaced which, from EvidenceAttached and EvidenceSuperseded events."""

import sqlalchemy as sa

from shared.infra.readmodels.projection import in_sequence

metadata = sa.MetaData()

# One row per document filed, the originals and the corrections alike: nothing is ever
# deleted, a superseded document is only marked so by a `supersessions` row.
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

# A table of its own (not columns on `evidence`) so that existing read-model databases
# gain it through create_all, without a migration.
supersessions = sa.Table(
    "supersessions",
    metadata,
    sa.Column("case_id", sa.String(36), primary_key=True),
    sa.Column("version", sa.Integer, primary_key=True),  # the EvidenceSuperseded event's version
    sa.Column("superseded_version", sa.Integer, nullable=False),  # the evidence row it replaced
    sa.Column("sha256", sa.String(64), nullable=False),  # the correction
    sa.Column("supersedes", sa.String(64), nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
)

# The last case version seen, so evidence rows land in order with the rest of the stream.
case_versions = sa.Table(
    "case_versions",
    metadata,
    sa.Column("case_id", sa.String(36), primary_key=True),
    sa.Column("version", sa.Integer, nullable=False),
)


# Built once: every event of every case runs them, and building a statement costs more than running it.
_VERSION = sa.select(case_versions.c.version).where(case_versions.c.case_id == sa.bindparam("case_id_"))
_FIRST_VERSION = case_versions.insert()
_NEXT_VERSION = case_versions.update().where(case_versions.c.case_id == sa.bindparam("case_id_"))
_FILED = evidence.insert()


def project(session, event: dict) -> None:
    row = session.execute(_VERSION, {"case_id_": event["case_id"]}).first()
    if not in_sequence(row.version if row else None, event):
        return
    if row is None:
        session.execute(_FIRST_VERSION, {"case_id": event["case_id"], "version": event["version"]})
    else:
        session.execute(_NEXT_VERSION, {"case_id_": event["case_id"], "version": event["version"]})
    if event["type"] in ("EvidenceAttached", "EvidenceSuperseded"):
        p = event["payload"]
        session.execute(_FILED, {
            "case_id": event["case_id"], "version": event["version"], "sha256": p["sha256"], "size": p["size"],
            "content_type": p["content_type"], "filename": p["filename"], "step": p["step"],
            "attached_by": event["actor"]["org"], "attached_at": event["timestamp"],
        })
    if event["type"] == "EvidenceSuperseded":
        _record_supersession(session, event)


def _record_supersession(session, event: dict) -> None:
    # The aggregate replaces the first current occurrence of the digest; the earliest row
    # with it that no correction has replaced yet is the same document.
    p = event["payload"]
    replaced = sa.select(supersessions.c.superseded_version).where(supersessions.c.case_id == event["case_id"])
    old = session.execute(
        sa.select(evidence.c.version)
        .where(evidence.c.case_id == event["case_id"], evidence.c.sha256 == p["supersedes"],
               evidence.c.version.not_in(replaced))
        .order_by(evidence.c.version).limit(1)
    ).scalar_one()
    session.execute(supersessions.insert().values(
        case_id=event["case_id"], version=event["version"], superseded_version=old,
        sha256=p["sha256"], supersedes=p["supersedes"], reason=p["reason"],
    ))


def evidence_of_case(session, case_id: str) -> list[dict]:
    """Every document filed on the case in filing order, each marked current or superseded."""
    by = supersessions.alias("superseded_by")  # the correction that replaced this row
    of = supersessions.alias("correction_of")  # the row this correction replaced
    rows = session.execute(
        sa.select(evidence, by.c.sha256.label("superseded_by"), by.c.version.label("superseded_in"),
                  of.c.supersedes, of.c.reason)
        .outerjoin(by, sa.and_(by.c.case_id == evidence.c.case_id, by.c.superseded_version == evidence.c.version))
        .outerjoin(of, sa.and_(of.c.case_id == evidence.c.case_id, of.c.version == evidence.c.version))
        .where(evidence.c.case_id == str(case_id))
        .order_by(evidence.c.version)
    )
    return [
        {**dict(r._mapping), "status": "superseded" if r.superseded_by else "current"}
        for r in rows
    ]
