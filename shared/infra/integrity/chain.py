"""Per-aggregate hash chains over the ledger's stored event records.

A stored record is what the event store holds for one event: originator id,
originator version, topic and state bytes. Its hash is SHA-256 over a canonical,
length-prefixed encoding of those four fields; the chain hash of version n is

    chain_n = SHA-256(chain_{n-1} || event_hash_n),   chain_0 = 32 zero bytes

so each recorded event carries the hash of its predecessor (`prev_hash`) and of its
own stored bytes (`event_hash`). Works for any originator (cases, calls, quotas).

`compare` holds an aggregate's stored records against the hashes recorded for it
when the checkpoint follower first read them, and names the first bad version and
what happened to it (modified, deleted, inserted, reordered, truncated). No I/O.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

GENESIS = bytes(32)
_EVENT_TAG = b"caseplatform/ledger/event/v1\n"
_LEAF_TAG = b"caseplatform/ledger/leaf/v1\n"


@dataclass(frozen=True)
class StoredRecord:
    """One row of the event store, as stored."""

    originator_id: str
    originator_version: int
    topic: str
    state: bytes
    notification_id: int | None = None


@dataclass(frozen=True)
class LedgerRow(StoredRecord):
    """A stored record read from the ledger itself: unlike one rebuilt from a bundle, it has its place in the log."""

    # field(): a bare annotation would inherit StoredRecord's default (None) and not be required.
    notification_id: int = field()


@dataclass(frozen=True)
class RecordedHash:
    """What the checkpoint follower recorded for one event (a row of `event_hashes`)."""

    notification_id: int
    leaf_index: int
    originator_id: str
    originator_version: int
    event_hash: bytes
    prev_hash: bytes
    chain_hash: bytes

    def leaf_data(self) -> bytes:
        return leaf_data(self.notification_id, self.originator_id, self.originator_version,
                         self.event_hash, self.chain_hash)


def _lp(data: bytes) -> bytes:
    return len(data).to_bytes(8, "big") + data


def canonical(record: StoredRecord) -> bytes:
    """The bytes an event's hash is taken over: each field length-prefixed, so none can bleed into another."""
    return (
        _EVENT_TAG
        + _lp(str(record.originator_id).encode())
        + int(record.originator_version).to_bytes(8, "big", signed=True)
        + _lp((record.topic or "").encode())
        + _lp(bytes(record.state or b""))
    )


def event_hash(record: StoredRecord) -> bytes:
    return hashlib.sha256(canonical(record)).digest()


def chain_hash(prev: bytes, ev_hash: bytes) -> bytes:
    return hashlib.sha256(prev + ev_hash).digest()


def leaf_data(notification_id: int, originator_id: str, version: int, ev_hash: bytes, chain: bytes) -> bytes:
    """The Merkle leaf of one event: its place in the log, its case and version, its hashes."""
    return (
        _LEAF_TAG
        + int(notification_id).to_bytes(8, "big", signed=True)
        + _lp(str(originator_id).encode())
        + int(version).to_bytes(8, "big", signed=True)
        + ev_hash
        + chain
    )


@dataclass(frozen=True)
class Finding:
    """The first thing wrong with an aggregate's history."""

    version: int
    kind: str  # modified | deleted | inserted | reordered | truncated | chain_broken | unrecorded
    message: str

    def as_dict(self) -> dict:
        return {"version": self.version, "kind": self.kind, "message": self.message}


def check_recorded(originator_id: str, recorded: Sequence[RecordedHash]) -> Finding | None:
    """The recorded hashes themselves: versions 1..n in order, each linked to its predecessor."""
    prev = GENESIS
    for expected, rec in enumerate(recorded, start=1):
        if rec.originator_version != expected:
            return Finding(expected, "chain_broken",
                           f"{originator_id} version {expected}: the recorded hash chain has no entry for it "
                           f"(next recorded is version {rec.originator_version})")
        if rec.prev_hash != prev:
            return Finding(expected, "chain_broken",
                           f"{originator_id} version {expected}: the recorded previous hash "
                           f"{rec.prev_hash.hex()} is not the chain hash of version {expected - 1}")
        if rec.chain_hash != chain_hash(prev, rec.event_hash):
            return Finding(expected, "chain_broken",
                           f"{originator_id} version {expected}: the recorded chain hash does not follow "
                           "from its previous hash and event hash")
        prev = rec.chain_hash
    return None


def compare(originator_id: str, stored: Sequence[StoredRecord], recorded: Sequence[RecordedHash],
            follower_position: int) -> Finding | None:
    """The first version at which the stored records differ from the recorded hashes, or None.

    `stored` and `recorded` are one aggregate's, each in version order. Stored events
    beyond the recorded ones are new (the follower has not read them yet) unless the
    follower has already passed their place in the log (`follower_position`, the last
    notification id it hashed): then they were put there behind its back.
    """
    bad = check_recorded(originator_id, recorded)
    if bad is not None:
        return bad
    by_version = {rec.originator_version: rec for rec in stored}
    r = {rec.originator_version: rec.event_hash for rec in recorded}
    last_recorded = len(recorded)
    last_stored = max(by_version, default=0)
    who = originator_id

    def at(v: int, as_version: int | None = None) -> bytes | None:
        """The hash of the stored record at version v, as if it stood at `as_version`."""
        rec = by_version.get(v)
        if rec is None:
            return None
        if as_version is not None and as_version != v:
            rec = replace(rec, originator_version=as_version)
        return event_hash(rec)

    for v in range(1, max(last_recorded, last_stored) + 1):
        sv, rv = at(v), r.get(v)
        if sv is not None and sv == rv:
            continue
        if rv is None:  # beyond what the follower recorded
            if sv is None:
                continue
            n = by_version[v].notification_id
            if n is not None and n <= follower_position:
                return Finding(v, "inserted",
                               f"{who} version {v}: inserted behind the checkpoint follower (it sits at "
                               f"notification {n}, which the follower had passed without seeing it)")
            return None  # not yet read by the follower: new, not tampered
        if sv is None:
            if v > last_stored:
                return Finding(v, "truncated",
                               f"{who} version {v}: deleted; the history was truncated after version "
                               f"{last_stored} but versions up to {last_recorded} were recorded")
            return Finding(v, "deleted",
                           f"{who} version {v}: deleted (the ledger has no version {v} but it was recorded)")
        # both exist and differ: is it a recorded event moved, or changed bytes?
        nxt = r.get(v + 1)
        if nxt is not None and at(v, v + 1) == nxt and at(v + 1, v) == rv:
            return Finding(v, "reordered",
                           f"{who} versions {v} and {v + 1}: reordered (each holds the other's event)")
        if at(v + 1, v) == rv:
            return Finding(v, "inserted",
                           f"{who} version {v}: an event was inserted here (the recorded version {v} "
                           f"now stands at version {v + 1})")
        if nxt is not None and at(v, v + 1) == nxt:
            return Finding(v, "deleted",
                           f"{who} version {v}: deleted (the recorded version {v + 1} now stands at version {v})")
        return Finding(v, "modified",
                       f"{who} version {v}: the stored event was modified (its SHA-256 is {sv.hex()}, "
                       f"the recorded hash is {rv.hex()})")
    return None


def build_chain(records: Sequence[StoredRecord]) -> list[tuple[bytes, bytes, bytes]]:
    """(event_hash, prev_hash, chain_hash) for an aggregate's records in version order."""
    out, prev = [], GENESIS
    for record in records:
        h = event_hash(record)
        c = chain_hash(prev, h)
        out.append((h, prev, c))
        prev = c
    return out
