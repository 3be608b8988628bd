"""How a case is shown over HTTP to those allowed to see it (never to the public)."""

from shared.case import Case


def case_view(case: Case) -> dict:
    return {
        "case_id": str(case.id),
        "version": case.version,
        "state": case.state,
        "program": case.program,
        "call_id": case.call_id,
        "call_version": case.call_version,
        "direction": case.direction,
        "title": case.title,
        "applicant": case.applicant,
        "province": case.province,
        "city": case.city,
        "awaiting_level": case.awaiting_level,
        "round": case.round,
        "milestones": case.milestones,
        "evaluator": case.evaluator,
        "notice_ends_on": case.notice_ends_on.isoformat() if case.notice_ends_on else None,
        "open_objections": list(case.open_objections),
        "evidence": list(case.evidence),
        "application": case.application,
    }
