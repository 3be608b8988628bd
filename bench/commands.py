"""Commands over HTTP against the running services: submit (intake), endorse (verification) and
milestone report (review), each at several concurrency levels, then at half its peak rate.

Every command is a real one on a real case: the cases are seeded in the stage the
command needs (`bench.seed`), one command per case and milestone, so none collides
with another and none is refused. Between runs the system is let drain (the relay
has published everything and the services' queues are empty), so a run does not
pay for the projections of the one before; within a run the projections of its own
events run beside the commands, on the same cores, as they do in production.
"""

from __future__ import annotations

import itertools
import json
import math
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import sqlalchemy as sa
from kombu import Connection

from bench.cpu import CpuMeter
from bench.http import Client
from bench.load import closed_loop, open_loop
from bench.seed import CITY, PROVINCE, Seeder, application_for
from shared.infra.config import SERVICES, sqlalchemy_url
from shared.infra.messaging.leadership import relay_position
from shared.infra.messaging.topology import queue_name
from tests.support.localsystem import LocalSystem

KINDS = ("submit", "endorse", "milestone_report")
SERVICE_OF = {"submit": "intake", "endorse": "verification", "milestone_report": "review"}
MILESTONES_PER_CASE = 40
ENDORSEMENT = json.dumps({"reason": "SAMPLE 推荐理由", "rank": 1}, ensure_ascii=False).encode()
REPORT = json.dumps({"summary": "SAMPLE progress report", "evidence": []}, ensure_ascii=False).encode()
JSON = {"Content-Type": "application/json"}


@dataclass
class Seeds:
    """What each command works on, consumed in order: units to file, cases to endorse, milestones to report."""

    call_id: str
    units: list[str] = field(default_factory=list)
    awaiting_province: list[str] = field(default_factory=list)
    milestones: list[tuple[str, str, str]] = field(default_factory=list)  # (case id, unit, milestone id)
    taken: dict[str, int] = field(default_factory=lambda: {k: 0 for k in KINDS})

    def take(self, kind: str) -> Iterator:
        items = {"submit": self.units, "endorse": self.awaiting_province, "milestone_report": self.milestones}[kind]
        while self.taken[kind] < len(items):
            self.taken[kind] += 1
            yield items[self.taken[kind] - 1]


def seed(seeder: Seeder, per_kind: int, extra_endorsements: int, max_clients: int,
         log: Callable[[str], None] = print) -> Seeds:
    """Units ready to file, cases waiting for the province and task books with milestones, `per_kind` each."""
    seeds = Seeds(seeder.call_id)
    seeds.units = seeder.units_ready_to_file(per_kind)
    seeds.awaiting_province = [c for c, _ in seeder.cases(per_kind + extra_endorsements, "awaiting_province")]
    # Reports go milestone by milestone across the cases, and there are at least twice as many
    # cases as clients: two reports on one case are never in flight at once (they would collide).
    n_cases = max(-(-per_kind // MILESTONES_PER_CASE), 2 * max_clients) if per_kind else 0
    milestones = -(-per_kind // n_cases) if n_cases else 0
    cases = seeder.cases(n_cases, "in_implementation", milestones=max(milestones, 1))
    seeds.milestones = [(case_id, unit, f"m{m}") for m in range(1, milestones + 1) for case_id, unit in cases]
    log(f"  seeded {len(seeds.units):,} units ready to file, {len(seeds.awaiting_province):,} cases waiting for the "
        f"province, {len(cases):,} task books with {milestones} milestones each")
    return seeds


class Commands:
    """The three commands as (item -> one HTTP call), with the tokens each caller would hold: the
    system's provider signs every SAMPLE unit in, and the Guangdong official."""

    def __init__(self, system: LocalSystem, seeds: Seeds, replicas: tuple[LocalSystem, ...] = ()):
        self.system = system
        self.seeds = seeds
        self.token_for = system.platform.token_for
        self.tokens_for = system.identity.tokens_for if system.identity else None
        # Each new client is given the next process set's service, in turn: with a replica set
        # the clients are shared out evenly, as a load balancer in front of two processes would.
        self.sets = (system, *replicas)
        self.next_set = itertools.count()

    @property
    def province_token(self) -> str:
        # Asked again each time: the provider's tokens expire (reused while they last).
        return self.token_for(sub="SAMPLE-guangdong-official", role="province", org=PROVINCE)

    def client_for(self, kind: str) -> Callable[[], Client]:
        bases = [s.platform.base[SERVICE_OF[kind]] for s in self.sets]
        return lambda: Client(bases[next(self.next_set) % len(bases)])

    @staticmethod
    def applicant(unit: str) -> dict:
        return {"sub": f"SAMPLE-applicant-{unit}", "role": "applicant", "org": unit,
                "region": {"province": PROVINCE, "city": CITY}}

    def applicant_token(self, unit: str) -> str:
        return self.token_for(**self.applicant(unit))

    def sign_in_ahead(self, kind: str, items: int) -> None:
        """Signs in the units of the next `items` items of `kind` now, so a run's clients find
        their tokens ready: a sign-in at the provider costs far more than a command."""
        if kind == "endorse" or self.tokens_for is None:
            return
        pending = {"submit": self.seeds.units, "milestone_report": self.seeds.milestones}[kind]
        upcoming = pending[self.seeds.taken[kind]:self.seeds.taken[kind] + items]
        units = dict.fromkeys(item if kind == "submit" else item[1] for item in upcoming)
        # The last needed first: signing thousands in takes minutes, and a token used in its last two
        # minutes is signed in again, inside the run; so the first items' tokens are the freshest.
        self.tokens_for([self.applicant(unit) for unit in reversed(units)])

    def prepared(self, kind: str, ahead: int) -> Iterator[tuple]:
        """Items with their request built, so the clients spend their time sending, not encoding;
        the tokens of the first `ahead` items are had before the first item is asked for."""
        self.sign_in_ahead(kind, ahead)
        province_token = self.province_token
        return self._prepared(kind, province_token)

    def _prepared(self, kind: str, province_token: str) -> Iterator[tuple]:
        for item in self.seeds.take(kind):
            if kind == "submit":
                body = json.dumps(application_for(item), ensure_ascii=False).encode()
                yield (f"/intake/calls/{self.seeds.call_id}/cases", body, self.applicant_token(item), item)
            elif kind == "endorse":
                yield (f"/verification/cases/{item}/endorse", ENDORSEMENT, province_token, item)
            else:
                case_id, unit, milestone = item
                yield (f"/review/cases/{case_id}/milestones/{milestone}/report", REPORT,
                       self.applicant_token(unit), item)

    @staticmethod
    def send(client: Client, prepared: tuple) -> dict:
        path, body, token, _ = prepared
        return client.request("POST", path, data=body, token=token, headers=JSON)


def wait_quiet(system: LocalSystem, ledger_url: str, timeout: float = 600.0) -> float:
    """Waits until the relay has published every event and no service queue holds a message; returns the wait
    (the time the projections needed to catch up with what came before)."""
    engine = sa.create_engine(sqlalchemy_url(ledger_url), pool_size=1)
    started = time.monotonic()
    try:
        with Connection(system.platform.settings.amqp_uri) as conn:
            channel = conn.channel()
            while time.monotonic() - started < timeout:
                with engine.connect() as db:
                    head = db.execute(sa.text("SELECT COALESCE(MAX(notification_id), 0) FROM ledger_events")).scalar()
                    sent = db.execute(sa.select(relay_position.c.position)).scalar() or 0
                queued = sum(channel.queue_declare(queue=queue_name(s), passive=True).message_count for s in SERVICES)
                if sent >= head and queued == 0:
                    time.sleep(0.3)  # the messages being handled (delivered, not yet acknowledged)
                    return time.monotonic() - started
                time.sleep(0.2)
    finally:
        engine.dispose()
    raise RuntimeError(f"the system did not drain within {timeout:.0f} s")


def _meter(system: LocalSystem) -> CpuMeter:
    return CpuMeter({service: proc.pid for service, proc in system.procs.items()})


def measure(system: LocalSystem, ledger_url: str, seeds: Seeds, levels: tuple[int, ...], seconds: float,
            max_ops: int, half_peak_seconds: float, log: Callable[[str], None] = print) -> dict:
    commands = Commands(system, seeds)
    meter = _meter(system)
    wait_quiet(system, ledger_url)
    time.sleep(2)  # past the timers' first passes at start (notifications' scans)
    idle = meter.idle(5.0)
    # what the system spends a second doing nothing, taken off each run's CPU (the same for every command)
    idle_ms = {part: round(1000 * s, 1) for part, s in idle.items()}
    results: dict[str, dict] = {k: {"levels": [], "idle_cpu_ms_per_s": idle_ms} for k in KINDS}
    for clients in levels:
        for kind in KINDS:
            wait_quiet(system, ledger_url)
            items = commands.prepared(kind, max_ops)  # the units signed in at the provider before the meter starts
            before = meter.read()
            outcome = closed_loop(items, commands.send, clients=clients, seconds=seconds,
                                  max_ops=max_ops, make_state=commands.client_for(kind),
                                  close_state=lambda c: c.close())
            summary = outcome.summary(clients)
            summary["drain_after_s"] = round(wait_quiet(system, ledger_url), 2)
            # the drain's work is the commands' too (their publishing and projections)
            summary["cpu"] = CpuMeter.per_command(before, meter.read(), outcome.ok, idle)
            results[kind]["levels"].append(summary)
            log(f"  {kind:<17} {clients:>3} clients: {summary['per_s']:>7,.1f}/s  p50 {summary['p50_ms']} ms  "
                f"p95 {summary['p95_ms']} ms  p99 {summary['p99_ms']} ms  errors {summary['errors']}  "
                f"(projections caught up {summary['drain_after_s']} s later; "
                f"{summary['cpu'].get('system_ms_per_command')} ms of CPU a command)")
    for kind in KINDS:
        peak = max(level["per_s"] for level in results[kind]["levels"])
        results[kind]["peak_per_s"] = peak
        rate = peak / 2
        left = len({"submit": seeds.units, "endorse": seeds.awaiting_province,
                    "milestone_report": seeds.milestones}[kind]) - seeds.taken[kind]
        # At least a few commands even in the smallest run, never more than are seeded.
        run_for = min(max(half_peak_seconds, 5 / rate), left / rate) if rate else 0
        wait_quiet(system, ledger_url)
        outcome = open_loop(commands.prepared(kind, math.ceil(rate * run_for) + 1), commands.send, rate=rate,
                            seconds=run_for,
                            make_state=commands.client_for(kind), close_state=lambda c: c.close())
        results[kind]["half_peak"] = outcome.summary(rate=round(rate, 1))
        h = results[kind]["half_peak"]
        log(f"  {kind:<17} at half its peak ({rate:,.1f}/s offered, {h['per_s']:,.1f}/s done): "
            f"p50 {h['p50_ms']} ms  p99 {h['p99_ms']} ms  errors {h['errors']}")
    return results


def measure_floor(system: LocalSystem, ledger_url: str, levels: tuple[int, ...], seconds: float, max_ops: int,
                  log: Callable[[str], None] = print) -> list[dict]:
    """The floor under any command: `GET /verification/health/live`, which does nothing but pass through the
    HTTP stack every command passes (eventlet's server, werkzeug, nameko's entrypoint and worker, the response
    schema), with its CPU accounted as a command's is."""
    meter = _meter(system)
    base = system.platform.base["verification"]
    out = []
    for clients in levels:
        wait_quiet(system, ledger_url)
        before = meter.read()
        outcome = closed_loop(iter(int, 1), lambda client, _: client.request("GET", "/verification/health/live"),
                              clients=clients, seconds=seconds, max_ops=max_ops, make_state=lambda: Client(base),
                              close_state=lambda c: c.close())
        summary = {**outcome.summary(clients), "cpu": CpuMeter.per_command(before, meter.read(), outcome.ok)}
        out.append(summary)
        log(f"  GET health/live   {clients:>3} clients: {summary['per_s']:>7,.1f}/s  p50 {summary['p50_ms']} ms  "
            f"p99 {summary['p99_ms']} ms  errors {summary['errors']}; "
            f"{summary['cpu'].get('system_ms_per_command')} ms of CPU a request")
    return out


def measure_horizontal(system: LocalSystem, replica: LocalSystem, ledger_url: str, seeds: Seeds, clients: int,
                       seconds: float, max_ops: int, log: Callable[[str], None] = print) -> dict:
    """Each command's rate with `clients` callers shared between two processes of every service (the
    second set on the same ledger, read models, broker and provider), beside the same with one
    process per service, measured right before it so both have the same ledger behind them."""
    results: dict[str, dict] = {}
    for kind in KINDS:
        one, two = Commands(system, seeds), Commands(system, seeds, replicas=(replica,))
        rates = {}
        for label, commands in (("one_process", one), ("two_processes", two)):
            wait_quiet(system, ledger_url)
            outcome = closed_loop(commands.prepared(kind, max_ops), commands.send, clients=clients, seconds=seconds,
                                  max_ops=max_ops, make_state=commands.client_for(kind),
                                  close_state=lambda c: c.close())
            rates[label] = outcome.summary(clients)
        results[kind] = {**rates, "ratio": round(rates["two_processes"]["per_s"] / rates["one_process"]["per_s"], 2)
                         if rates["one_process"]["per_s"] else None}
        log(f"  {kind:<17} {clients:>3} clients: one process {rates['one_process']['per_s']:>7,.1f}/s, "
            f"two {rates['two_processes']['per_s']:>7,.1f}/s (x{results[kind]['ratio']}), errors "
            f"{rates['one_process']['errors']} / {rates['two_processes']['errors']}")
    return results

