"""The kinds of notice: one per thing issue #20 item 1 says someone is told."""

from __future__ import annotations


class Kind:
    # to the unit (the applicant)
    RETURNED_FOR_CORRECTION = "returned_for_correction"
    REJECTED = "rejected"  # not in item 1's list, but a refusal the unit must hear of like the others
    SHORTLISTED = "shortlisted"
    NOT_SHORTLISTED = "not_shortlisted"
    MILESTONE_ACCEPTED = "milestone_accepted"
    MILESTONE_SENT_BACK = "milestone_sent_back"
    MILESTONE_OVERDUE = "milestone_overdue"
    EVALUATOR_COMMISSIONED = "evaluator_commissioned"
    SELECTED = "selected"
    NOT_SELECTED = "not_selected"
    PUBLISHED = "published"
    DELISTED = "delisted"
    # to the authority, the expert, the evaluator, the ministry
    CASE_IN_INBOX = "case_in_inbox"
    EXPERT_ASSIGNED = "expert_assigned"
    EVALUATOR_COMMISSIONED_TO_YOU = "evaluator_commissioned_to_you"
    OBJECTION_RAISED = "objection_raised"
    # before deadlines
    REMINDER_DEADLINE = "reminder_deadline"
    REMINDER_MILESTONE = "reminder_milestone"
    # to the ministry: a deadline needs a year no calendar knows (item 6)
    CALENDAR_YEAR_UNKNOWN = "calendar_year_unknown"

    ALL = (
        RETURNED_FOR_CORRECTION, REJECTED, SHORTLISTED, NOT_SHORTLISTED, MILESTONE_ACCEPTED, MILESTONE_SENT_BACK,
        MILESTONE_OVERDUE, EVALUATOR_COMMISSIONED, SELECTED, NOT_SELECTED, PUBLISHED, DELISTED, CASE_IN_INBOX,
        EXPERT_ASSIGNED, EVALUATOR_COMMISSIONED_TO_YOU, OBJECTION_RAISED, REMINDER_DEADLINE, REMINDER_MILESTONE,
        CALENDAR_YEAR_UNKNOWN,
    )


#: Refusals and overdue notices: a person may have them in a digest, never not at all (item 4).
#: Delisting and rejection are refusals too: each ends the unit's case. The calendar warning is
#: the ministry's only cue to record a year before deadlines in it go unreminded.
MANDATORY = frozenset({
    Kind.RETURNED_FOR_CORRECTION, Kind.REJECTED, Kind.NOT_SHORTLISTED, Kind.NOT_SELECTED,
    Kind.MILESTONE_SENT_BACK, Kind.MILESTONE_OVERDUE, Kind.DELISTED, Kind.CALENDAR_YEAR_UNKNOWN,
})

REMINDERS = frozenset({Kind.REMINDER_DEADLINE, Kind.REMINDER_MILESTONE})
