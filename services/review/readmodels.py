"""Review's own tables: the cases with the ministry, who evaluates them, experts' scores, milestones,
the units of each case and the experts' assignments (from the panels' streams)."""

import json

import sqlalchemy as sa

from shared.domain.panel import case_parties
from shared.infra.readmodels.projection import case_summary_table, in_sequence, project_case_summary

metadata = sa.MetaData()

review_cases = case_summary_table(
    "review_cases", metadata,
    sa.Column("evaluator", sa.String(32), nullable=True, index=True),
)

# One row per expert and case: the expert's total over the panel's criteria.
expert_scores = sa.Table(
    "expert_scores", metadata,
    sa.Column("case_id", sa.String(36), primary_key=True),
    sa.Column("expert", sa.String(64), primary_key=True),
    sa.Column("total", sa.Float, nullable=False),
    sa.Column("scores", sa.Text, nullable=False),  # JSON {criterion: score}
    sa.Column("recorded_at", sa.String(40), nullable=False),
)

# One row per milestone of a signed task book, with its latest status; the overdue
# timer and the milestone board read it.
milestones = sa.Table(
    "milestones", metadata,
    sa.Column("case_id", sa.String(36), primary_key=True),
    sa.Column("milestone_id", sa.String(32), primary_key=True),
    sa.Column("call_id", sa.String(64), nullable=False, index=True),
    sa.Column("province", sa.String(6), nullable=False, index=True),
    sa.Column("title", sa.String(200), nullable=False),
    sa.Column("due_on", sa.String(10), nullable=False, index=True),  # ISO date, Asia/Shanghai
    sa.Column("status", sa.String(16), nullable=False),  # pending reported accepted returned overdue
    sa.Column("updated_at", sa.String(40), nullable=False),
)

# The units of each case (applicant or lead, consortium members): what an assigned expert
# is shown to declare on, before it may see the case.
case_units = sa.Table(
    "case_units", metadata,
    sa.Column("case_id", sa.String(36), primary_key=True),
    sa.Column("units", sa.Text, nullable=False),  # JSON [{"credit_code", "name", "role"}]
)

# Panels as far as this read model has followed their streams (events apply in version order).
panels = sa.Table(
    "panels", metadata,
    sa.Column("panel_id", sa.String(36), primary_key=True),
    sa.Column("call_id", sa.String(64), nullable=False),
    sa.Column("direction", sa.String(64), nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
)

# One row per expert and case assigned (a refused assignment assigns nothing): the expert's list.
expert_assignments = sa.Table(
    "expert_assignments", metadata,
    sa.Column("case_id", sa.String(36), primary_key=True),
    sa.Column("expert", sa.String(64), primary_key=True),
    sa.Column("panel_id", sa.String(36), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),  # assigned cleared recused (shared.domain.panel)
    sa.Column("assigned_at", sa.String(40), nullable=False),
    sa.Column("updated_at", sa.String(40), nullable=False),
)

DECLARED = {"NoConflictDeclared": "cleared", "ConflictDeclared": "recused"}

MILESTONE_STATUS = {
    "MilestoneReported": "reported",
    "MilestoneReportAccepted": "accepted",
    "MilestoneReportReturned": "returned",
    "MilestoneOverdue": "overdue",
}


def _evaluator(event: dict, row) -> dict:
    if event["type"] == "EvaluatorCommissioned":
        return {"evaluator": event["payload"]["evaluator"]}
    return {}


# Built once: the events of every case run them, and building a statement costs more than running it.
_CASE: sa.BindParameter[str] = sa.bindparam("case_id_")
_MILESTONES_OF = sa.select(milestones).where(milestones.c.case_id == _CASE)
_MILESTONE_STATUS = milestones.update().where(milestones.c.case_id == _CASE,
                                              milestones.c.milestone_id == sa.bindparam("milestone_id_"))


def _task_book(session, event: dict) -> None:
    case = session.execute(sa.select(review_cases).where(review_cases.c.case_id == event["case_id"])).first()
    book = event["payload"]["task_book"]
    known = {r.milestone_id: r for r in session.execute(_MILESTONES_OF, {"case_id_": event["case_id"]})}
    session.execute(milestones.delete().where(milestones.c.case_id == event["case_id"]))
    rows = [{"case_id": event["case_id"], "milestone_id": m["id"], "call_id": case.call_id, "province": case.province,
             "title": m.get("title", m["id"]), "due_on": str(m.get("due_on", "9999-12-31")),
             "status": known[m["id"]].status if m["id"] in known else "pending", "updated_at": event["timestamp"]}
            for m in book["milestones"]]
    if rows:
        session.execute(milestones.insert(), rows)


def _units(session, event: dict) -> None:
    payload = event["payload"]
    if event["type"] == "Submitted":
        applicant = payload["applicant"]
    else:  # a correction may change the consortium, not the applicant
        row = session.execute(sa.select(review_cases.c.applicant, review_cases.c.applicant_name).where(
            review_cases.c.case_id == event["case_id"])).one()
        applicant = {"credit_code": row.applicant, "name": row.applicant_name}
    units = json.dumps(case_parties(applicant, payload["application"]), ensure_ascii=False)
    session.execute(case_units.delete().where(case_units.c.case_id == event["case_id"]))
    session.execute(case_units.insert().values(case_id=event["case_id"], units=units))


def project_panel(session, event: dict) -> None:
    """A panel's events: who is assigned to which case and what they declared."""
    row = session.execute(sa.select(panels).where(panels.c.panel_id == event["stream_id"])).first()
    if not in_sequence(row.version if row else None, event):
        return
    kind, payload = event["type"], event["payload"]
    if kind == "PanelFormed":
        session.execute(panels.insert().values(panel_id=event["stream_id"], call_id=payload["call_id"],
                                               direction=payload["direction"], version=event["version"]))
        return
    session.execute(panels.update().where(panels.c.panel_id == event["stream_id"]).values(version=event["version"]))
    if kind == "ExpertAssigned":
        session.execute(expert_assignments.insert().values(
            case_id=payload["case_id"], expert=payload["expert"], panel_id=event["stream_id"], status="assigned",
            assigned_at=event["timestamp"], updated_at=event["timestamp"]))
    elif kind in DECLARED:
        session.execute(expert_assignments.update().where(
            expert_assignments.c.case_id == payload["case_id"], expert_assignments.c.expert == payload["expert"],
        ).values(status=DECLARED[kind], updated_at=event["timestamp"]))


def project(session, event: dict) -> None:
    if event["stream"] == "panel":
        project_panel(session, event)
        return
    if not project_case_summary(review_cases, session, event, _evaluator):
        return
    kind, payload = event["type"], event["payload"]
    if kind in ("Submitted", "Resubmitted"):
        _units(session, event)
    elif kind == "ExpertReviewed":
        session.execute(expert_scores.insert().values(
            case_id=event["case_id"], expert=payload["expert"], total=float(sum(payload["scores"].values())),
            scores=json.dumps(payload["scores"], ensure_ascii=False), recorded_at=event["timestamp"],
        ))
    elif kind in ("TaskBookSigned", "TaskBookAmended"):
        _task_book(session, event)
    elif kind in MILESTONE_STATUS:
        session.execute(_MILESTONE_STATUS, {"case_id_": event["case_id"], "milestone_id_": payload["milestone_id"],
                                            "status": MILESTONE_STATUS[kind], "updated_at": event["timestamp"]})
