"""What a command's arguments must be, whatever the case's state: text that says something,
reasons, a task book's milestones, an evaluation's findings."""

from __future__ import annotations

from typing import Any

from shared.domain.errors import DomainRuleViolation


def nonblank(field: str, value: str) -> str:
    """`value`, refused if it is not a string or is blank."""
    if not isinstance(value, str) or not value.strip():
        raise DomainRuleViolation(field, "must not be blank")
    return value


def reason_list(field: str, given: list[str], what: str) -> list[str]:
    """A fresh list of `given`, refused unless it holds at least one reason, none blank."""
    if not given or any(not isinstance(r, str) or not r.strip() for r in given):
        raise DomainRuleViolation(field, f"{what} states at least one reason, none blank")
    return list(given)


def check_milestones(task_book: dict[str, Any]) -> None:
    """A task book states at least one milestone, each with an id of its own."""
    stated = task_book.get("milestones") or []
    if not stated:
        raise DomainRuleViolation("task_book.milestones", "a task book states at least one milestone (时间节点)")
    ids = [m.get("id") for m in stated]
    if any(not i for i in ids) or len(set(ids)) != len(ids):
        raise DomainRuleViolation("task_book.milestones", "every milestone needs a unique id")


def checked_assessment(given: list[dict[str, Any]], targets: list[str]) -> list[dict[str, Any]]:
    """An evaluation assesses every target of the task book, once each: met or not, with its finding."""
    named = [a.get("target") for a in given]
    unknown = [t for t in named if t not in targets]
    twice = sorted({str(t) for t in named if named.count(t) > 1})
    missing = [t for t in targets if t not in named]
    if unknown or twice or missing:
        parts = ([f"not a target of the task book: {'; '.join(map(str, unknown))}"] if unknown else []) + (
            [f"assessed twice: {'; '.join(twice)}"] if twice else []) + (
            [f"not assessed: {'; '.join(missing)}"] if missing else [])
        raise DomainRuleViolation("assessment", "one finding per target of the task book (" + " | ".join(parts) + ")")
    checked = []
    for a in given:
        if not isinstance(a.get("met"), bool):
            raise DomainRuleViolation("assessment", f"target {a['target']}: met is true or false")
        if not isinstance(a.get("finding"), str) or not a["finding"].strip():
            raise DomainRuleViolation("assessment", f"target {a['target']}: the finding must not be blank")
        checked.append({"target": a["target"], "met": a["met"], "finding": a["finding"]})
    return checked
