"""The case ledger: one eventsourcing application store, one stream per case.

Every service opens the same ledger (same tables) with its own name as
`owner`; a save that carries an event type the owner does not append is
refused before anything is written. Optimistic concurrency on the case's
version is the store's own: a stale save raises `ConcurrentUpdate`.
"""

from __future__ import annotations

import fcntl
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from typing import Any, ClassVar, TypeVar
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.persistence import IntegrityError, JSONTranscoder, Transcoding
from eventsourcing.utils import register_topic

from shared.domain.allocation import Allocation, allocation_id
from shared.domain.calendar import Arrangement
from shared.domain.calendar_year import CalendarYear, calendar_year_stream_id
from shared.domain.call import Call, call_stream_id
from shared.domain.case import Case
from shared.domain.dossier import Dossier, dossier_id
from shared.domain.errors import ConcurrentUpdate, EventNotOwned, NotFound
from shared.domain.panel import Panel, panel_id
from shared.domain.publication_list import PublicList, list_stream_id
from shared.domain.streams import APPENDERS, kind_of_event, kind_of_stream
from shared.infra.config import ensure_sqlite_parent, eventsourcing_env, sqlalchemy_url, sqlite_file

# A stored event names its class by module path (its topic). Events recorded before the
# domain moved into `shared.domain`, or before the case became a package, name the old
# modules; they must still replay, so the old paths resolve to the classes where they live
# now (an aggregate's path resolves its nested events too). A move of an aggregate adds a line.
LEGACY_TOPICS = {
    "shared.case:Case": Case, "shared.domain.case:Case": Case,
    "shared.call:Call": Call, "shared.allocation:Allocation": Allocation,
    "shared.panel:Panel": Panel, "shared.dossier:Dossier": Dossier,
    "shared.publication_list:PublicList": PublicList,
}
for _topic, _aggregate in LEGACY_TOPICS.items():
    register_topic(_topic, _aggregate)


class DateAsISO(Transcoding):
    type = date
    name = "date_iso"

    def encode(self, obj: date) -> str:
        return obj.isoformat()

    def decode(self, data: str) -> date:
        return date.fromisoformat(data)


@dataclass(frozen=True)
class RecordedEvent:
    """One stored event as an auditor reads it, and as the integration event carries it."""

    stream: str  # the kind of stream (shared.domain.streams): case, call, allocation, ...
    stream_id: str
    version: int
    type: str
    timestamp: str
    actor: dict
    payload: dict
    notification_id: int | None = None

    def as_dict(self) -> dict[str, Any]:
        """Its fields, and `case_id` on a case's event only: no other stream's id is a case's."""
        case = {"case_id": self.stream_id} if self.stream == "case" else {}
        return {
            "stream": self.stream,
            "stream_id": self.stream_id,
            **case,
            "version": self.version,
            "type": self.type,
            "timestamp": self.timestamp,
            "actor": self.actor,
            "payload": self.payload,
            "notification_id": self.notification_id,
        }


_BASE_FIELDS = {"originator_id", "originator_version", "timestamp", "originator_topic", "actor"}


def to_recorded(event: Any, notification_id: int | None = None) -> RecordedEvent:
    payload = {k: _plain(v) for k, v in event.__dict__.items() if k not in _BASE_FIELDS}
    return RecordedEvent(
        stream=kind_of_event(type(event)).name,
        stream_id=str(event.originator_id),
        version=event.originator_version,
        type=type(event).__name__,
        timestamp=event.timestamp.isoformat(),
        actor=dict(event.actor),
        payload=payload,
        notification_id=notification_id,
    )


def _plain(value: Any) -> Any:
    if isinstance(value, (date,)):
        return value.isoformat()
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


SCHEMA_LOCK_KEY = 0x73636865  # "sche": serialises table creation across processes


@contextmanager
def schema_lock(url: str) -> Iterator[None]:
    """Holds a lock across processes while tables are created.

    Several service processes start at once against one ledger. PostgreSQL's CREATE TABLE
    IF NOT EXISTS is not safe when raced (duplicate pg_type rows): an advisory lock. On
    SQLite each statement is atomic, but SQLAlchemy's create_all looks before it creates,
    and a fresh file raced by six processes refused the second creator ("table
    relay_position already exists"): an flock on a file beside the database.
    """
    if path := sqlite_file(url):
        ensure_sqlite_parent(url)
        with open(path + ".schema-lock", "a") as lock_file:
            fcntl.flock(lock_file, fcntl.LOCK_EX)  # released when the file closes
            yield
        return
    if not url.startswith(("postgresql", "postgres")):
        yield
        return
    import psycopg

    with psycopg.connect(sqlalchemy_url(url).replace("postgresql+psycopg", "postgresql"), autocommit=True) as conn:
        conn.execute("SELECT pg_advisory_lock(%s)", (SCHEMA_LOCK_KEY,))
        try:
            yield
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s)", (SCHEMA_LOCK_KEY,))


Found = TypeVar("Found")


SNAPSHOT_INTERVAL = 100
"""A case is snapshotted at versions 100, 200, ...: reading it replays at most 99 events after
its latest snapshot (bench/replay.py measures what that buys a 10,000-event case)."""


class CaseLedger(Application[UUID]):
    # The name fixes the tables' names: every service must open the same ones.
    name = "Ledger"
    # Snapshots are a cache of a case's state, taken by the save that reaches each interval (in
    # that command's time) and read by `get_case`; the events stay the truth: the hash chains,
    # checkpoints, `history`, `recorded` and every audit read the events, never a snapshot. A
    # snapshot holds the aggregate's attributes as they were, so a change to `Case`'s attributes
    # bumps `Case.class_version` with an upcaster of the snapshot's state
    # (tests/unit/test_case_snapshots.py fails until it does), or empties the snapshots table
    # (`caseplatform snapshots clear`).
    snapshotting_intervals: ClassVar[dict[type[Any], int]] = {Case: SNAPSHOT_INTERVAL}

    def __init__(self, url: str, owner: str | None = None, env: dict | None = None):
        if owner is not None and owner not in APPENDERS:
            raise ValueError(f"unknown owner {owner!r}; owners are {sorted(APPENDERS)}")
        self.owner = owner
        with schema_lock(url):
            super().__init__(env={**eventsourcing_env(url), **(env or {})})

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        transcoder.register(DateAsISO())

    def _find(self, aggregate_id: UUID, kind: type[Found]) -> Found | None:
        """The stream `aggregate_id` as a `kind`, or None if there is none of that kind."""
        try:
            aggregate: object = self.repository.get(aggregate_id)
        except AggregateNotFoundError:
            return None
        return aggregate if isinstance(aggregate, kind) else None

    def get_case(self, case_id: UUID | str) -> Case:
        try:
            case_uuid = case_id if isinstance(case_id, UUID) else UUID(str(case_id))
        except ValueError:
            raise NotFound(f"no case {case_id}") from None
        case = self._find(case_uuid, Case)
        if case is None:
            raise NotFound(f"no case {case_id}")
        return case

    def save_case(self, case: Case) -> int:
        """Appends the case's pending events; returns the case's new version."""
        self.save_together(case)
        return case.version

    def save_together(self, *aggregates: Any) -> None:
        """Appends the pending events of every aggregate in one transaction, or none of them.

        Each aggregate's version is checked: if any was changed since it was loaded,
        nothing is written and `ConcurrentUpdate` names them all.
        """
        foreign = [type(e).__name__ for a in aggregates for e in a.pending_events if not self._owns(a, e)]
        if foreign:
            raise EventNotOwned(
                f"the {self.owner or 'read-only'} service may not append {', '.join(foreign)}"
            )
        try:
            self.save(*aggregates)
        except IntegrityError:
            names = ", ".join(f"{type(a).__name__.lower()} {a.id}" for a in aggregates)
            raise ConcurrentUpdate(
                f"{names}: changed by another command at the same time; reload and retry",
                {"version": [str(a.version) for a in aggregates]},
            ) from None

    def _owns(self, aggregate: Any, event: Any) -> bool:
        if self.owner is None:
            return False
        kind = kind_of_stream(aggregate)
        return kind is not None and kind.may_append(self.owner, aggregate, type(event))

    def get_call(self, call_id: str) -> Call:
        call = self._find(call_stream_id(call_id), Call)
        if call is None:
            raise NotFound(f"no call {call_id}")
        return call

    def find_calendar_year(self, year: int) -> CalendarYear | None:
        """The ministry's record of a year's holiday arrangement, or None if it recorded none."""
        return self._find(calendar_year_stream_id(year), CalendarYear)

    def recorded_arrangement(self, year: int) -> Arrangement | None:
        """The latest recorded arrangement of `year`, as `shared.domain.calendar.WorkingCalendar` asks for it."""
        found = self.find_calendar_year(year)
        return found.arrangement() if found is not None else None

    def find_dossier(self, credit_code: str) -> Dossier | None:
        """The documents a unit deposited, or None if it has deposited none."""
        return self._find(dossier_id(credit_code), Dossier)

    def find_allocation(self, call_id: str, kind: str, scope: str) -> Allocation | None:
        """The places of `kind` for `scope` in the call, or None if nobody has taken one yet."""
        return self._find(allocation_id(call_id, kind, scope), Allocation)

    def find_panel(self, call_id: str, direction: str) -> Panel | None:
        """The expert panel of a call's direction, or None if the ministry has formed none."""
        return self._find(panel_id(call_id, direction), Panel)

    def find_public_list(self, list_id: str) -> PublicList | None:
        """The public list `<call id>:<kind>`, or None if it was never put up."""
        return self._find(list_stream_id(list_id), PublicList)

    def event_types_since(self, aggregate_id: UUID, version: int) -> list[str]:
        """The types of the events stored for the aggregate after `version`."""
        return [type(e).__name__ for e in self.events.get(aggregate_id, gt=version)]

    def recorded(self, stream_id: UUID | str, version: int) -> RecordedEvent | None:
        """The event stored at `version` of the stream, as the relay publishes it; None if none is."""
        try:
            originator = UUID(str(stream_id))
        except ValueError:
            return None
        found = list(self.events.get(originator, gt=version - 1, lte=version))
        return to_recorded(found[0]) if found else None

    def history(self, case_id: UUID | str) -> list[RecordedEvent]:
        case = self.get_case(case_id)  # raises NotFound
        return [to_recorded(e) for e in self.events.get(case.id)]

    def stream_history(self, stream_id: UUID | str) -> list[RecordedEvent]:
        """Every event of any stream (a case, a panel), oldest first; none for an id no stream has."""
        try:
            originator = UUID(str(stream_id))
        except ValueError:
            return []
        return [to_recorded(e) for e in self.events.get(originator)]

    def notifications(self, after: int, limit: int) -> Iterator[tuple[int, Any]]:
        """Domain events after notification id `after`, in commit order."""
        for n in self.recorder.select_notifications(
            start=after, limit=limit, inclusive_of_start=False
        ):
            yield n.id, self.mapper.to_domain_event(n)

    def max_notification_id(self) -> int:
        return self.recorder.max_notification_id() or 0

    def clear_snapshots(self) -> int:
        """Deletes every case snapshot (a cache: the next reads replay the events, the next saves take new
        ones); the number deleted. The recorders have no delete: one statement on their own datastore."""
        assert self.snapshots is not None
        recorder: Any = self.snapshots.recorder
        with recorder.datastore.transaction(commit=True) as cursor:
            cursor.execute(f"SELECT COUNT(*) AS held FROM {recorder.events_table_name}")
            row = cursor.fetchone()  # a dict on PostgreSQL (the recorder's row factory), a row on SQLite
            cursor.execute(f"DELETE FROM {recorder.events_table_name}")
        return int(row["held"] if isinstance(row, dict) else row[0])
