"""How big each benchmark runs: the full run the issue asks for, a quick one, and the smoke test's.

Every figure of the full run is measured at the size the issue names (1,000 and
10,000-event cases, a 1,000,000-event ledger, 1 MiB / 100 MiB / 1 GiB uploads);
`quick` keeps every figure at sizes that finish in a couple of minutes on a
2-core machine, and `smoke` is the smallest configuration that still produces
every figure (the smoke test runs it: it checks shapes, never speed).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

MiB = 1024 * 1024
GiB = 1024 * MiB


@dataclass(frozen=True)
class Sizes:
    mode: str
    # 1. commands over HTTP and the raw baselines, closed loop at each concurrency
    concurrency: tuple[int, ...]
    seconds_per_level: float  # each concurrency level runs this long...
    commands_per_level: int  # ...or until this many commands, whichever comes first
    baseline_seconds: float  # each baseline level runs this long
    half_peak_seconds: float  # the open-loop run at half the peak rate (latency target)
    profile_seconds: float  # with --profile: each command driven this long under py-spy
    # 2. propagation lag
    lag_rate: float  # commands per second, open loop (the 100/s)
    lag_seconds: float
    lag_light_rate: float  # and again at a rate the system sustains, for the lag without a queue
    # 3. replay and rebuild
    case_events: tuple[int, ...]  # one case of each length
    replays: int  # reads of each case, the median reported
    ledger_events: int  # the ledger every read model is rebuilt from
    rebuild_seconds: float  # each service's rebuild runs at most this long (all seven at once)
    per_event_sample: int  # events applied one transaction each (as the live subscriber does), per service
    # 4. documents
    upload_sizes: tuple[int, ...]
    # 5. verification: on the rebuild ledger (ledger_events)

    def as_dict(self) -> dict:
        return asdict(self)


FULL = Sizes(
    mode="full",
    concurrency=(1, 4, 16, 64),
    seconds_per_level=15.0,
    commands_per_level=1500,
    baseline_seconds=5.0,
    half_peak_seconds=15.0,
    profile_seconds=20.0,
    lag_rate=100.0,
    lag_seconds=20.0,
    lag_light_rate=10.0,
    case_events=(1_000, 10_000),
    replays=7,
    ledger_events=1_000_000,
    rebuild_seconds=180.0,
    per_event_sample=2000,
    upload_sizes=(1 * MiB, 100 * MiB, 1 * GiB),
)

QUICK = Sizes(
    mode="quick",
    concurrency=(1, 4, 16, 64),
    seconds_per_level=3.0,
    commands_per_level=300,
    baseline_seconds=1.5,
    half_peak_seconds=4.0,
    profile_seconds=10.0,
    lag_rate=100.0,
    lag_seconds=5.0,
    lag_light_rate=10.0,
    case_events=(1_000, 10_000),
    replays=3,
    ledger_events=10_000,
    rebuild_seconds=20.0,
    per_event_sample=200,
    upload_sizes=(1 * MiB, 100 * MiB),
)

SMOKE = Sizes(
    mode="smoke",
    concurrency=(1, 2),
    seconds_per_level=0.5,
    commands_per_level=10,
    baseline_seconds=0.3,
    half_peak_seconds=0.5,
    profile_seconds=2.0,
    lag_rate=10.0,
    lag_seconds=1.0,
    lag_light_rate=5.0,
    case_events=(50, 200),
    replays=1,
    ledger_events=300,
    rebuild_seconds=5.0,
    per_event_sample=20,
    upload_sizes=(64 * 1024, 1 * MiB),
)

MODES = {s.mode: s for s in (FULL, QUICK, SMOKE)}
