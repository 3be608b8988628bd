"""Audit commands (issue #8): a case's history and state at any moment, and proof the history was not changed.

The ledger read back (`replay`, `state`, `diff`, `events`), the evidence files re-hashed
(`evidence-audit`), and the hash chains and signed checkpoints (`checkpoint`,
`verify-case`, `verify-ledger`, `export-bundle`, and `verify-bundle`, which works offline).
"""

from __future__ import annotations

import json
import sys
import time


class _Progress:
    """`label: done/total` on stderr, redrawn in place on a terminal, a line per 10% otherwise."""

    def __init__(self, label: str):
        self.label, self.tty, self.last, self.shown = label, sys.stderr.isatty(), 0.0, -1

    def __call__(self, done: int, total: int, what: str = "") -> None:
        label = f"{self.label} {what}".strip()
        if self.tty:
            now = time.monotonic()
            if now - self.last >= 0.1 or done >= total:
                self.last = now
                print(f"\r{label}: {done}/{total}", end="\n" if done >= total else "", file=sys.stderr, flush=True)
            return
        tenth = int(10 * done / total) if total else 10
        if tenth != self.shown:
            self.shown = tenth
            print(f"{label}: {done}/{total}", file=sys.stderr, flush=True)


def _open_integrity(settings):
    from shared.infra.integrity.store import IntegrityStore
    from shared.infra.ledger import CaseLedger

    CaseLedger(settings.ledger_url, owner=None).close()  # the event store's table exists
    store = IntegrityStore(settings.ledger_url)
    store.create()
    return store


def _trusted_key_id(settings, given: str | None) -> str | None:
    from pathlib import Path

    from shared.infra.integrity.checkpoints import key_id, load_or_create_key, public_bytes

    if given:
        return given.lower()
    if Path(settings.checkpoint_key_path).exists():
        return key_id(public_bytes(load_or_create_key(settings.checkpoint_key_path)))
    return None


def _evidence_or_none(settings):
    from shared.infra.objectstore.store import EvidenceStore

    try:
        store = EvidenceStore.from_settings(settings, connect_timeout=3.0)
        store.bucket_status()
        return store
    except Exception as exc:  # noqa: BLE001 - reported, and the check goes on without it
        print(f"caseplatform: the evidence store is not reachable ({exc}); "
              "checkpoints are not compared with their published copies", file=sys.stderr)
        return None


def _print_json(data) -> None:
    print(json.dumps(data, ensure_ascii=False, indent=2, default=str))


def replay(args) -> int:
    from shared.infra.config import Settings
    from shared.infra.ledger import CaseLedger

    ledger = CaseLedger(Settings.from_env().ledger_url, owner=None)
    try:
        for event in ledger.history(args.case_id):
            print(json.dumps(event.as_dict(), ensure_ascii=False))
    finally:
        ledger.close()
    return 0


def state(args) -> int:
    from services.audit.application import case_as_of
    from shared.infra.config import Settings
    from shared.infra.ledger import CaseLedger

    ledger = CaseLedger(Settings.from_env().ledger_url, owner=None)
    try:
        _print_json(case_as_of(ledger, args.case_id, args.version, args.at))
    finally:
        ledger.close()
    return 0


def diff(args) -> int:
    from services.audit.application import case_diff
    from shared.infra.config import Settings
    from shared.infra.ledger import CaseLedger

    ledger = CaseLedger(Settings.from_env().ledger_url, owner=None)
    try:
        _print_json(case_diff(ledger, args.case_id, args.first, args.second))
    finally:
        ledger.close()
    return 0


def events(args) -> int:
    from datetime import date, datetime
    from datetime import time as dtime

    from services.audit.application import CHINA, events_between, parse_moment
    from shared.infra.config import Settings
    from shared.infra.ledger import CaseLedger

    start = (datetime.combine(date.fromisoformat(args.start), dtime.min, CHINA) if len(args.start) == 10
             else parse_moment(args.start, "from"))
    end = parse_moment(args.end, "to")
    ledger = CaseLedger(Settings.from_env().ledger_url, owner=None)
    try:
        for row in events_between(ledger, start, end, args.org, progress=_Progress("reading the ledger")):
            print(json.dumps(row, ensure_ascii=False))
    finally:
        ledger.close()
    return 0


def checkpoint(args) -> int:
    from shared.infra.config import Settings
    from shared.infra.integrity.checkpoints import load_or_create_key

    settings = Settings.from_env()
    store = _open_integrity(settings)
    try:
        key = load_or_create_key(settings.checkpoint_key_path)
        result = store.run_once(key, progress=_Progress("hashing events"))
        evidence = _evidence_or_none(settings)
        if evidence is not None:
            evidence.ensure_bucket()
            store.publish(evidence)
        latest = store.latest_checkpoint()
        _print_json({"hashed": result.hashed, "signed": result.checkpoint is not None,
                     "latest": latest.as_dict() if latest else None})
    finally:
        store.dispose()
    return 0


def verify_case(args) -> int:
    from shared.infra.config import Settings
    from shared.infra.integrity import verify as integrity_verify

    settings = Settings.from_env()
    store = _open_integrity(settings)
    try:
        report = integrity_verify.verify_case(store, args.case_id, _trusted_key_id(settings, args.key_fingerprint),
                                              _evidence_or_none(settings), with_proofs=False)
    finally:
        store.dispose()
    _print_json(report.as_dict())
    return 0 if report.ok else 1


def verify_ledger(args) -> int:
    from shared.infra.config import Settings
    from shared.infra.integrity import verify as integrity_verify

    settings = Settings.from_env()
    store = _open_integrity(settings)
    try:
        report = integrity_verify.verify_ledger(store, _trusted_key_id(settings, args.key_fingerprint),
                                                _evidence_or_none(settings), progress=_Progress("verifying the ledger"))
    finally:
        store.dispose()
    _print_json(report.as_dict())
    return 0 if report.ok else 1


def export_bundle(args) -> int:
    from shared.infra.config import Settings
    from shared.infra.integrity.checkpoints import load_or_create_key
    from shared.infra.integrity.export import export_case
    from shared.infra.ledger import CaseLedger

    settings = Settings.from_env()
    store = _open_integrity(settings)
    ledger = CaseLedger(settings.ledger_url, owner=None)
    try:
        ledger.get_case(args.case_id)  # NotFound for no such case
        if not args.no_checkpoint:  # sign the newest events first, so the bundle proves them all
            store.run_once(load_or_create_key(settings.checkpoint_key_path), progress=_Progress("hashing events"))
        evidence = _evidence_or_none(settings)
        progress = _Progress("exporting")
        bundle = export_case(store, args.case_id, evidence=evidence,
                             progress=lambda what, done, total: progress(done, total, what))
    finally:
        ledger.close()
        store.dispose()
    out = args.output or f"audit-bundle-{args.case_id}.json"
    with open(out, "w", encoding="utf-8") as fh:
        json.dump(bundle, fh, ensure_ascii=False, indent=1)
    print(f"{out}: {len(bundle['events'])} event(s), {len(bundle['evidence'])} evidence file(s), "
          f"checkpoint signed by key {(bundle.get('public_key') or {}).get('key_id')}")
    return 0


def verify_bundle(args) -> int:
    """Offline: reads only the bundle (and evidence files if given); no settings, database or network."""
    from pathlib import Path

    from shared.infra.integrity import bundle as audit_bundle

    try:
        with open(args.file, encoding="utf-8") as fh:
            bundle = json.load(fh)
    except (OSError, ValueError) as exc:
        print(f"caseplatform: cannot read {args.file}: {exc}", file=sys.stderr)
        return 2
    files = None
    if args.evidence_dir:
        files = [p for p in Path(args.evidence_dir).rglob("*") if p.is_file()]
    report = audit_bundle.verify_bundle(bundle, args.key_fingerprint, files)
    for line in report.warnings:
        print(f"warning: {line}", file=sys.stderr)
    if report.ok:
        cp = report.checkpoint or {}
        print(f"OK: case {bundle.get('case_id')}: {report.verified_events} event(s) proved in checkpoint "
              f"{cp.get('seq')} (tree size {cp.get('tree_size')}, key {report.key_id}); "
              f"{report.verified_evidence} evidence file(s) match")
        return 0
    for line in report.problems:
        print(f"FAILED: {line}")
    return 1


def evidence_audit(args) -> int:
    """Re-hashes every evidence file the ledger names; exit 1 when one is missing or altered."""
    from services.documents.integrity import audit_evidence
    from shared.domain.errors import PlatformError
    from shared.infra.config import Settings
    from shared.infra.ledger import CaseLedger
    from shared.infra.objectstore.store import EvidenceStore

    settings = Settings.from_env()
    started, last = time.monotonic(), [0.0]

    def progress(done: int, total: int, bytes_read: int) -> None:
        now = time.monotonic()
        if args.quiet or (done < total and now - last[0] < args.progress_every):
            return
        last[0] = now
        print(f"evidence-audit: {done}/{total} files, {bytes_read / 2**20:.1f} MiB read, "
              f"{now - started:.1f} s", file=sys.stderr, flush=True)

    ledger = CaseLedger(settings.ledger_url, owner=None)
    try:
        report = audit_evidence(ledger, EvidenceStore.from_settings(settings), progress)
    except PlatformError as exc:  # the store could not be read: no verdict at all
        print(f"evidence-audit: {exc.message}", file=sys.stderr)
        return 2
    finally:
        ledger.close()
    print(json.dumps(report, ensure_ascii=False, indent=2))
    counts = report["counts"]
    print(f"evidence-audit: {counts['objects']} files named by {counts['references']} events: "
          f"{counts['intact']} intact, {counts['missing']} missing, {counts['altered']} altered",
          file=sys.stderr)
    return 0 if report["ok"] else 1
