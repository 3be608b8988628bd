"""The integrity tables in the ledger's database, and the follower that fills them.

- `event_hashes`: one row per ledger notification, in log order: its Merkle leaf index,
  originator (any aggregate: cases, calls, quotas), version, event hash, previous and
  chain hash, and leaf hash.
- `checkpoints`: signed tree heads over the first `tree_size` leaves.

Both sit beside the event store's own table (`ledger_events`, named after the
eventsourcing application `Ledger`), and on PostgreSQL (and SQLite) a trigger refuses
UPDATE, DELETE and TRUNCATE on all three.

The ledger's stored rows are read here with plain SQL, exactly as stored, never
through the domain model; the write path of the ledger is not touched.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from uuid import UUID

import sqlalchemy as sa

from shared.infra.config import ensure_sqlite_parent, sqlalchemy_url

from . import merkle
from .chain import GENESIS, LedgerRow, RecordedHash, chain_hash, event_hash, leaf_data
from .checkpoints import SignedCheckpoint, new_checkpoint

log = logging.getLogger(__name__)

# On PostgreSQL eventsourcing names the table after the application (`CaseLedger.name =
# "Ledger"`): "<name lower>_events"; its SQLite recorder always uses "stored_events".
# Tests hold both against the recorder's own name.
EVENTS_TABLE = "ledger_events"
SQLITE_EVENTS_TABLE = "stored_events"
FOLLOWER_LOCK_KEY = 0x63686b70  # "chkp": one checkpoint follower writes at a time
BATCH = 1000

metadata = sa.MetaData()

event_hashes = sa.Table(
    "event_hashes",
    metadata,
    sa.Column("notification_id", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("leaf_index", sa.BigInteger, nullable=False, unique=True),
    sa.Column("originator_id", sa.String(64), nullable=False),
    sa.Column("originator_version", sa.BigInteger, nullable=False),
    sa.Column("event_hash", sa.LargeBinary(32), nullable=False),
    sa.Column("prev_hash", sa.LargeBinary(32), nullable=False),
    sa.Column("chain_hash", sa.LargeBinary(32), nullable=False),
    sa.Column("leaf_hash", sa.LargeBinary(32), nullable=False),
    sa.UniqueConstraint("originator_id", "originator_version", name="event_hashes_originator_version"),
)

checkpoints = sa.Table(
    "checkpoints",
    metadata,
    sa.Column("seq", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("tree_size", sa.BigInteger, nullable=False),
    sa.Column("root", sa.String(64), nullable=False),
    sa.Column("timestamp", sa.String(40), nullable=False),
    sa.Column("key_id", sa.String(64), nullable=False),
    sa.Column("body", sa.Text, nullable=False),
    sa.Column("signature", sa.Text, nullable=False),
    sa.Column("public_key", sa.Text, nullable=False),
)

_PG_FUNCTION = """
CREATE OR REPLACE FUNCTION caseplatform_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the % table is append-only: % refused', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$
"""


def _identity(value) -> str:
    """An originator id as the domain names it (a UUID in its usual form), whatever the backend stores."""
    try:
        return str(value if isinstance(value, UUID) else UUID(str(value)))
    except ValueError:
        return str(value)


def _rows_to_recorded(rows) -> list[RecordedHash]:
    return [RecordedHash(
        notification_id=r.notification_id, leaf_index=r.leaf_index, originator_id=r.originator_id,
        originator_version=r.originator_version, event_hash=bytes(r.event_hash),
        prev_hash=bytes(r.prev_hash), chain_hash=bytes(r.chain_hash),
    ) for r in rows]


def _signed(row) -> SignedCheckpoint:
    return SignedCheckpoint(body=row.body, signature=row.signature, public_key=row.public_key)


@dataclass(frozen=True)
class PassResult:
    hashed: int
    checkpoint: SignedCheckpoint | None  # the one signed in this pass, if any


class IntegrityStore:
    """The integrity tables of one ledger database (SQLite or PostgreSQL)."""

    def __init__(self, ledger_url: str, pool_size: int = 1, max_overflow: int = 2):
        self.url = ledger_url
        self.postgres = not ledger_url.startswith("sqlite")
        kwargs: dict = {"pool_pre_ping": True}
        if self.postgres:
            kwargs.update(pool_size=pool_size, max_overflow=max_overflow)
        else:
            ensure_sqlite_parent(ledger_url)
            kwargs["connect_args"] = {"timeout": 30}
        self.engine = sa.create_engine(sqlalchemy_url(ledger_url), **kwargs)
        self._nid = "notification_id" if self.postgres else "rowid"
        self.events_table = EVENTS_TABLE if self.postgres else SQLITE_EVENTS_TABLE
        self.append_only_tables = (self.events_table, "event_hashes", "checkpoints")

    def dispose(self) -> None:
        self.engine.dispose()

    # -- schema

    def create(self, append_only: bool = True) -> None:
        """Create the integrity tables and (by default) the append-only triggers.

        The event store's own table must exist (open a CaseLedger on the URL first)."""
        from shared.infra.ledger import schema_lock  # the same lock the ledger's own DDL takes

        with schema_lock(self.url):
            metadata.create_all(self.engine)
            if append_only:
                self.install_append_only()

    def install_append_only(self) -> None:
        with self.engine.begin() as conn:
            if self.postgres:
                conn.execute(sa.text(_PG_FUNCTION))
                for table in self.append_only_tables:
                    conn.execute(sa.text(
                        f'CREATE OR REPLACE TRIGGER "{table}_append_only" BEFORE UPDATE OR DELETE ON "{table}" '
                        "FOR EACH ROW EXECUTE FUNCTION caseplatform_append_only()"))
                    conn.execute(sa.text(
                        f'CREATE OR REPLACE TRIGGER "{table}_no_truncate" BEFORE TRUNCATE ON "{table}" '
                        "FOR EACH STATEMENT EXECUTE FUNCTION caseplatform_append_only()"))
            else:
                for table in self.append_only_tables:
                    for op in ("UPDATE", "DELETE"):
                        conn.execute(sa.text(
                            f'CREATE TRIGGER IF NOT EXISTS "{table}_no_{op.lower()}" BEFORE {op} ON "{table}" '
                            f"BEGIN SELECT RAISE(ABORT, 'the {table} table is append-only: {op} refused'); END"))

    # -- the ledger's stored rows, as stored

    def _record(self, row) -> LedgerRow:
        return LedgerRow(originator_id=_identity(row.originator_id),
                         originator_version=int(row.originator_version),
                         topic=row.topic or "", state=bytes(row.state or b""),
                         notification_id=int(row.notification_id))

    def read_ledger(self, after: int, limit: int = BATCH, upto: int | None = None) -> list[LedgerRow]:
        """Stored rows after notification id `after`, in log order."""
        sql = (f"SELECT {self._nid} AS notification_id, originator_id, originator_version, topic, state "
               f"FROM {self.events_table} WHERE {self._nid} > :after")
        params: dict = {"after": after, "limit": limit}
        if upto is not None:
            sql += f" AND {self._nid} <= :upto"
            params["upto"] = upto
        sql += f" ORDER BY {self._nid} LIMIT :limit"
        with self.engine.connect() as conn:
            return [self._record(r) for r in conn.execute(sa.text(sql), params)]

    def stored_records(self, originator_id: str) -> list[LedgerRow]:
        """One aggregate's stored rows, in version order."""
        with self.engine.connect() as conn:
            rows = conn.execute(sa.text(
                f"SELECT {self._nid} AS notification_id, originator_id, originator_version, topic, state "
                f"FROM {self.events_table} WHERE originator_id = :id ORDER BY originator_version"),
                {"id": self._originator_param(originator_id)})
            return [self._record(r) for r in rows]

    def _originator_param(self, originator_id: str):
        # as eventsourcing stores it: a uuid column on PostgreSQL, the UUID's hex on SQLite
        try:
            uid = UUID(str(originator_id))
        except ValueError:
            return str(originator_id)
        return uid if self.postgres else uid.hex

    def max_ledger_id(self) -> int:
        with self.engine.connect() as conn:
            return conn.execute(sa.text(f"SELECT MAX({self._nid}) FROM {self.events_table}")).scalar() or 0

    # -- what the follower recorded

    def position(self) -> int:
        """The last notification id the follower hashed (0: none)."""
        with self.engine.connect() as conn:
            return conn.execute(sa.select(sa.func.max(event_hashes.c.notification_id))).scalar() or 0

    def leaf_count(self) -> int:
        with self.engine.connect() as conn:
            return conn.execute(sa.select(sa.func.count()).select_from(event_hashes)).scalar_one()

    def recorded(self, originator_id: str) -> list[RecordedHash]:
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(event_hashes).where(event_hashes.c.originator_id == _identity(originator_id))
                                .order_by(event_hashes.c.originator_version))
            return _rows_to_recorded(rows)

    def recorded_range(self, after: int, limit: int = BATCH) -> list[RecordedHash]:
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(event_hashes).where(event_hashes.c.notification_id > after)
                                .order_by(event_hashes.c.notification_id).limit(limit))
            return _rows_to_recorded(rows)

    def leaf_hashes(self, limit: int | None = None) -> list[bytes]:
        """The Merkle leaves in order (as recorded; each is checked against its row by verifiers)."""
        query = sa.select(event_hashes.c.leaf_index, event_hashes.c.leaf_hash).order_by(event_hashes.c.leaf_index)
        if limit is not None:
            query = query.limit(limit)
        with self.engine.connect() as conn:
            return [bytes(r.leaf_hash) for r in conn.execute(query)]

    def recorded_leaves(self) -> Iterator[tuple[RecordedHash, bytes]]:
        """Every recorded row with its stored leaf hash, in leaf order, a batch at a time."""
        after = -1
        while True:
            with self.engine.connect() as conn:
                rows = list(conn.execute(sa.select(event_hashes).where(event_hashes.c.leaf_index > after)
                                         .order_by(event_hashes.c.leaf_index).limit(BATCH)))
            if not rows:
                return
            for row, rec in zip(rows, _rows_to_recorded(rows), strict=True):
                yield rec, bytes(row.leaf_hash)
            after = rows[-1].leaf_index

    def checkpoints(self) -> list[SignedCheckpoint]:
        with self.engine.connect() as conn:
            return [_signed(r) for r in conn.execute(sa.select(checkpoints).order_by(checkpoints.c.seq))]

    def latest_checkpoint(self) -> SignedCheckpoint | None:
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(checkpoints).order_by(checkpoints.c.seq.desc()).limit(1)).first()
        return _signed(row) if row is not None else None

    def checkpoint(self, seq: int) -> SignedCheckpoint | None:
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(checkpoints).where(checkpoints.c.seq == seq)).first()
        return _signed(row) if row is not None else None

    # -- the follower

    def _lock(self, conn) -> None:
        if self.postgres:
            conn.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": FOLLOWER_LOCK_KEY})

    def hash_batch(self, limit: int = BATCH) -> int:
        """Hash the next stored rows after the follower's position; returns how many."""
        with self.engine.begin() as conn:
            self._lock(conn)
            after = conn.execute(sa.select(sa.func.max(event_hashes.c.notification_id))).scalar() or 0
            leaf = conn.execute(sa.select(sa.func.count()).select_from(event_hashes)).scalar_one()
            rows = [self._record(r) for r in conn.execute(sa.text(
                f"SELECT {self._nid} AS notification_id, originator_id, originator_version, topic, state "
                f"FROM {self.events_table} WHERE {self._nid} > :after ORDER BY {self._nid} LIMIT :limit"),
                {"after": after, "limit": limit})]
            heads: dict[str, tuple[int, bytes]] = {}
            values = []
            for rec in rows:
                if rec.originator_id not in heads:
                    row = conn.execute(sa.select(event_hashes.c.originator_version, event_hashes.c.chain_hash)
                                       .where(event_hashes.c.originator_id == rec.originator_id)
                                       .order_by(event_hashes.c.originator_version.desc()).limit(1)).first()
                    heads[rec.originator_id] = (row.originator_version, bytes(row.chain_hash)) if row else (0, GENESIS)
                last_version, prev = heads[rec.originator_id]
                if rec.originator_version != last_version + 1:
                    log.error("integrity: %s version %d follows recorded version %d in the log",
                              rec.originator_id, rec.originator_version, last_version)
                h = event_hash(rec)
                c = chain_hash(prev, h)
                values.append({
                    "notification_id": rec.notification_id, "leaf_index": leaf,
                    "originator_id": rec.originator_id, "originator_version": rec.originator_version,
                    "event_hash": h, "prev_hash": prev, "chain_hash": c,
                    "leaf_hash": merkle.leaf_hash(leaf_data(rec.notification_id, rec.originator_id,
                                                            rec.originator_version, h, c)),
                })
                heads[rec.originator_id] = (rec.originator_version, c)
                leaf += 1
            if values:
                conn.execute(event_hashes.insert(), values)
            return len(values)

    def sign_head(self, key, now: datetime | None = None) -> SignedCheckpoint | None:
        """Sign a checkpoint over every recorded leaf, unless the latest one already covers them."""
        with self.engine.begin() as conn:
            self._lock(conn)
            leaves = [bytes(r.leaf_hash) for r in conn.execute(
                sa.select(event_hashes.c.leaf_hash).order_by(event_hashes.c.leaf_index))]
            row = conn.execute(sa.select(checkpoints).order_by(checkpoints.c.seq.desc()).limit(1)).first()
            latest = _signed(row) if row is not None else None
            if latest is not None and latest.checkpoint.tree_size == len(leaves):
                return None
            if latest is None and not leaves:
                return None
            stamp = (now or datetime.now(UTC)).astimezone(UTC).isoformat()
            seq = latest.checkpoint.seq + 1 if latest is not None else 1
            tree = merkle.CompactRange()
            tree.extend(leaves)
            signed = new_checkpoint(seq, tree.size, tree.root(), stamp, latest, key)
            cp = signed.checkpoint
            conn.execute(checkpoints.insert().values(
                seq=cp.seq, tree_size=cp.tree_size, root=cp.root, timestamp=cp.timestamp, key_id=cp.key_id,
                body=signed.body, signature=signed.signature, public_key=signed.public_key))
            return signed

    def run_once(self, key, now: datetime | None = None,
                 progress: Callable[[int, int], None] | None = None) -> PassResult:
        """One pass of the follower: hash every new stored row, then sign the head if it grew."""
        total = 0
        target = self.max_ledger_id()
        while True:
            n = self.hash_batch()
            total += n
            if progress is not None:
                progress(self.position(), target)
            if n < BATCH:
                break
        return PassResult(total, self.sign_head(key, now))

    def publish(self, evidence) -> int:
        """Copy every checkpoint the evidence store lacks into it (write-once objects)."""
        have = set(evidence.list_checkpoints())
        n = 0
        for signed in self.checkpoints():
            seq = signed.checkpoint.seq
            if seq not in have:
                evidence.put_checkpoint(seq, signed.to_json())
                n += 1
        return n
