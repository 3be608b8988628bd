"""Verification's own tables: the authorities' inboxes, what each authority recommended, and its contact.

`inbox` keeps every case with the level it waits for and whether the unit's credit code
was registered elsewhere than the region it files as. `recommendations` keeps, per
case and level, the recommendation an authority made (rank, 推荐理由) with what the
summary table (推荐汇总表) prints about the application; an endorsement withdrawn
or an application withdrawn leaves it. `authority_contacts` is an authority's own
profile (the table's contact columns), not case history.
"""

import json

import sqlalchemy as sa

from shared.domain.case import Program, awaiting_level
from shared.domain.registration_area import NOT_CHECKED
from shared.infra.readmodels.projection import case_state_after, case_summary_table, project_case_summary
from shared.infra.readmodels.store import KEPT

metadata = sa.MetaData()

inbox = case_summary_table(
    "inbox", metadata,
    sa.Column("chain", sa.String(40), nullable=False),
    sa.Column("awaiting_level", sa.String(16), nullable=True, index=True),
    sa.Column("listing", sa.Text, nullable=False, server_default="{}"),  # what the summary table prints
    # The credit code's registration area against the claimed region, for 真实性 verification.
    sa.Column("registration_check", sa.String(16), nullable=False),
    sa.Column("registration_note", sa.Text, nullable=False),
)

recommendations = sa.Table(
    "recommendations",
    metadata,
    sa.Column("case_id", sa.String(36), primary_key=True),
    sa.Column("level", sa.String(16), primary_key=True),
    sa.Column("authority", sa.String(16), nullable=False, index=True),
    sa.Column("call_id", sa.String(64), nullable=False, index=True),
    sa.Column("program", sa.String(32), nullable=False),
    sa.Column("direction", sa.String(64), nullable=False),
    sa.Column("rank", sa.Integer, nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("listing", sa.Text, nullable=False),
    sa.Column("recorded_at", sa.String(40), nullable=False),
)

authority_contacts = sa.Table(
    "authority_contacts",
    metadata,
    sa.Column("authority", sa.String(16), primary_key=True),
    sa.Column("name", sa.String(100), nullable=False),
    sa.Column("post", sa.String(100), nullable=False),  # 职务
    sa.Column("title", sa.String(100), nullable=False),  # 职称
    sa.Column("phone", sa.String(40), nullable=False),  # 手机号码
    sa.Column("updated_at", sa.String(40), nullable=False),
    info=KEPT,  # the authority's own profile, set by a command: a rebuild keeps it
)

RECOMMENDING = {"CityRecommended": "city", "ProvinceEndorsed": "province"}


def listing(program: str, application: dict) -> dict:
    """What the summary table prints about one application."""
    if program == Program.SIGNATURE_PRODUCT:
        product, unit = application.get("product", {}), application.get("applicant", {})
        domain = product.get("domain", "")
        if product.get("domain_other"):
            domain = f"{domain}（{product['domain_other']}）"
        return {"unit": unit.get("full_name", ""), "product": product.get("name", ""),
                "type": product.get("type", ""), "domain": domain}
    lead = application.get("lead", {})
    return {"unit": lead.get("name", ""), "members": [m.get("name", "") for m in application.get("members", [])],
            "title": application.get("title", "")}


def _inbox_columns(event: dict, row) -> dict:
    chain = event["payload"]["chain"] if row is None else row.chain.split(",")
    state = case_state_after(event, row.state if row else None)
    values = {"chain": ",".join(chain), "awaiting_level": awaiting_level(state, chain)}
    if event["type"] in ("Submitted", "Resubmitted"):
        program = event["payload"]["program"] if row is None else row.program
        values["listing"] = json.dumps(listing(program, event["payload"]["application"]), ensure_ascii=False)
    if event["type"] == "Submitted":
        # Messages queued by a relay older than the check carry none: such a case was not checked.
        check = event["payload"].get("registration_check") or NOT_CHECKED.as_record()
        values.update(registration_check=check["outcome"], registration_note=check["note"])
    return values


def project(session, event: dict) -> None:
    if not project_case_summary(inbox, session, event, _inbox_columns):
        return
    case_id, kind = event["case_id"], event["type"]
    if kind in RECOMMENDING:
        row = session.execute(sa.select(inbox).where(inbox.c.case_id == case_id)).one()
        level = RECOMMENDING[kind]
        session.execute(recommendations.delete().where(
            recommendations.c.case_id == case_id, recommendations.c.level == level))
        session.execute(recommendations.insert().values(
            case_id=case_id, level=level, authority=event["actor"]["org"], call_id=row.call_id,
            program=row.program, direction=row.direction, rank=event["payload"]["rank"],
            reason=event["payload"]["reason"], listing=row.listing, recorded_at=event["timestamp"],
        ))
    elif kind == "EndorsementWithdrawn":
        session.execute(recommendations.delete().where(
            recommendations.c.case_id == case_id, recommendations.c.level == "province"))
    elif kind == "Withdrawn":
        session.execute(recommendations.delete().where(recommendations.c.case_id == case_id))
