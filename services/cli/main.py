"""`caseplatform`: run the services, mint tokens, drive the demo, replay a case."""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time


def _serve(args) -> int:
    # eventlet must patch the standard library before kombu, psycopg or sqlalchemy load.
    import warnings

    warnings.filterwarnings("ignore", message=r"\s*Eventlet is deprecated")
    import eventlet

    eventlet.monkey_patch()
    from nameko.runners import ServiceRunner

    from shared.infra.config import Settings
    from shared.infra.logs import configure_logging
    from services.cli.registry import service_class

    configure_logging()
    settings = Settings.from_env()
    runner = ServiceRunner(settings.nameko_config(args.service))
    runner.add_service(service_class(args.service))

    def shutdown(signum, frame):  # noqa: ARG001
        eventlet.spawn(runner.stop)

    signal.signal(signal.SIGTERM, shutdown)
    signal.signal(signal.SIGINT, shutdown)
    runner.start()
    print(f"{args.service} listening on http://{settings.http_host}:{settings.ports[args.service]}/{args.service}",
          flush=True)
    runner.wait()
    return 0


def _run(args) -> int:
    from shared.infra.config import SERVICES, Settings
    from services.cli.localinfra import ensure_rabbitmq, ensure_s3

    settings = Settings.from_env()
    try:
        ensure_rabbitmq(settings.amqp_uri)
        s3 = ensure_s3(settings)
    except RuntimeError as exc:
        print(f"caseplatform: {exc}", file=sys.stderr)
        return 2
    env = {**os.environ, "CASEPLATFORM_DATA_DIR": settings.data_dir, "JWT_SECRET": settings.jwt_secret}
    procs = {
        name: subprocess.Popen([sys.executable, "-m", "services.cli.main", "serve", name], env=env)
        for name in SERVICES
    }
    print(f"ledger: {settings.ledger_url}\nS3: {settings.s3_endpoint} bucket {settings.s3_bucket}\n"
          f"RabbitMQ: {settings.amqp_uri.rsplit('@', 1)[-1]}", flush=True)
    print("try: caseplatform demo   (in another shell; Ctrl-C here stops everything)", flush=True)
    stopping = False

    def stop(signum, frame):  # noqa: ARG001
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    code = 0
    while not stopping:
        for name, proc in procs.items():
            if proc.poll() is not None:
                print(f"caseplatform: {name} exited with {proc.returncode}; stopping", file=sys.stderr)
                stopping, code = True, 1
        time.sleep(0.5)
    for proc in procs.values():
        if proc.poll() is None:
            proc.terminate()
    for proc in procs.values():
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
    if s3 is not None:
        s3.stop()
    return code


def _token(args) -> int:
    from shared.infra.web.tokens import mint_token
    from shared.infra.config import Settings

    region = {k: v for k, v in (("province", args.province), ("city", args.city)) if v}
    print(mint_token(
        Settings.from_env().jwt_secret, sub=args.sub or f"{args.role}:{args.org}", role=args.role,
        org=args.org, name=args.name or "", region=region or None, ttl_seconds=args.ttl,
    ))
    return 0


def _replay(args) -> int:
    from shared.infra.config import Settings
    from shared.infra.ledger import CaseLedger

    ledger = CaseLedger(Settings.from_env().ledger_url, owner=None)
    try:
        for event in ledger.history(args.case_id):
            print(json.dumps(event.as_dict(), ensure_ascii=False))
    finally:
        ledger.close()
    return 0


def _parked(args) -> int:
    from shared.infra.config import Settings
    from shared.infra.messaging.parked import list_parked, replay_parked

    settings = Settings.from_env()
    if args.action == "list":
        for item in list_parked(settings.amqp_uri, args.service, settings.exchange):
            print(json.dumps(item, ensure_ascii=False))
    else:
        chosen = set(args.message_id) if args.message_id else None
        moved = replay_parked(settings.amqp_uri, args.service, settings.exchange, chosen)
        print(f"{moved} message(s) back in ledger.{args.service}")
        if chosen is not None and moved < len(chosen):
            print(f"{len(chosen) - moved} of the message ids given are not parked in ledger.{args.service}",
                  file=sys.stderr)
            return 1
    return 0


def _rebuild_readmodels(args) -> int:
    from shared.infra.config import Settings
    from shared.infra.ledger import CaseLedger
    from shared.infra.pools import application_name
    from shared.infra.readmodels.rebuild import Rebuilder, connections_of

    settings = Settings.from_env()
    url = settings.readmodel_url_for(args.service)
    running = connections_of(url, args.service)
    if running:
        print(f"refused: the {args.service} service is running ({len(running)} of its connections are open: "
              f"{', '.join(sorted(set(running)))}); stop it first, or its subscriber would race the rebuild",
              file=sys.stderr)
        return 1
    ledger = CaseLedger(settings.ledger_url, owner=None)
    rebuilder = Rebuilder(args.service, url, application_name=application_name("rebuild", args.service))
    try:
        rebuilder.reset()
        result = rebuilder.batched(ledger, progress=lambda read, applied: print(
            f"  {read:,} events of the log read, {applied:,} applied", file=sys.stderr, flush=True))
    finally:
        rebuilder.close()
        ledger.close()
    print(f"{args.service}: read models rebuilt from {result['read']:,} ledger events ({result['applied']:,} "
          f"of them its own) up to notification {result['position']} in {result['seconds']:.1f} s")
    return 0


def _load_calls(args) -> int:
    """Posts the shipped call definitions to intake as the ministry (local use)."""
    from importlib import resources

    import requests

    from shared.infra.config import Settings
    from services.cli.demo import Platform

    platform = Platform.local(Settings.from_env())
    folder = resources.files("shared.domain").joinpath("calls")
    for entry in sorted((e for e in folder.iterdir() if e.name.endswith(".json")), key=lambda e: e.name):
        response = requests.post(
            f"{platform.base['intake']}/intake/calls", data=entry.read_bytes(),
            headers={"Authorization": f"Bearer {platform.tokens['ministry']}", "Content-Type": "application/json"},
            timeout=30,
        )
        print(f"{entry.name}: {response.status_code} {response.text}")
    return 0


def _evidence_audit(args) -> int:
    """Re-hashes every evidence file the ledger names; exit 1 when one is missing or altered."""
    from services.documents.integrity import audit_evidence
    from shared.infra.config import Settings
    from shared.domain.errors import PlatformError
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


def _demo(args) -> int:
    from services.cli.demo import run_demo

    return run_demo()


# -- audit (issue #8): replay to any moment, and prove the history was not changed ----------


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


def _state(args) -> int:
    from services.audit.application import case_as_of
    from shared.infra.config import Settings
    from shared.infra.ledger import CaseLedger

    ledger = CaseLedger(Settings.from_env().ledger_url, owner=None)
    try:
        _print_json(case_as_of(ledger, args.case_id, args.version, args.at))
    finally:
        ledger.close()
    return 0


def _diff(args) -> int:
    from services.audit.application import case_diff
    from shared.infra.config import Settings
    from shared.infra.ledger import CaseLedger

    ledger = CaseLedger(Settings.from_env().ledger_url, owner=None)
    try:
        _print_json(case_diff(ledger, args.case_id, args.first, args.second))
    finally:
        ledger.close()
    return 0


def _events(args) -> int:
    from datetime import date, datetime, time as dtime

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


def _checkpoint(args) -> int:
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


def _verify_case(args) -> int:
    from shared.infra.config import Settings
    from shared.infra.integrity.verify import verify_case

    settings = Settings.from_env()
    store = _open_integrity(settings)
    try:
        report = verify_case(store, args.case_id, _trusted_key_id(settings, args.key_fingerprint),
                             _evidence_or_none(settings), with_proofs=False)
    finally:
        store.dispose()
    _print_json(report.as_dict())
    return 0 if report.ok else 1


def _verify_ledger(args) -> int:
    from shared.infra.config import Settings
    from shared.infra.integrity.verify import verify_ledger

    settings = Settings.from_env()
    store = _open_integrity(settings)
    try:
        report = verify_ledger(store, _trusted_key_id(settings, args.key_fingerprint), _evidence_or_none(settings),
                               progress=_Progress("verifying the ledger"))
    finally:
        store.dispose()
    _print_json(report.as_dict())
    return 0 if report.ok else 1


def _export_bundle(args) -> int:
    from shared.infra.config import Settings
    from shared.infra.integrity.checkpoints import load_or_create_key
    from shared.infra.integrity.export import export_case
    from shared.infra.ledger import CaseLedger

    settings = Settings.from_env()
    store = _open_integrity(settings)
    ledger = CaseLedger(settings.ledger_url, owner=None)
    try:
        history = [e.as_dict() for e in ledger.history(args.case_id)]
        if not args.no_checkpoint:  # sign the newest events first, so the bundle proves them all
            store.run_once(load_or_create_key(settings.checkpoint_key_path), progress=_Progress("hashing events"))
        evidence = _evidence_or_none(settings)
        progress = _Progress("exporting")
        bundle = export_case(store, args.case_id, evidence=evidence, history=history,
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


def _verify_bundle(args) -> int:
    """Offline: reads only the bundle (and evidence files if given); no settings, database or network."""
    from pathlib import Path

    from shared.infra.integrity.bundle import verify_bundle

    try:
        with open(args.file, encoding="utf-8") as fh:
            bundle = json.load(fh)
    except (OSError, ValueError) as exc:
        print(f"caseplatform: cannot read {args.file}: {exc}", file=sys.stderr)
        return 2
    files = None
    if args.evidence_dir:
        files = [p for p in Path(args.evidence_dir).rglob("*") if p.is_file()]
    report = verify_bundle(bundle, args.key_fingerprint, files)
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="caseplatform", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("serve", help="run one service in this process")
    p.add_argument("service", choices=["intake", "verification", "review", "publication", "documents", "audit"])
    p.set_defaults(func=_serve)

    p = sub.add_parser("run", help="start the S3 server (if none answers), check RabbitMQ, run every service")
    p.set_defaults(func=_run)

    p = sub.add_parser("token", help="mint a bearer token for local use")
    p.add_argument("--role", required=True,
                   choices=["applicant", "city", "province", "ministry", "expert", "evaluator", "auditor"])
    p.add_argument("--org", required=True, help="credit code (units) or GB/T 2260 region code (authorities)")
    p.add_argument("--sub", help="the person; defaults to role:org")
    p.add_argument("--name", help="display name")
    p.add_argument("--province", help="applicants: province code of the registered address")
    p.add_argument("--city", help="applicants: city code of the registered address")
    p.add_argument("--ttl", type=int, default=8 * 3600, help="lifetime in seconds")
    p.set_defaults(func=_token)

    p = sub.add_parser("replay", help="print a case's full history from the ledger, one JSON event a line")
    p.add_argument("case_id")
    p.set_defaults(func=_replay)

    p = sub.add_parser("parked", help="list or replay the events a service could not process")
    p.add_argument("action", choices=["list", "replay"])
    p.add_argument("service", choices=["intake", "verification", "review", "publication", "documents", "audit"])
    p.add_argument("--message-id", action="append", metavar="ID",
                   help="replay only this parked message (repeatable; `parked list` shows the ids)")
    p.set_defaults(func=_parked)

    p = sub.add_parser("rebuild-readmodels",
                       help="drop a stopped service's read models and rebuild them from the ledger")
    p.add_argument("service", choices=["intake", "verification", "review", "publication", "documents", "audit"])
    p.set_defaults(func=_rebuild_readmodels)

    p = sub.add_parser("load-calls", help="define the shipped calls (220, 382) in intake, as the ministry")
    p.set_defaults(func=_load_calls)

    p = sub.add_parser("evidence-audit",
                       help="re-hash every evidence file the ledger names; report missing and altered ones (JSON)")
    p.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    p.add_argument("--progress-every", type=float, default=2.0, metavar="SECONDS",
                   help="seconds between progress lines on stderr")
    p.set_defaults(func=_evidence_audit)

    p = sub.add_parser("demo", help="drive one case from submitted to published over HTTP and replay it")
    p.set_defaults(func=_demo)

    p = sub.add_parser("state", help="a case as it stood at a version or a moment (auditors)")
    p.add_argument("case_id")
    when = p.add_mutually_exclusive_group()
    when.add_argument("--version", type=int, help="the version to show")
    when.add_argument("--at", help="a date (end of that day, China time) or an ISO date-time")
    p.set_defaults(func=_state)

    p = sub.add_parser("diff", help="what changed in a case between two versions, and the events between")
    p.add_argument("case_id")
    p.add_argument("first", type=int)
    p.add_argument("second", type=int)
    p.set_defaults(func=_diff)

    p = sub.add_parser("events", help="every ledger event in a period (optionally by one organisation), one JSON a line")
    p.add_argument("--from", dest="start", required=True, help="date or ISO date-time (inclusive)")
    p.add_argument("--to", dest="end", required=True, help="date (end of that day) or ISO date-time")
    p.add_argument("--org", help="only events made by this organisation")
    p.set_defaults(func=_events)

    p = sub.add_parser("checkpoint", help="hash the ledger's new events and sign a checkpoint now")
    p.set_defaults(func=_checkpoint)

    p = sub.add_parser("verify-case", help="a case's stored events against its hash chain and the signed checkpoints")
    p.add_argument("case_id")
    p.add_argument("--key-fingerprint", help="the trusted signing key's SHA-256 (default: the local key)")
    p.set_defaults(func=_verify_case)

    p = sub.add_parser("verify-ledger", help="every stored event against its hash, every checkpoint")
    p.add_argument("--key-fingerprint", help="the trusted signing key's SHA-256 (default: the local key)")
    p.set_defaults(func=_verify_ledger)

    p = sub.add_parser("export-bundle", help="write a case's offline audit bundle (one JSON file)")
    p.add_argument("case_id")
    p.add_argument("-o", "--output", help="file to write (default audit-bundle-<case>.json)")
    p.add_argument("--no-checkpoint", action="store_true", help="do not sign the newest events first")
    p.set_defaults(func=_export_bundle)

    p = sub.add_parser("verify-bundle", help="check an audit bundle offline: no database, no network")
    p.add_argument("file")
    p.add_argument("--key-fingerprint", help="the signing key's SHA-256 the platform publishes")
    p.add_argument("--evidence-dir", help="a folder of the evidence files, each checked by its SHA-256")
    p.set_defaults(func=_verify_bundle)

    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
