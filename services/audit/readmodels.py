"""Audit's own table: who touched which case when, for "every case one actor touched"."""

import sqlalchemy as sa

metadata = sa.MetaData()

touches = sa.Table(
    "touches",
    metadata,
    sa.Column("case_id", sa.String(36), primary_key=True),
    sa.Column("version", sa.Integer, primary_key=True),
    sa.Column("event_type", sa.String(64), nullable=False),
    sa.Column("actor_org", sa.String(64), nullable=False, index=True),
    sa.Column("actor_sub", sa.String(200), nullable=False),
    sa.Column("actor_role", sa.String(16), nullable=False),
    sa.Column("timestamp", sa.String(40), nullable=False, index=True),
)


def project(session, event: dict) -> None:
    # One row per (case, version): order does not matter here, and the primary
    # key absorbs a redelivery even without the processed-events record.
    exists = session.execute(sa.select(touches.c.case_id).where(
        touches.c.case_id == event["case_id"], touches.c.version == event["version"])).first()
    if exists:
        return
    session.execute(touches.insert().values(
        case_id=event["case_id"], version=event["version"], event_type=event["type"],
        actor_org=event["actor"]["org"], actor_sub=event["actor"]["sub"], actor_role=event["actor"]["role"],
        timestamp=event["timestamp"],
    ))
