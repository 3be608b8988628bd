"""Reminders before deadlines, counted in working days on China's calendar in force.

A reminder `n` working days before a deadline falls on the working day reached by stepping
back `n` working days from the due date (the due day itself not counted). On a given `today`
the reminder due is the one of the smallest interval whose day has come, until the due day:
a run missed for a while sends the most urgent reminder once, not every reminder it missed.
Each interval has its own dedupe key, so running twice on a day, or on the next, sends nothing twice.

A year no calendar knows (neither the ministry's record nor the `holidays` package) is not
guessed: the deadline's reminders are left out and the problem is returned, for the ministry
to be warned (issue #20 item 6).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from shared.domain.calendar import ArrangementUnknown, WorkingCalendar
from shared.domain.call_rules import SHANGHAI, deadline_for
from shared.domain.case import awaiting_level
from shared.domain.errors import DomainRuleViolation
from shared.domain.notifications.kinds import Kind
from shared.domain.notifications.notice import Notice, Recipient
from shared.domain.notifications.templates import render
from shared.domain.notifications.triggers import MINISTRY, CaseFacts

DEFAULT_INTERVALS = (7, 3, 1)


@dataclass(frozen=True)
class Deadline:
    """A date by which someone must act: a level's deadline for an authority, a milestone for a unit."""

    key: str  # stable: what the deadline is, e.g. "call:<id>:province:420000" or "case:<id>:milestone:m1"
    kind: str  # Kind.REMINDER_DEADLINE or Kind.REMINDER_MILESTONE
    due_on: date  # the last day, Asia/Shanghai
    recipient: Recipient
    case_id: str | None = None
    facts: Mapping[str, Any] = field(default_factory=dict, compare=False)


@dataclass(frozen=True)
class CalendarProblem:
    """A deadline whose reminders need a year no calendar knows."""

    deadline_key: str
    year: int
    message: str


@dataclass(frozen=True)
class Reminders:
    notices: list[Notice]
    problems: list[CalendarProblem]


def checked_intervals(intervals: Iterable[int]) -> tuple[int, ...]:
    found = tuple(intervals)
    if not found or any(isinstance(n, bool) or not isinstance(n, int) or n < 1 for n in found):
        raise DomainRuleViolation("intervals", "reminders come a whole number of working days (1 or more) before")
    return tuple(sorted(set(found)))


def remind_on(due_on: date, working_days: int, calendar: WorkingCalendar) -> date:
    """The working day `working_days` working days before `due_on` (ArrangementUnknown for a year unknown)."""
    day, counted = due_on, 0
    while counted < working_days:
        day -= timedelta(days=1)
        if calendar.is_working_day(day):
            counted += 1
    return day


def working_days_between(today: date, due_on: date, calendar: WorkingCalendar) -> int:
    """The working days after `today` up to and including `due_on`: what is left to act."""
    return sum(1 for n in range(1, (due_on - today).days + 1) if calendar.is_working_day(today + timedelta(days=n)))


def reminders_due(
    today: date, deadlines: Iterable[Deadline], intervals: Iterable[int] = DEFAULT_INTERVALS,
    calendar: WorkingCalendar | None = None,
) -> Reminders:
    """The reminders to send on `today` (deterministic: nothing reads a clock)."""
    steps = checked_intervals(intervals)
    calendar = calendar or WorkingCalendar()
    notices: list[Notice] = []
    problems: list[CalendarProblem] = []
    for deadline in deadlines:
        if today > deadline.due_on:
            continue
        try:
            days = {n: remind_on(deadline.due_on, n, calendar) for n in steps}
            come = [n for n in steps if days[n] <= today]
            if not come:
                continue
            interval = min(come)
            left = working_days_between(today, deadline.due_on, calendar)
            basis = calendar.basis_between(min(days.values()), deadline.due_on)
        except ArrangementUnknown as unknown:
            problems.append(CalendarProblem(deadline.key, unknown.year, str(unknown)))
            continue
        facts = {**deadline.facts, "deadline": deadline.due_on.isoformat(), "days_left": left}
        notices.append(Notice(
            kind=deadline.kind, recipient=deadline.recipient, case_id=deadline.case_id,
            dedupe_key=f"{deadline.key}|{deadline.due_on.isoformat()}|{interval}|{deadline.recipient.key}",
            message=render(deadline.kind, facts), facts=facts, calendar=basis))
    return Reminders(notices, problems)


def level_deadlines(call: Mapping[str, Any], cases: Iterable[CaseFacts]) -> list[Deadline]:
    """Each authority's deadline on `call` for which it has cases waiting (a level without a date has none)."""
    waiting: dict[tuple[str, str], list[CaseFacts]] = {}
    for case in cases:
        level = awaiting_level(case.state, list(case.chain))
        if level is not None and case.call_id == call["call_id"]:
            waiting.setdefault((level, case.authority(level).org), []).append(case)
    found = []
    for (level, org), held in sorted(waiting.items()):
        due = deadline_for(dict(call), level, held[0].province)
        if due is None:
            continue
        recipient = held[0].authority(level)
        found.append(Deadline(
            key=f"call:{call['call_id']}:{level}:{org}", kind=Kind.REMINDER_DEADLINE,
            due_on=due.astimezone(SHANGHAI).date(), recipient=recipient,
            facts={"call": call.get("title") or call["call_id"], "level": level, "cases": len(held)}))
    return found


def milestone_deadlines(case: CaseFacts) -> list[Deadline]:
    """The unit's milestones still to report (pending, or sent back), each by its due date."""
    return [
        Deadline(key=f"case:{case.case_id}:milestone:{milestone_id}", kind=Kind.REMINDER_MILESTONE,
                 due_on=date.fromisoformat(str(m["due_on"])), recipient=case.unit, case_id=case.case_id,
                 facts={**case.facts(), "milestone": m.get("title", milestone_id)})
        for milestone_id, m in case.milestones.items()
        if m.get("status", "pending") in ("pending", "returned") and m.get("due_on")
    ]


def calendar_warnings(problems: Iterable[CalendarProblem]) -> list[Notice]:
    """One notice to the ministry per year no calendar knows, naming the deadlines that need it.

    Its dedupe key is the year's: the ministry is warned once per year, however many runs find it.
    """
    by_year: dict[int, list[str]] = {}
    for problem in problems:
        by_year.setdefault(problem.year, []).append(problem.deadline_key)
    notices = []
    for year, keys in sorted(by_year.items()):
        facts = {"year": year, "deadlines": len(keys), "keys": ", ".join(sorted(keys))}
        notices.append(Notice(
            kind=Kind.CALENDAR_YEAR_UNKNOWN, recipient=MINISTRY, case_id=None,
            dedupe_key=f"calendar:{year}|{Kind.CALENDAR_YEAR_UNKNOWN}|{MINISTRY.key}",
            message=render(Kind.CALENDAR_YEAR_UNKNOWN, facts), facts=facts))
    return notices
