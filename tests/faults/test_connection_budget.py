"""How many PostgreSQL connections one running system holds, and who holds them.

Every connection names its process and pool in `application_name`
(`caseplatform-<service>-<pool>`), so an operator reading pg_stat_activity sees who holds
what. The pools' sizes are settings (README); this test holds the running system to them:
at rest each pool keeps what its size says, and under a burst of concurrent commands no
process opens more than its pools' maxima, while every command is still served.
"""

from __future__ import annotations

import threading
from collections import Counter

import psycopg
import pytest

from shared.infra.config import SERVICES, Settings
from shared.infra.dependencies import PersonalData
from tests.faults import accounting
from tests.faults.workload import Workload
from tests.support.declared import services_declaring

pytestmark = [pytest.mark.e2e, pytest.mark.faults]

BURST_WORKERS = 12
BURST_STEPS = 3
DEFAULTS = Settings.from_env({"CASEPLATFORM_DATA_DIR": "/nonexistent"})

# Each pool's most connections in one process (the system runs with the default sizes), and
# what it keeps when idle. `relay`: the leader's lock plus one for its position;
# `relay-listen`: the leader's LISTEN for commits, no standby's. The audit
# service's checkpoint follower, named after its process only, keeps one and may borrow one.
MOST = {
    "ledger": DEFAULTS.ledger_pool_size + DEFAULTS.ledger_pool_max_overflow,
    "relay-log": 1,
    "relay": 2,
    "relay-listen": 1,
    "readmodel": DEFAULTS.readmodel_pool_size + DEFAULTS.readmodel_pool_max_overflow,
    # the data subjects' keys (issue #21), pooled as the read models, in the services that seal or reveal
    "keys": DEFAULTS.readmodel_pool_size + DEFAULTS.readmodel_pool_max_overflow,
    "": 2,
}
IDLE = {"ledger": DEFAULTS.ledger_pool_size, "relay-log": 1, "relay": 1,
        "readmodel": DEFAULTS.readmodel_pool_size}
IDLE_KEYS = DEFAULTS.readmodel_pool_size


KEYS = services_declaring(PersonalData)  # the services that open the key store


def pool_of(application_name: str) -> tuple[str, str]:
    """("<service>", "<pool>") of a connection named caseplatform-<service>[-<pool>]."""
    _, service, *pool = application_name.split("-", 2)
    return service, pool[0] if pool else ""


def _databases(system) -> dict[str, str]:
    """{database name: "ledger" or "<service> read models"} of this system."""
    names = {system.ledger_url.rsplit("/", 1)[1]: "ledger"}
    names.update({url.rsplit("/", 1)[1]: f"{service} read models" for service, url in system.readmodel_urls.items()})
    return names


def connections(system) -> Counter:
    """Open connections to this system's databases, by (database, application_name)."""
    databases = _databases(system)
    with psycopg.connect(system.ledger_url, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT datname, application_name FROM pg_stat_activity "
            "WHERE datname = ANY(%s) AND pid <> pg_backend_pid()", (list(databases),)).fetchall()
    return Counter((databases[datname], name or "(unnamed)") for datname, name in rows)


def by_name(counts: Counter) -> Counter:
    named: Counter = Counter()
    for (_, name), n in counts.items():
        named[name] += n
    return named


def report(title: str, counts: Counter) -> None:
    print(f"\n{title}: {sum(counts.values())} connections")
    for (database, name), n in sorted(counts.items()):
        print(f"  {n:>3}  {name:<40} {database}")


def test_the_system_holds_few_connections_at_rest_and_stays_within_its_pools_under_a_burst(faulty_system):
    system = faulty_system
    workload = Workload(system.platform)
    for _ in range(4):  # every service has worked, so every pool has opened what it keeps
        workload.step()
    assert accounting.wait_quiet(system), "every event applied: nothing is at work"
    at_rest = connections(system)
    report("at rest", at_rest)

    peak: Counter = Counter()
    most_seen: Counter = Counter()
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            now = connections(system)
            if sum(now.values()) > sum(peak.values()):
                peak = now
            most_seen.update({name: n - most_seen[name] for name, n in by_name(now).items() if n > most_seen[name]})
            done.wait(0.05)

    failed: list[BaseException] = []
    steps: list[int] = []  # one entry per command sent by a worker (list.append is atomic)

    def burst() -> None:
        try:
            for _ in range(BURST_STEPS):
                workload.step()
                steps.append(1)
        except BaseException as exc:  # a worker that died would make the burst smaller than it says
            failed.append(exc)
            raise

    sampler = threading.Thread(target=sample)
    sampler.start()
    workers = [threading.Thread(target=burst) for _ in range(BURST_WORKERS)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=300)
    done.set()
    sampler.join()
    report("peak under the burst", peak)

    assert not failed, f"burst workers failed: {failed[:3]}"
    assert len(steps) == BURST_WORKERS * BURST_STEPS, "every command of the burst was sent"
    refused = [(o.kind, o.status, o.body) for o in workload.outcomes if not o.accepted]
    assert not refused, f"commands refused under the burst: {refused[:3]}"
    names = set(by_name(at_rest)) | set(most_seen)
    assert all(name.startswith("caseplatform-") for name in names), f"connections without a name: {names}"
    assert {pool_of(name)[0] for name in names} == set(SERVICES), "every process is named"
    over = {name: n for name, n in most_seen.items() if n > MOST[pool_of(name)[1]]}
    assert not over, f"pools past their maximum: {over}"
    # At rest the SQLAlchemy pools are back to their idle size at once; eventsourcing's keep what
    # they opened until it has been idle for a minute (shared/infra/pools.py), within their maximum.
    rest = by_name(at_rest)
    assert {pool_of(name)[0] for name in names if pool_of(name)[1] == "keys"} <= KEYS
    for service in SERVICES:
        assert rest[f"caseplatform-{service}-readmodel"] == IDLE["readmodel"], service
        assert rest[f"caseplatform-{service}-relay-log"] == IDLE["relay-log"], service
    assert sorted(rest[f"caseplatform-{s}-relay"] for s in SERVICES) == [1] * (len(SERVICES) - 1) + [2], \
        "the leader holds its lock and its position's connection; each standby one"
    assert sorted(rest[f"caseplatform-{s}-relay-listen"] for s in SERVICES) == [0] * (len(SERVICES) - 1) + [1], \
        "the leader listens for commits; no standby does"
    most = sum(MOST[p] for p in ("ledger", "relay-log", "relay", "readmodel")) * len(SERVICES) \
        + MOST["keys"] * len(KEYS) + MOST["relay-listen"] + MOST[""]
    assert sum(peak.values()) <= most
    # What the pools keep once idle (a minute after the last burst): + the leader's position, its
    # LISTEN connection, the follower.
    idle_size = sum(IDLE.values()) * len(SERVICES) + IDLE_KEYS * len(KEYS) + 1 + 1 + 1
    accounting.CONNECTIONS.update(at_rest=sum(at_rest.values()), peak=sum(peak.values()), most=most,
                                  idle_size=idle_size, requests=len(workload.outcomes), clients=BURST_WORKERS)
