"""Tamper evidence at scale: the follower's hashing, and verifying chains and the Merkle tree.

On the ledger the rebuild benchmark built (`sizes.ledger_events`), with the code the
audit service and the CLI run (`shared.infra.integrity`):

- follower pass: every stored row read, hashed, chained per stream and recorded
  (`IntegrityStore.run_once`), then a checkpoint signed;
- verify ledger: every stored row re-hashed against its recorded hash and chain, the
  Merkle root rebuilt from the recorded leaves against the signed checkpoint
  (`verify_ledger`, what `caseplatform verify-ledger` runs);
- Merkle root: the tree alone, rebuilt in memory from the recorded leaf hashes;
- verify case: one typical case with an inclusion proof for each of its events
  (`verify_case`, what `GET /audit/cases/<id>/verify` runs).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import psycopg

from shared.infra.integrity import merkle
from shared.infra.integrity.checkpoints import key_id, load_or_create_key, public_bytes
from shared.infra.integrity.store import IntegrityStore
from shared.infra.integrity.verify import verify_case, verify_ledger


def _a_case(ledger_url: str) -> str:
    """The id of the ledger's first case (a typical history: the rebuild ledger holds nothing else)."""
    with psycopg.connect(ledger_url) as conn:
        row = conn.execute("SELECT originator_id FROM ledger_events WHERE topic LIKE %s "
                           "ORDER BY notification_id LIMIT 1", ("%Case.Submitted",)).fetchone()
    return str(row[0])


def measure(ledger_url: str, key_dir: Path, log: Callable[[str], None] = print) -> dict:
    key = load_or_create_key(key_dir / "bench-checkpoint-ed25519.pem")
    trusted = key_id(public_bytes(key))
    store = IntegrityStore(ledger_url, pool_size=2)
    try:
        store.create()
        started = time.perf_counter()
        passed = store.run_once(key)
        follower_s = time.perf_counter() - started
        log(f"  follower pass: {passed.hashed:,} events hashed and signed, {passed.hashed / follower_s:,.0f}/s")

        started = time.perf_counter()
        report = verify_ledger(store, trusted)
        ledger_s = time.perf_counter() - started
        if not report.ok:
            raise AssertionError(f"the untouched ledger did not verify: {report.problems[:3]}")
        log(f"  verify ledger: {report.checked_events:,} events, {report.checked_events / ledger_s:,.0f}/s")

        leaves = store.leaf_hashes()
        started = time.perf_counter()
        tree = merkle.CompactRange()
        tree.extend(leaves)
        root = tree.root()
        merkle_s = time.perf_counter() - started
        if root.hex() != passed.checkpoint.checkpoint.root:
            raise AssertionError("the Merkle root rebuilt from the recorded leaves is not the signed one")
        log(f"  Merkle root over {len(leaves):,} leaves: {len(leaves) / merkle_s:,.0f} leaves/s")

        case_id = _a_case(ledger_url)
        started = time.perf_counter()
        case_report = verify_case(store, case_id, trusted)
        case_s = time.perf_counter() - started
        if not case_report.ok:
            raise AssertionError(f"case {case_id} did not verify: {case_report.problems[:3]}")
        log(f"  verify case ({case_report.checked_events} events, with proofs): {case_s * 1000:,.0f} ms")
        return {
            "ledger_events": report.checked_events,
            "follower_pass": {"events": passed.hashed, "seconds": follower_s,
                              "events_per_s": passed.hashed / follower_s},
            "verify_ledger": {"events": report.checked_events, "seconds": ledger_s,
                              "events_per_s": report.checked_events / ledger_s},
            "merkle_root": {"leaves": len(leaves), "seconds": merkle_s, "leaves_per_s": len(leaves) / merkle_s},
            "verify_case": {"events": case_report.checked_events, "ms": case_s * 1000},
        }
    finally:
        store.dispose()
