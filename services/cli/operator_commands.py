"""Operator commands: the events a service parked, a stopped service's read models rebuilt, the case
snapshots cleared."""

from __future__ import annotations

import json
import sys


def parked(args) -> int:
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


def upgrade_queues(args) -> int:
    from shared.infra.config import Settings
    from shared.infra.messaging.upgrade import upgrade_queues

    settings = Settings.from_env()
    upgraded = upgrade_queues(settings.amqp_uri, settings.exchange)
    for service, moved in upgraded.items():
        print(f"ledger.{service}: now quorum queues, {moved} message(s) kept")
    if not upgraded:
        print("every service's queues are quorum queues already")
    return 0


def rebuild_readmodels(args) -> int:
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
        result = rebuilder.in_memory(ledger, progress=lambda read, applied: print(
            f"  {read:,} events of the log read, {applied:,} applied", file=sys.stderr, flush=True))
    finally:
        rebuilder.close()
        ledger.close()
    print(f"{args.service}: read models rebuilt from {result['read']:,} ledger events ({result['applied']:,} "
          f"of them its own) up to notification {result['position']} in {result['seconds']:.1f} s")
    return 0


def clear_snapshots(args) -> int:
    from shared.infra.config import Settings
    from shared.infra.ledger import CaseLedger

    settings = Settings.from_env()
    ledger = CaseLedger(settings.ledger_url, owner=None)
    try:
        deleted = ledger.clear_snapshots()
    finally:
        ledger.close()
    print(f"{deleted} case snapshot(s) deleted: the next reads replay the events, the next saves take new ones")
    return 0
