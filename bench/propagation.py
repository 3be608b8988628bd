"""Propagation lag: from a command's commit to its effect in another service's read model.

A province endorses cases at a steady rate (open loop). The endorsement commits in
the ledger before verification answers; the relay publishes it, and review (the
ministry's desk) projects it into its read model, recording the event's message id
in `processed_events` in the same transaction as the projection. The lag of one
command is the time from its 2xx answer at the client (the commit is done by then)
until a reader of review's read-model database sees that message id (polled every
few milliseconds: the figures are high by at most one poll interval).

It is measured at the issue's rate (100/s), which these two cores do not sustain, so
that lag includes the queue; and then at a light rate (`lag_light_rate`) the system
keeps up with, for the lag of the pipeline itself: relay, broker, projection.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import psycopg

from bench.commands import Commands, Seeds, wait_quiet
from bench.load import open_loop
from bench.stats import latency_ms
from shared.infra.messaging.contracts import message_id
from tests.support.localsystem import LocalSystem

POLL_INTERVAL = 0.005
OBSERVER = "review"


def measure(system: LocalSystem, ledger_url: str, seeds: Seeds, rate: float, seconds: float,
            log: Callable[[str], None] = print, light_rate: float | None = None) -> dict:
    """The lag at `rate`; with `light_rate`, the lag at that rate too, as `light_load`."""
    commands = Commands(system, seeds)
    result = _at(system, ledger_url, commands, rate, seconds, log)
    if light_rate:
        result["light_load"] = _at(system, ledger_url, commands, light_rate, seconds, log)
    return result


def _at(system: LocalSystem, ledger_url: str, commands: Commands, rate: float, seconds: float,
        log: Callable[[str], None]) -> dict:
    answered: dict[str, float] = {}  # message id -> when the command was answered
    seen: dict[str, float] = {}  # message id -> when review's read model showed it
    lock = threading.Lock()
    done = threading.Event()

    def endorse(client, prepared) -> None:
        case = Commands.send(client, prepared)
        at = time.monotonic()
        with lock:
            answered[message_id(case["case_id"], case["version"])] = at

    def observe() -> None:
        dsn = system.readmodel_urls[OBSERVER]
        with psycopg.connect(dsn, autocommit=True) as conn:
            while not done.is_set():
                with lock:
                    waiting = [m for m in answered if m not in seen]
                if waiting:
                    rows = conn.execute("SELECT message_id FROM processed_events WHERE message_id = ANY(%s)",
                                        (waiting,)).fetchall()
                    at = time.monotonic()
                    with lock:
                        for (m,) in rows:
                            seen.setdefault(m, at)
                time.sleep(POLL_INTERVAL)

    wait_quiet(system, ledger_url)
    observer = threading.Thread(target=observe, daemon=True)
    observer.start()
    try:
        outcome = open_loop(commands.prepared("endorse", ahead=0), endorse, rate=rate, seconds=seconds,
                            make_state=commands.client_for("endorse"), close_state=lambda c: c.close())
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with lock:
                if all(m in seen for m in answered):
                    break
            time.sleep(0.05)
    finally:
        done.set()
        observer.join()
    with lock:
        lags = [seen[m] - answered[m] for m in answered if m in seen]
        missing = len(answered) - len(lags)
    result = {
        "command": "endorse", "observer": f"{OBSERVER} read model",
        "offered_per_s": rate, "achieved_per_s": round(outcome.ok / outcome.seconds, 1) if outcome.seconds else 0,
        "command_latency": outcome.summary(rate=rate), "poll_interval_ms": POLL_INTERVAL * 1000,
        "lag": latency_ms(lags), "not_seen_within_60_s": missing,
    }
    log(f"  endorse at {rate:,.0f}/s ({result['achieved_per_s']:,.1f}/s done) → {OBSERVER} read model: "
        f"lag p50 {result['lag']['p50_ms']} ms, p99 {result['lag']['p99_ms']} ms, {missing} not seen")
    return result
