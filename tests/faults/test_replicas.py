"""Two processes of every service side by side, as a cluster runs them (issue #23 item 3).

Both sets share the broker vhost (competing consumers on each service's quorum queue),
the ledger and every read-model database, the bucket and the identity provider; each
process also runs the outbox relay, so twice as many processes compete for its lead.
Commands go to both sets' HTTP ports in turn, as a load balancer sends them. Mid-run
every process of the first set is killed (SIGKILL) while its consumers are applying
events and its relay may be leading; its HTTP clients were moved to the second set two
seconds before, as a load balancer drains a pod. The second set carries on alone, and
the fault suite's accounting settles: no committed event lost, none applied twice, every
case's history a sequence the state machine allows, and every command done whole.

The relay's lead is sampled all the while: at most one session ever holds it. Both sets
run the overdue and the notice timers every second over a ledger seeded with milestones
already past due and a public notice already over: each is acted on once, by whichever
process gets there first, before and after the kill.
"""

from __future__ import annotations

import itertools
import secrets
import threading
import time
from datetime import date, timedelta
from pathlib import Path
from uuid import UUID

import psycopg
import pytest

from bench.seed import MINISTRY, Seeder
from shared.domain.publication_list import PublicList
from shared.infra.config import SERVICES
from shared.infra.ledger import CaseLedger
from shared.infra.messaging.leadership import ADVISORY_LOCK_KEY
from shared.infra.messaging.parked import list_parked
from tests.faults import accounting
from tests.faults.workload import CommandStream, Workload, unclean_outcomes
from tests.support.localsystem import start_system, stop_processes

pytestmark = [pytest.mark.e2e, pytest.mark.faults]

EXCHANGE = "ledger.events"  # the services' default
LOAD_SECONDS = 12.0  # of commands before the kill, and as many after it


class Replicas:
    """Two LocalSystems on the same databases, vhost, bucket and identity provider."""

    def __init__(self, first, second, ledger_url: str, amqp_uri: str):
        self.sets = [first, second]
        self.ledger_url, self.amqp_uri = ledger_url, amqp_uri
        self.readmodel_urls = first.readmodel_urls
        self.serving = [first, second]  # the sets HTTP clients are sent to
        self._turn = itertools.count()
        self.token_for = first.platform.token_for

    @property
    def base(self) -> dict[str, str]:
        """The next serving set's base URLs: requests alternate between the replicas."""
        serving = self.serving
        return serving[next(self._turn) % len(serving)].platform.base

    def log(self, service: str) -> str:
        return "".join(s.logs[service].read_text(errors="replace") for s in self.sets)


@pytest.fixture(scope="module")
def replicas(make_database, make_vhost, s3_settings, tmp_path_factory):
    ledger_url = make_database("ledger")
    readmodel_urls = {service: make_database(service) for service in SERVICES}
    common = dict(ledger_url=ledger_url, readmodel_urls=readmodel_urls, amqp_uri=make_vhost("replicas"),
                  s3_settings=s3_settings, timeout=120.0,
                  extra_env={"S3_BUCKET": f"evidence-{secrets.token_hex(4)}",
                             # both sets' timers, every second: each must act once on what is due
                             "OVERDUE_SCAN_INTERVAL": "1", "NOTICE_SCAN_INTERVAL": "1"})
    first = start_system(data_dir=tmp_path_factory.mktemp("replica-a"), **common)
    try:
        second = start_system(data_dir=tmp_path_factory.mktemp("replica-b"), identity=first.identity, **common)
    except BaseException:
        first.stop()
        raise
    try:
        yield Replicas(first, second, ledger_url, common["amqp_uri"])
    finally:
        second.stop()
        first.stop()


def seed_what_is_due(ledger_url: str) -> tuple[list[str], str]:
    """SAMPLE cases whose one milestone fell due 100 days ago, and a public list of them whose notice
    ended long ago, written into the ledger as a past year of work would have left them."""
    past = date.today() - timedelta(days=400)
    seeder = Seeder(ledger_url, f"sample-replica-timers-{secrets.token_hex(3)}", today=past)
    try:
        cases = [seeder.in_implementation(seeder.new_unit(), milestones=1) for _ in range(4)]
        for case in cases:
            seeder.ledger.save(case)
        public_list = PublicList.create(actor=MINISTRY, call=seeder.call.current, kind="successful")
        public_list.open_notice(actor=MINISTRY, entries=[str(c.id) for c in cases], starts_on=past,
                                ends_on=past + timedelta(days=14), working_days=10,
                                calendar={str(past.year): {"source": "SAMPLE: a notice seeded in the past"}})
        seeder.ledger.save(public_list)
        return [str(c.id) for c in cases], str(public_list.id)
    finally:
        seeder.close()


def acted_on(ledger_url: str, stream_ids: list[str], event_type: str) -> dict[str, int]:
    ledger = CaseLedger(ledger_url, owner=None, env={"POSTGRES_POOL_SIZE": "1", "POSTGRES_MAX_OVERFLOW": "0"})
    try:
        return {s: sum(type(e).__name__ == event_type for e in ledger.events.get(UUID(s))) for s in stream_ids}
    finally:
        ledger.close()


def relay_leaders(ledger_url: str) -> list[int]:
    """The backend pids of the sessions holding the relay's leadership lock on this ledger (pg_locks
    shows every database's: other systems on the same server hold the same key on theirs)."""
    with psycopg.connect(ledger_url, autocommit=True) as conn:
        return [row[0] for row in conn.execute(
            "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted AND classid = %s AND objid = %s "
            "AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
            (ADVISORY_LOCK_KEY >> 32, ADVISORY_LOCK_KEY & 0xFFFFFFFF))]


class LeaderWatch(threading.Thread):
    """Samples the relay's lead until stopped: how many held it at once, and which sessions."""

    def __init__(self, ledger_url: str):
        super().__init__(daemon=True)
        self.ledger_url, self.stopping = ledger_url, threading.Event()
        self.most_at_once, self.sessions, self.samples = 0, [], 0

    def run(self) -> None:
        while not self.stopping.is_set():
            leaders = relay_leaders(self.ledger_url)
            self.samples += 1
            self.most_at_once = max(self.most_at_once, len(leaders))
            for pid in leaders:
                if pid not in self.sessions:
                    self.sessions.append(pid)
            time.sleep(0.05)

    def stop(self) -> None:
        self.stopping.set()
        self.join(timeout=10)


def test_two_processes_of_every_service_apply_every_event_once_in_order_and_one_carries_on_when_the_other_dies(
    replicas, tmp_path: Path, capsys
):
    started = time.monotonic()
    first, second = replicas.sets
    workload = Workload(replicas)
    overdue_cases, notice_list = seed_what_is_due(replicas.ledger_url)
    watch = LeaderWatch(replicas.ledger_url)
    watch.start()
    try:
        with accounting.fault(f"two processes of each of the {len(SERVICES)} services; one of each killed (SIGKILL)",
                              replicas, tmp_path, injections=len(SERVICES)) as fault:
            with CommandStream(workload, workers=4):
                time.sleep(LOAD_SECONDS)
                replicas.serving = [second]  # the load balancer drains the first set ...
                time.sleep(2)
                sent_before_kill = len(workload.outcomes)
                for service in SERVICES:  # ... whose processes then die mid-work
                    first.procs[service].kill()
                stop_processes(first.procs.values())
                killed_at = len(accounting.committed_events(replicas.ledger_url))
                time.sleep(LOAD_SECONDS)
            assert all(first.procs[s].returncode == -9 for s in SERVICES), "every process of the first set was killed"
            assert all(second.procs[s].poll() is None for s in SERVICES), "the second set still runs"
            row = fault.settle()
    finally:
        watch.stop()

    events = accounting.committed_events(replicas.ledger_url)
    assert unclean_outcomes(workload, events) == []
    accepted = [o for o in workload.outcomes if o.accepted]
    assert len(workload.outcomes) > sent_before_kill and len(events) > killed_at, \
        "commands were accepted and events committed after the kill, by the second set alone"
    assert watch.most_at_once == 1, f"{watch.most_at_once} relay leaders at once"
    parked = {s: n for s in SERVICES if (n := len(list_parked(replicas.amqp_uri, s, EXCHANGE)))}
    assert parked == {}, f"healthy events parked: {parked}"
    assert row.lost == 0 and row.duplicates_applied == 0
    # Two overdue timers and two notice timers (then one of each): every milestone marked overdue once,
    # the notice closed once.
    def timers_done() -> bool:
        return (0 not in acted_on(replicas.ledger_url, overdue_cases, "MilestoneOverdue").values()
                and 0 not in acted_on(replicas.ledger_url, [notice_list], "NoticeClosed").values())

    deadline = time.monotonic() + 60
    while not timers_done() and time.monotonic() < deadline:
        time.sleep(1)
    assert acted_on(replicas.ledger_url, overdue_cases, "MilestoneOverdue") == dict.fromkeys(overdue_cases, 1)
    assert acted_on(replicas.ledger_url, [notice_list], "NoticeClosed") == {notice_list: 1}
    applied = {s: len(accounting.applied_ids(replicas.readmodel_urls[s])) for s in SERVICES}
    with capsys.disabled():  # the figures in every run's output, CI's included
        print(f"\nreplicas: 2 processes x {len(SERVICES)} services; commands sent {len(workload.outcomes)} "
              f"({len(accepted)} accepted, {sent_before_kill} before the kill); events committed {len(events)} "
              f"({len(events) - killed_at} after the kill); applied per service {applied}; lost {row.lost}; "
              f"duplicates applied {row.duplicates_applied}, delivered and absorbed {row.duplicates_absorbed}; "
              f"relay leader sessions {len(watch.sessions)} (at most {watch.most_at_once} at once in "
              f"{watch.samples} samples); {len(overdue_cases)} milestones marked overdue once and 1 notice closed once "
              f"by two timers each; {time.monotonic() - started:.0f} s")
