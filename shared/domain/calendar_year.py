"""A year's official holiday arrangement as the ministry records it: a stream per year, recorded then amended.

The State Council publishes each year's arrangement in a notice of its own
(国务院办公厅关于X年部分节假日安排的通知, numbered 国办发明电〔YYYY〕N号): the days off
(放假) and the weekend days worked instead (调休上班). The ministry records what the
notice says; `shared.domain.calendar` counts working days on it, and on the
`holidays` package for a year nobody recorded. A recorded year is never rewritten:
a correction is an amendment, a new version, and whatever was computed on an earlier
version keeps the dates it recorded then.

What a record must be (`ArrangementSchema`): every date inside its year, no day both
off and worked, a swapped working day a Saturday or Sunday (a weekday is a working
day already); a day off may be any day. The notice's number and title are free text,
required: they are what an auditor looks up.

Owned by intake (the ministry records through it); routed as `calendar.*`. No nameko, no HTTP, no SQL.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any, ClassVar
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate
from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from shared.domain.actors import Actor, actor_record
from shared.domain.calendar import Arrangement
from shared.domain.errors import DomainRuleViolation
from shared.domain.personal import ACTOR, BY_SCHEMA, NOT_PERSONAL, classified
from shared.domain.versioned import Versioned

CALENDAR_NAMESPACE = uuid5(NAMESPACE_URL, "urn:caseplatform:calendar-year")
FIRST_YEAR, LAST_YEAR = 2000, 2100
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def calendar_year_stream_id(year: int) -> UUID:
    """One stream per year: recording the same year twice collides on its first version."""
    return uuid5(CALENDAR_NAMESPACE, str(year))


def _text(maximum: int) -> fields.String:
    return fields.String(required=True, metadata=NOT_PERSONAL,  # a notice's words, no person's data
                         validate=[validate.Length(min=1, max=maximum),
                                   validate.Regexp(r"\S", error="must not be blank")])


class ArrangementBodySchema(Schema):
    """The arrangement itself, as an amendment restates it (the year is the path's)."""

    notice_number = _text(100)  # e.g. 国办发明电〔2026〕X号
    notice_title = _text(300)  # e.g. 国务院办公厅关于2027年部分节假日安排的通知
    days_off = fields.List(fields.Date(), required=True, validate=validate.Length(min=1, max=366))
    swapped_working_days = fields.List(fields.Date(), required=True, validate=validate.Length(max=366))
    note = fields.String(metadata=NOT_PERSONAL, load_default=None, allow_none=True, validate=validate.Length(max=2000))

    def __init__(self, *, year: int | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.of_year = year  # an amendment's year is its stream's; a first record names its own

    @validates_schema
    def _inside_the_year_and_consistent(self, data: dict[str, Any], **kwargs: Any) -> None:
        year = data.get("year", self.of_year)
        errors: dict[str, list[str]] = {}
        off: dict[date, int] = {}
        for i, day in enumerate(data.get("days_off", [])):
            path = f"days_off[{i}]"
            if year is not None and day.year != year:
                errors[path] = [f"{day.isoformat()} is not in {year}: a year's arrangement lists that year's days"]
            elif day in off:
                errors[path] = [f"{day.isoformat()} is listed twice (days_off[{off[day]}])"]
            off.setdefault(day, i)
        worked: dict[date, int] = {}
        for i, day in enumerate(data.get("swapped_working_days", [])):
            path = f"swapped_working_days[{i}]"
            if year is not None and day.year != year:
                errors[path] = [f"{day.isoformat()} is not in {year}: a year's arrangement lists that year's days"]
            elif day in off:
                errors[path] = [f"{day.isoformat()} is also a day off (days_off[{off[day]}]): a day is off or "
                                "worked, not both"]
            elif day.weekday() < 5:
                errors[path] = [f"{day.isoformat()} is a {WEEKDAYS[day.weekday()]}: a swapped working day (调休上班) "
                                "is a Saturday or a Sunday"]
            elif day in worked:
                errors[path] = [f"{day.isoformat()} is listed twice (swapped_working_days[{worked[day]}])"]
            worked.setdefault(day, i)
        if errors:
            raise ValidationError(errors)  # a dict of paths: `load` flattens it


class ArrangementSchema(ArrangementBodySchema):
    """A year's arrangement as the ministry first records it."""

    year = fields.Integer(required=True, strict=True, validate=validate.Range(min=FIRST_YEAR, max=LAST_YEAR))


class AmendmentSchema(ArrangementBodySchema):
    """A new version of a recorded year: the whole arrangement restated, and why."""

    reason = _text(2000)


def to_record(loaded: dict[str, Any]) -> dict[str, Any]:
    """The JSON form a version stores: dates as text, in order."""
    return {"notice_number": loaded["notice_number"].strip(), "notice_title": loaded["notice_title"].strip(),
            "days_off": sorted(d.isoformat() for d in loaded["days_off"]),
            "swapped_working_days": sorted(d.isoformat() for d in loaded["swapped_working_days"]),
            "note": loaded.get("note")}


class CalendarYear(Versioned, Aggregate):
    class Event(Aggregate.Event):
        actor: Actor
        personal_fields: ClassVar[Mapping[str, str | None]] = classified(actor=ACTOR)

    class YearRecorded(Aggregate.Created):
        actor: Actor
        year: int
        arrangement: dict[str, Any]  # `to_record`'s JSON form, version 1
        personal_fields = classified(actor=ACTOR, arrangement=BY_SCHEMA)

    class YearAmended(Event):
        year: int
        version: int
        reason: str
        arrangement: dict[str, Any]  # the whole arrangement of the new version
        personal_fields = classified(reason=None, arrangement=BY_SCHEMA)

        def apply(self, calendar_year: CalendarYear) -> None:
            calendar_year.versions.append(_version(self.version, self.arrangement, self.actor, self.timestamp,
                                                   self.reason))

    def __init__(self, *, actor: Actor, year: int, arrangement: dict[str, Any]) -> None:
        self.year = year
        self.versions: list[dict[str, Any]] = [_version(1, arrangement, actor, self.created_on, None)]

    @classmethod
    def record(cls, *, actor: Actor, year: int, arrangement: dict[str, Any]) -> CalendarYear:
        return cls._create(cls.YearRecorded, id=calendar_year_stream_id(year), actor=actor_record(actor),
                           year=year, arrangement=arrangement)

    def amend(self, *, actor: Actor, reason: str, arrangement: dict[str, Any]) -> None:
        if arrangement == {k: v for k, v in self.current.items() if k in arrangement}:
            raise DomainRuleViolation("_body", f"the amendment restates version {len(self.versions)} of {self.year} "
                                               "unchanged")
        self.trigger_event(CalendarYear.YearAmended, actor=actor_record(actor), year=self.year,
                           version=len(self.versions) + 1,
                           reason=reason, arrangement=arrangement)

    def _no_version(self, version: int) -> str:
        return f"no version {version} of the {self.year} arrangement"

    def arrangement(self) -> Arrangement:
        """The latest version, as the working-day calendar counts on it."""
        return Arrangement.from_record(self.year, self.current["version"], self.current)


def _version(number: int, arrangement: dict[str, Any], actor: Actor, at: Any, reason: str | None) -> dict[str, Any]:
    return {"version": number, **arrangement, "reason": reason, "recorded_by": actor.get("org"),
            "recorded_at": at.isoformat() if at is not None else None}
