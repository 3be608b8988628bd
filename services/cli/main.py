"""`caseplatform`: run the services, take tokens, drive the demo, replay a case."""

from __future__ import annotations

import argparse
import os
import sys

# The command modules import only the standard library when loaded, each command the rest
# when it runs: `serve` must let eventlet patch the standard library before kombu loads.
from services.cli import audit_commands, operator_commands, personal_commands, system
from shared.domain.errors import PlatformError  # pure Python: safe before eventlet patches
from shared.infra.config import SERVICES  # the standard library only


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="caseplatform", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("serve", help="run one service, the relay or the web console in this process")
    p.add_argument("service", choices=[*SERVICES, "relay", "console"])
    p.set_defaults(func=system.serve)

    p = sub.add_parser("run", help="start the S3 server and the identity provider (if none answers), check RabbitMQ, "
                                      "run every service; prints the SAMPLE sign-ins")
    p.set_defaults(func=system.run)

    p = sub.add_parser(
        "token", help="a bearer token from the identity provider (OIDC_ISSUER), through the protocol",
        description="Prints an access token (at most 15 minutes) from the identity provider at OIDC_ISSUER "
                    "(default: the local one `caseplatform run` starts, http://127.0.0.1:IDENTITY_PORT, 8110).",
        epilog="On a provider on this machine (an http://127.0.0.1 issuer) the SAMPLE accounts of "
               "services/identity/sample-accounts.json sign in with their known SAMPLE passwords, and a machine "
               "client's secret is read from <CASEPLATFORM_DATA_DIR>/identity/client-secrets.json. Refused "
               "sign-ins and an absent provider end with one line and exit code 2.")
    how = p.add_mutually_exclusive_group(required=True)
    how.add_argument("--user", metavar="USERNAME",
                     help="sign in as this person (authorization code + PKCE); password from --password-stdin, "
                          "else a prompt, except a SAMPLE account's on a local provider (no prompt)")
    how.add_argument("--client", metavar="CLIENT_ID",
                     help="a machine client's token (client credentials), e.g. hubei-province-system")
    how.add_argument("--dev-hs256", action="store_true",
                     help="mint a token with the development secret: only when AUTH_MODE=dev-hs256")
    p.add_argument("--password-stdin", action="store_true", help="--user: read the password from standard input")
    p.add_argument("--secret-stdin", action="store_true", help="--client: read the client secret from standard input")
    p.add_argument("--json", action="store_true", help="print the provider's whole token response")
    dev = p.add_argument_group("--dev-hs256 only")
    dev.add_argument("--role", choices=["applicant", "city", "province", "ministry", "expert", "evaluator", "auditor"])
    dev.add_argument("--org", help="credit code (units) or GB/T 2260 region code (authorities)")
    dev.add_argument("--sub", help="the person; defaults to role:org")
    dev.add_argument("--name", help="display name")
    dev.add_argument("--province", help="applicants: province code of the registered address")
    dev.add_argument("--city", help="applicants: city code of the registered address")
    dev.add_argument("--ttl", type=int, default=900, help="lifetime in seconds (the services accept at most "
                                                          "TOKEN_MAX_LIFETIME, 900)")
    p.set_defaults(func=system.token)

    p = sub.add_parser("replay", help="print a case's full history from the ledger, one JSON event a line")
    p.add_argument("case_id")
    p.set_defaults(func=audit_commands.replay)

    p = sub.add_parser("parked", help="list or replay the events a service could not process")
    p.add_argument("action", choices=["list", "replay"])
    p.add_argument("service", choices=[*SERVICES, "relay"])
    p.add_argument("--message-id", action="append", metavar="ID",
                   help="replay only this parked message (repeatable; `parked list` shows the ids)")
    p.set_defaults(func=operator_commands.parked)

    p = sub.add_parser("queues", help="upgrade the broker's classic queues of an older release to quorum queues "
                                      "(services and relay stopped; messages kept)")
    p.add_argument("action", choices=["upgrade"])
    p.set_defaults(func=operator_commands.upgrade_queues)

    p = sub.add_parser("rebuild-readmodels",
                       help="drop a stopped service's read models and rebuild them from the ledger")
    p.add_argument("service", choices=[*SERVICES, "relay"])
    p.set_defaults(func=operator_commands.rebuild_readmodels)

    p = sub.add_parser("snapshots", help="clear the case snapshots (a cache of replays), e.g. after an upgrade "
                                         "that changed a case's attributes")
    p.add_argument("action", choices=["clear"])
    p.set_defaults(func=operator_commands.clear_snapshots)

    p = sub.add_parser("personal", help="the privacy officer's requests on the server: a person's copy of their data "
                                        "(the person as JSON on standard input), or who was shown whose data")
    personal = p.add_subparsers(dest="action", required=True)
    c = personal.add_parser("copy", help='everything held about a person: echo \'{"mobile": "..."}\' | caseplatform '
                                        'personal copy --officer <you>')
    c.add_argument("--officer", required=True, help="your account (recorded as the reader)")
    c.add_argument("--org", default="PRIVACY", help="your organisation (recorded with you)")
    c.set_defaults(func=personal_commands.copy)
    a = personal.add_parser("access", help="the record of readings of personal data, one JSON a line, oldest first")
    a.add_argument("--case-id")
    a.add_argument("--sub", help="only readings by this account")
    a.add_argument("--limit", type=int, default=10_000)
    a.set_defaults(func=personal_commands.access)

    p = sub.add_parser("load-calls", help="define the shipped calls (220, 382) in intake, as the ministry")
    p.set_defaults(func=system.load_calls)

    p = sub.add_parser("evidence-audit",
                       help="re-hash every evidence file the ledger names; report missing and altered ones (JSON)")
    p.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    p.add_argument("--progress-every", type=float, default=2.0, metavar="SECONDS",
                   help="seconds between progress lines on stderr")
    p.set_defaults(func=audit_commands.evidence_audit)

    p = sub.add_parser("demo", help="drive one case from submitted to published over HTTP and replay it")
    p.set_defaults(func=system.demo)

    p = sub.add_parser("state", help="a case as it stood at a version or a moment (auditors)")
    p.add_argument("case_id")
    when = p.add_mutually_exclusive_group()
    when.add_argument("--version", type=int, help="the version to show")
    when.add_argument("--at", help="a date (end of that day, China time) or an ISO date-time")
    p.set_defaults(func=audit_commands.state)

    p = sub.add_parser("diff", help="what changed in a case between two versions, and the events between")
    p.add_argument("case_id")
    p.add_argument("first", type=int)
    p.add_argument("second", type=int)
    p.set_defaults(func=audit_commands.diff)

    p = sub.add_parser("events", help="every ledger event in a period (optionally by one organisation), "
                                      "one JSON a line")
    p.add_argument("--from", dest="start", required=True, help="date or ISO date-time (inclusive)")
    p.add_argument("--to", dest="end", required=True, help="date (end of that day) or ISO date-time")
    p.add_argument("--org", help="only events made by this organisation")
    p.set_defaults(func=audit_commands.events)

    p = sub.add_parser("checkpoint", help="hash the ledger's new events and sign a checkpoint now")
    p.set_defaults(func=audit_commands.checkpoint)

    p = sub.add_parser("verify-case", help="a case's stored events against its hash chain and the signed checkpoints")
    p.add_argument("case_id")
    p.add_argument("--key-fingerprint", help="the trusted signing key's SHA-256 (default: the local key)")
    p.set_defaults(func=audit_commands.verify_case)

    p = sub.add_parser("verify-ledger", help="every stored event against its hash, every checkpoint")
    p.add_argument("--key-fingerprint", help="the trusted signing key's SHA-256 (default: the local key)")
    p.set_defaults(func=audit_commands.verify_ledger)

    p = sub.add_parser("export-bundle", help="write a case's offline audit bundle (one JSON file)")
    p.add_argument("case_id")
    p.add_argument("-o", "--output", help="file to write (default audit-bundle-<case>.json)")
    p.add_argument("--no-checkpoint", action="store_true", help="do not sign the newest events first")
    p.set_defaults(func=audit_commands.export_bundle)

    p = sub.add_parser("verify-bundle", help="check an audit bundle offline: no database, no network")
    p.add_argument("file")
    p.add_argument("--key-fingerprint", help="the signing key's SHA-256 the platform publishes")
    p.add_argument("--evidence-dir", help="a folder of the evidence files, each checked by its SHA-256")
    p.set_defaults(func=audit_commands.verify_bundle)

    args = parser.parse_args(argv)
    # Everything the platform writes (the SQLite ledger with its contacts, read models, S3
    # data, keys, secrets, logs, bundles) is its owner's alone from the moment it is made,
    # in this process and every one it starts: 0600 files, 0700 folders (issue #18).
    os.umask(0o077)
    try:
        return args.func(args)
    except PlatformError as exc:
        # A refusal (no such case, a bad date): the operator reads why, not a traceback.
        print(f"caseplatform {args.command}: {exc.message}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
