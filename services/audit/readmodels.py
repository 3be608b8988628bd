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


# Built once: each event runs them, and building a statement costs more than running it.
_TOUCHED = sa.select(touches.c.case_id).where(touches.c.case_id == sa.bindparam("case_id_"),
                                              touches.c.version == sa.bindparam("version_"))
_TOUCH = touches.insert()


def project(session, event: dict) -> None:
    # One row per (case, version): order does not matter here, and the primary
    # key absorbs a redelivery even without the processed-events record.
    if session.execute(_TOUCHED, {"case_id_": event["case_id"], "version_": event["version"]}).first():
        return
    actor = event["actor"]
    session.execute(_TOUCH, {"case_id": event["case_id"], "version": event["version"], "event_type": event["type"],
                             "actor_org": actor["org"], "actor_sub": actor["sub"], "actor_role": actor["role"],
                             "timestamp": event["timestamp"]})
