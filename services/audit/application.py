"""What an auditor reads: a case's whole history from the ledger, its state at any version
or moment, the difference between two versions, who touched what and when, and the proof
that none of it was changed (hash chain, signed checkpoints, offline bundle)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, time, timedelta
from uuid import UUID
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from shared.domain.access import Caller
from shared.domain.case import Case
from shared.domain.errors import NotFound, ValidationFailed
from shared.infra.integrity import merkle
from shared.infra.integrity.checkpoints import CheckpointError, b64, verify
from shared.infra.integrity.export import export_case
from shared.infra.integrity.verify import verify_case
from shared.infra.ledger import CaseLedger, to_recorded
from shared.infra.readmodels.store import ReadModelStore
from shared.infra.web.views import case_view

from . import readmodels as rm

CHINA = ZoneInfo("Asia/Shanghai")
MAX_NUMBER = 2**31 - 1  # versions and checkpoint numbers are PostgreSQL integers


# -- replay, usable without nameko (the CLI calls these too) --------------------------------


EARLIEST_YEAR, LATEST_YEAR = 2000, 2199


def parse_moment(text: str, field: str = "at") -> datetime:
    """A date (the end of that day in China: what was known that day) or an ISO date-time
    (China time when it names no zone)."""
    try:
        moment = datetime.combine(date.fromisoformat(text), time.max, CHINA) if len(text) == 10 \
            else datetime.fromisoformat(text)
    except (TypeError, ValueError):
        raise ValidationFailed({field: ["a date (YYYY-MM-DD) or an ISO 8601 date-time"]}) from None
    if not EARLIEST_YEAR <= moment.year <= LATEST_YEAR:
        # Nothing is recorded outside these years, and arithmetic at the calendar's ends overflows.
        raise ValidationFailed({field: [f"a moment from {EARLIEST_YEAR} to {LATEST_YEAR}"]})
    return moment if moment.tzinfo else moment.replace(tzinfo=CHINA)


def parse_version(text: str | None, field: str) -> int | None:
    if text is None or text == "":
        return None
    try:
        value = int(text)
    except ValueError:
        raise ValidationFailed({field: ["a version number (1, 2, ...)"]}) from None
    if value < 1:
        raise ValidationFailed({field: ["versions start at 1"]})
    if value > MAX_NUMBER:  # past what the ledger's integer columns hold: no such version, and no SQL error
        raise ValidationFailed({field: [f"at most {MAX_NUMBER}"]})
    return value


def case_as_of(ledger: CaseLedger, case_id: str, version: int | None = None, at: str | None = None) -> dict:
    """The case as it stood at `version`, or after the last event at or before `at`."""
    events = ledger.history(case_id)  # NotFound if there is no such case
    moment = None
    if at is not None:
        moment = parse_moment(at)
        before = [e for e in events if datetime.fromisoformat(e.timestamp) <= moment]
        if not before:
            raise NotFound(f"case {case_id} did not exist yet at {moment.isoformat()}")
        version = before[-1].version
    elif version is None:
        version = events[-1].version
    if not 1 <= version <= len(events):
        raise NotFound(f"case {case_id} has no version {version}; it has versions 1 to {len(events)}",
                       {"version": [f"1..{len(events)}"]})
    case: Case = ledger.repository.get(UUID(str(case_id)), version=version)
    last = events[version - 1]
    return {
        "case_id": str(case_id),
        "version": version,
        "latest_version": len(events),
        "as_of": moment.isoformat() if moment else None,
        "last_event": {"type": last.type, "timestamp": last.timestamp, "actor": last.actor},
        "case": case_view(case),
    }


def case_diff(ledger: CaseLedger, case_id: str, first: int, second: int) -> dict:
    """What changed in the case from version `first` to version `second`, and the events between."""
    if first > second:
        raise ValidationFailed({"from": [f"must not be after to ({second})"]})
    before = case_as_of(ledger, case_id, version=first)
    after = case_as_of(ledger, case_id, version=second)
    changes = {
        key: {"from": before["case"].get(key), "to": after["case"].get(key)}
        for key in sorted(set(before["case"]) | set(after["case"]))
        if before["case"].get(key) != after["case"].get(key)
    }
    events = [e.as_dict() for e in ledger.history(case_id) if first < e.version <= second]
    return {"case_id": str(case_id), "from": first, "to": second, "changes": changes, "events": events}


def events_between(ledger: CaseLedger, start: datetime, end: datetime, org: str | None = None,
                   progress: Callable[[int, int], None] | None = None) -> Iterator[dict]:
    """Every ledger event stored in [start, end) (optionally by one organisation), read from the log."""
    after, total = 0, ledger.max_notification_id()
    while True:
        batch = list(ledger.notifications(after, 500))
        if not batch:
            return
        for nid, event in batch:
            after = nid
            actor = dict(getattr(event, "actor", {}) or {})
            if start <= event.timestamp < end and (org is None or actor.get("org") == org):
                recorded = to_recorded(event, nid).as_dict()  # `case_id` only on a case's events
                yield {k: v for k, v in recorded.items() if k != "payload"}
        if progress is not None:
            progress(after, total)


# -- the service's application -------------------------------------------------------------


class Audit:
    def __init__(self, ledger: CaseLedger, store: ReadModelStore, integrity=None):
        self.ledger = ledger
        self.store = store
        self.integrity = integrity  # services.audit.follower.IntegrityContext

    def history(self, caller: Caller, case_id: str) -> dict:
        caller.require("auditor")
        events = [e.as_dict() for e in self.ledger.history(case_id)]
        return {"case_id": str(case_id), "version": len(events), "events": events}

    def state(self, caller: Caller, case_id: str, version: str | None = None, at: str | None = None) -> dict:
        caller.require("auditor")
        if version and at:
            raise ValidationFailed({"at": ["give either version or at, not both"]})
        return case_as_of(self.ledger, case_id, parse_version(version, "version"), at or None)

    def diff(self, caller: Caller, case_id: str, first: str | None, second: str | None) -> dict:
        caller.require("auditor")
        a, b = parse_version(first, "from"), parse_version(second, "to")
        if a is None or b is None:
            raise ValidationFailed({k: ["required"] for k, v in (("from", a), ("to", b)) if v is None})
        return case_diff(self.ledger, case_id, a, b)

    def touched_by(self, caller: Caller, org: str) -> list[dict]:
        caller.require("auditor")
        with self.store.session() as session:
            rows = session.execute(sa.select(rm.touches).where(rm.touches.c.actor_org == org)
                                   .order_by(rm.touches.c.timestamp))
            return [dict(r._mapping) for r in rows]

    def touched_between(self, caller: Caller, start: str | None, end: str | None) -> dict:
        """Every case touched in [from, to): its events in that period, by whom."""
        caller.require("auditor")
        if not start or not end:
            raise ValidationFailed({k: ["required"] for k, v in (("from", start), ("to", end)) if not v})
        lo, hi = parse_moment(start, "from"), parse_moment(end, "to")
        if len(start) == 10:  # a date starts at the beginning of that day
            lo = datetime.combine(date.fromisoformat(start), time.min, CHINA)
        if hi < lo:
            raise ValidationFailed({"to": ["the end of the period is before its start"]})
        lo_utc, hi_utc = lo.astimezone(UTC), hi.astimezone(UTC)
        # Stored times are UTC ISO strings: narrow by their date in SQL, then compare exactly.
        t = rm.touches.c
        with self.store.session() as session:
            rows = [dict(r._mapping) for r in session.execute(
                sa.select(rm.touches)
                .where(t.timestamp >= (lo_utc - timedelta(days=1)).date().isoformat(),
                       t.timestamp < (hi_utc + timedelta(days=1)).date().isoformat())
                .order_by(t.timestamp, t.case_id, t.version))]
        events = [r for r in rows if lo_utc <= datetime.fromisoformat(r["timestamp"]) < hi_utc]
        cases: dict[str, list[dict]] = {}
        for r in events:
            cases.setdefault(r["case_id"], []).append(r)
        return {"from": lo.isoformat(), "to": hi.isoformat(),
                "cases": [{"case_id": c, "events": len(rs), "actors": sorted({r["actor_org"] for r in rs})}
                          for c, rs in cases.items()],
                "events": events}

    # -- tamper evidence

    def _integrity(self):
        if self.integrity is None:
            raise NotFound("the integrity follower is not running in this process")
        return self.integrity

    def verify(self, caller: Caller, case_id: str) -> dict:
        caller.require("auditor")
        self.ledger.get_case(case_id)  # 404 for no such case
        ctx = self._integrity()
        report = verify_case(ctx.store, case_id, ctx.key_id, ctx.evidence, with_proofs=False)
        return report.as_dict()

    def proofs(self, caller: Caller, case_id: str) -> dict:
        caller.require("auditor")
        self.ledger.get_case(case_id)
        ctx = self._integrity()
        report = verify_case(ctx.store, case_id, ctx.key_id, None, with_proofs=True)
        latest = ctx.store.latest_checkpoint()
        return {"case_id": str(case_id), "ok": report.ok, "problems": report.problems,
                "checkpoint": latest.as_dict() if latest else None, "proofs": report.proofs}

    def bundle(self, caller: Caller, case_id: str) -> dict:
        caller.require("auditor")
        ctx = self._integrity()
        self.ledger.get_case(case_id)  # NotFound for no such case
        return export_case(ctx.store, case_id, evidence=ctx.evidence)

    def checkpoints(self, caller: Caller) -> dict:
        caller.require("auditor")
        ctx = self._integrity()
        return {"key_id": ctx.key_id, "public_key": b64(ctx.public_key),
                "checkpoints": [s.as_dict() for s in ctx.store.checkpoints()]}

    def consistency(self, caller: Caller, first: str | None, second: str | None) -> dict:
        """The consistency proof between checkpoints `first` and `second` (sequence numbers)."""
        caller.require("auditor")
        ctx = self._integrity()
        a, b = parse_version(first, "from"), parse_version(second, "to")
        if a is None or b is None or a > b:
            raise ValidationFailed({"from": ["two checkpoint numbers, from <= to"]})
        signed = {}
        for seq in (a, b):
            s = ctx.store.checkpoint(seq)
            if s is None:
                raise NotFound(f"no checkpoint {seq}")
            try:
                verify(s, ctx.key_id)
            except CheckpointError as exc:
                raise ValidationFailed({"checkpoint": [str(exc)]}) from None
            signed[seq] = s
        one, two = signed[a].checkpoint, signed[b].checkpoint
        leaves = ctx.store.leaf_hashes(limit=two.tree_size)
        proof = merkle.consistency_proof(one.tree_size, leaves)
        merkle.verify_consistency(one.tree_size, two.tree_size, bytes.fromhex(one.root), bytes.fromhex(two.root), proof)
        return {"first": signed[a].as_dict(), "second": signed[b].as_dict(), "proof": [p.hex() for p in proof]}
