"""The kinds of stream in the ledger, each declared once: its name, its aggregate, who appends to it.

One stream per aggregate. The kind's name is what crosses the wire: the integration event's
`stream` and the first word of its routing key (`case.Submitted`, `publiclist.NoticeOpened`),
so the queue bindings (`publiclist.#`) are written in these names. They are written out here,
never read off the aggregate's class, so renaming a class changes nothing a consumer sees.

Each kind names the service that may append to a stream of it: one service for most; for a
case, the service that owns the event (`shared.domain.case.OWNERS`, the procedure divided
among the services); for an allocation, the service its kind names
(`shared.domain.allocation.KINDS`). The ledger refuses any other save (shared.infra.ledger).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from eventsourcing.domain import Aggregate, DomainEvent

from shared.domain.allocation import KINDS as ALLOCATION_KINDS
from shared.domain.allocation import Allocation
from shared.domain.calendar_year import CalendarYear
from shared.domain.call import Call
from shared.domain.case import OWNERS as CASE_EVENT_OWNERS
from shared.domain.case import Case, owner_of
from shared.domain.dossier import Dossier
from shared.domain.panel import Panel
from shared.domain.publication_list import PublicList

# Given a stream of the kind and the class of an event to append: the one service that may.
Appender = Callable[[Any, type], str | None]


@dataclass(frozen=True)
class StreamKind:
    name: str  # on the wire: the envelope's `stream`, the routing key's first word
    aggregate: type[Aggregate]
    appenders: frozenset[str]  # every service that may append to some stream of the kind
    appender: Appender

    def may_append(self, service: str, stream: Any, event_class: type) -> bool:
        return self.appender(stream, event_class) == service


def _only(service: str) -> tuple[frozenset[str], Appender]:
    return frozenset({service}), lambda stream, event_class: service


def _case_event_owner(case: Case, event_class: type) -> str | None:
    try:
        return owner_of(event_class)
    except KeyError:
        return None


def _allocation_owner(allocation: Allocation, event_class: type) -> str | None:
    return ALLOCATION_KINDS.get(allocation.kind)


STREAM_KINDS: tuple[StreamKind, ...] = (
    StreamKind("case", Case, frozenset(CASE_EVENT_OWNERS), _case_event_owner),
    StreamKind("call", Call, *_only("intake")),  # the ministry defines calls through intake
    StreamKind("allocation", Allocation, frozenset(ALLOCATION_KINDS.values()), _allocation_owner),
    StreamKind("panel", Panel, *_only("review")),
    StreamKind("dossier", Dossier, *_only("documents")),
    StreamKind("publiclist", PublicList, *_only("publication")),
    StreamKind("calendar", CalendarYear, *_only("intake")),  # the ministry records a year's arrangement
)

BY_NAME: dict[str, StreamKind] = {kind.name: kind for kind in STREAM_KINDS}

# Every service that appends to some stream: a ledger opened for any other name is refused.
APPENDERS: frozenset[str] = frozenset().union(*(kind.appenders for kind in STREAM_KINDS))

# Each event class (and each base an aggregate declares for its events) to its stream's kind,
# by the class itself: the aggregate it is declared in, as written in STREAM_KINDS.
_KIND_OF_EVENT: dict[type, StreamKind] = {
    value: kind
    for kind in STREAM_KINDS
    for value in vars(kind.aggregate).values()
    if isinstance(value, type) and issubclass(value, DomainEvent)
}


def kind_of_stream(aggregate: Any) -> StreamKind | None:
    """The kind of the stream `aggregate` is, or None if it is no declared kind."""
    for kind in STREAM_KINDS:
        if isinstance(aggregate, kind.aggregate):
            return kind
    return None


def kind_of_event(event_class: type) -> StreamKind:
    """The kind of stream an event of `event_class` belongs to; KeyError if no declared aggregate has it."""
    try:
        return _KIND_OF_EVENT[event_class]
    except KeyError:
        raise KeyError(f"{event_class.__qualname__} is no event of a declared kind of stream") from None

