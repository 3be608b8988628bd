"""One command for every benchmark of issues #9 and #22: `python -m bench [--quick | --smoke]`.

It sets up what it runs on (bench/environment.py), runs the sections in an order that
keeps them from disturbing each other (the ledger-only ones first, with no service
running; the baselines right before the commands they are compared with), prints a
table, and writes bench/results/<timestamp>.json and .png. A section that fails is
recorded under "errors" and the others still run; the exit status is then 1.
"""

from __future__ import annotations

import argparse
import sys
import time
import traceback
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa

from bench import baselines, commands, documents, propagation, rebuild, replay, report, verification
from bench.environment import BenchEnvironment
from bench.machine import describe, load_average
from bench.seed import Seeder
from bench.sizes import MODES, Sizes
from shared.infra.config import SERVICES, sqlalchemy_url
from shared.infra.integrity.store import BATCH as HASH_BATCH
from shared.infra.integrity.store import IntegrityStore
from shared.infra.messaging.leadership import PositionStore

SECTIONS = ("replay", "rebuild", "verification", "baselines", "commands", "floor", "horizontal", "profile",
            "propagation", "documents")
DEFAULT_SECTIONS = tuple(s for s in SECTIONS if s != "profile")  # --profile adds it
RESULTS_DIR = Path(__file__).resolve().parent / "results"
DEFAULT_MAX_UPLOAD = 512 * 1024 * 1024


def log(message: str) -> None:
    print(message, flush=True)


class Run:
    def __init__(self, sizes: Sizes, sections: tuple[str, ...], out_dir: Path):
        self.sizes = sizes
        self.sections = sections
        self.out_dir = out_dir
        self.started = time.monotonic()
        now = datetime.now(UTC)
        self.stamp = now.strftime("%Y%m%dT%H%M%SZ")
        self.results: dict = {
            "schema": 1, "mode": sizes.mode, "started_at": now.isoformat(timespec="seconds"),
            "sections": list(sections), "settings": {"sizes": sizes.as_dict()}, "errors": {},
        }

    def section(self, name: str, measure: Callable[[], dict]) -> None:
        if name not in self.sections:
            return
        self.results.setdefault("section_load_average", {})[name] = load_average()
        log(f"\n== {name} (load average {self.results['section_load_average'][name]})")
        started = time.monotonic()
        try:
            self.results[name] = measure()
        except Exception:  # noqa: BLE001 - recorded; the other sections still run
            self.results["errors"][name] = traceback.format_exc()
            log(f"  FAILED: {self.results['errors'][name].strip().splitlines()[-1]}")
        seconds = time.monotonic() - started
        self.results.setdefault("section_seconds", {})[name] = round(seconds, 1)
        log(f"  ({seconds:,.0f} s)")
        # What is measured so far, kept if the run is stopped: a full run takes half an hour or more.
        report.write_json({**self.results, "partial": True}, self.out_dir / f"{self.stamp}.json")

    # -- the sections -------------------------------------------------------------------

    def run(self) -> dict:
        s = self.sizes
        with BenchEnvironment() as env:
            self.results["machine"] = describe(env.postgres_admin_url, env.amqp_base_uri)
            self.section("replay", lambda: replay.measure(env.database("replay"), s.case_events,
                                                          s.replays, log))
            if {"rebuild", "verification"} & set(self.sections):
                ledger_url = self._big_ledger(env)
                self.section("rebuild", lambda: rebuild.measure(ledger_url, env.database, s.rebuild_seconds,
                                                                s.per_event_sample, log))
                self.section("verification", lambda: verification.measure(ledger_url, env.data_dir, log))
            self.section("baselines", lambda: baselines.measure(env.database, s.concurrency, s.baseline_seconds, log))
            if {"commands", "floor", "horizontal", "profile", "propagation", "documents"} & set(self.sections):
                self._with_services(env)
        return self.finish()

    def _big_ledger(self, env: BenchEnvironment) -> str:
        url = env.database("ledger_big")
        log(f"\n== building a ledger of {self.sizes.ledger_events:,} events")
        seeder = Seeder(url, "sample-bench-ledger")
        started, shown = time.monotonic(), 0
        total = 0
        for total in seeder.ledger_of(self.sizes.ledger_events):
            if total - shown >= 100_000:
                shown = total
                log(f"  {total:,} events ({total / (time.monotonic() - started):,.0f}/s)")
        seeder.close()
        seconds = time.monotonic() - started
        self.results["ledger_build"] = {"events": total, "seconds": seconds, "events_per_s": total / seconds}
        log(f"  {total:,} events in {seconds:,.0f} s")
        return url

    def _with_services(self, env: BenchEnvironment) -> None:
        s = self.sizes
        ledger_url = env.database("ledger")
        readmodel_urls = {service: env.database(service) for service in SERVICES}
        log("\n== seeding the services' ledger")
        seeder = Seeder(ledger_url, "sample-bench-commands")
        # the levels and half the peak, then the profile's run
        runs = (len(s.concurrency) + 1 if "commands" in self.sections else 0) \
            + ("profile" in self.sections) * s.profile_seconds / s.seconds_per_level \
            + 2 * ("horizontal" in self.sections)
        per_kind = int(s.commands_per_level * runs)
        lag_items = int((s.lag_rate + s.lag_light_rate) * s.lag_seconds * 1.2) + 20 \
            if "propagation" in self.sections else 0
        seeds = commands.seed(seeder, per_kind, lag_items, max(s.concurrency), log)
        seeder.close()
        started = time.monotonic()
        rebuild.fill_read_models(ledger_url, readmodel_urls)
        prime(ledger_url)
        log(f"  read models filled and the relay and follower brought to the head in "
            f"{time.monotonic() - started:,.0f} s")
        largest = max(s.upload_sizes) if "documents" in self.sections else 0
        extra_env = {"MAX_UPLOAD_BYTES": str(max(DEFAULT_MAX_UPLOAD, 2 * largest))}
        self.results["settings"]["services"] = {
            "processes": list(SERVICES), "relay_poll_interval_s": 0.02, "nameko_max_workers": 10,
            "ledger_pool": "2 + 8 overflow per process", "read_model_pool": "2 + 8 overflow per process",
            "checkpoint_interval_s": 60, **extra_env,
        }
        system = env.start_system(ledger_url=ledger_url, readmodel_urls=readmodel_urls, extra_env=extra_env)
        try:
            self.section("commands", lambda: commands.measure(
                system, ledger_url, seeds, s.concurrency, s.seconds_per_level, s.commands_per_level,
                s.half_peak_seconds, log))
            self.section("floor", lambda: commands.measure_floor(system, ledger_url, s.concurrency,
                                                                 s.seconds_per_level, 100 * s.commands_per_level, log))
            self.section("horizontal", lambda: self._horizontal(env, system, ledger_url, readmodel_urls, extra_env,
                                                                seeds))
            self.section("profile", lambda: self._profile(system, seeds))
            self.section("propagation", lambda: propagation.measure(system, ledger_url, seeds, s.lag_rate,
                                                                    s.lag_seconds, log, light_rate=s.lag_light_rate))
            self.section("documents", lambda: documents.measure(system, env.s3_settings, s.upload_sizes, log))
        finally:
            env.stop_system(system)

    def _horizontal(self, env, system, ledger_url, readmodel_urls, extra_env, seeds) -> dict:
        """The commands at the largest concurrency with a second process of every service beside the first."""
        replica = env.start_system(ledger_url=ledger_url, readmodel_urls=readmodel_urls, extra_env=extra_env,
                                   name="replica", identity=system.identity)
        try:
            s = self.sizes
            return commands.measure_horizontal(system, replica, ledger_url, seeds, max(s.concurrency),
                                               s.seconds_per_level, s.commands_per_level, log)
        finally:
            env.stop_system(replica)

    def _profile(self, system, seeds) -> dict:
        from bench.profile import profile

        drive = commands.Commands(system, seeds)
        out = {}
        for kind in commands.KINDS:
            commands.wait_quiet(system, system.platform.settings.ledger_url)
            # as many as were seeded for the profile's run (see _with_services)
            ahead = int(self.sizes.commands_per_level * self.sizes.profile_seconds / self.sizes.seconds_per_level)
            out[kind] = profile(system, drive, kind, self.sizes.profile_seconds, self.out_dir, log=log, ahead=ahead)
            target = self.out_dir / f"{self.stamp}-{out[kind]['collapsed_stacks']}"
            (self.out_dir / out[kind]["collapsed_stacks"]).rename(target)
            out[kind]["collapsed_stacks"] = target.name
        return out

    # -- the end --------------------------------------------------------------------------

    def finish(self) -> dict:
        self.results["finished_at"] = datetime.now(UTC).isoformat(timespec="seconds")
        self.results["duration_s"] = round(time.monotonic() - self.started, 1)
        self.results["load_average_at_end"] = load_average()
        self.results["targets"] = report.judge(self.results)
        json_path = self.out_dir / f"{self.stamp}.json"
        report.write_json(self.results, json_path)
        png_path = self.out_dir / f"{self.stamp}.png"
        try:
            report.chart(self.results, png_path)
        except Exception:  # noqa: BLE001 - the numbers are written; say what failed
            self.results["errors"]["chart"] = traceback.format_exc()
            report.write_json(self.results, json_path)
        log("\n" + report.table(self.results))
        log(f"\nresults: {json_path}\nchart:   {png_path}\n({self.results['duration_s']:,.0f} s in all)")
        return self.results


def prime(ledger_url: str) -> None:
    """The relay's position and the follower's hashes at the head of a freshly seeded ledger.

    The seeded events are in the read models already (`fill_read_models`); without this,
    the services would spend the first minutes of the run re-publishing and re-hashing them.
    """
    engine = sa.create_engine(sqlalchemy_url(ledger_url))
    try:
        with engine.connect() as conn:
            head = conn.execute(sa.text("SELECT COALESCE(MAX(notification_id), 0) FROM ledger_events")).scalar()
        PositionStore(engine, ledger_url).set(head)
    finally:
        engine.dispose()
    store = IntegrityStore(ledger_url)
    try:
        store.create()
        while store.hash_batch() >= HASH_BATCH:
            pass
    finally:
        store.dispose()


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    size = parser.add_mutually_exclusive_group()
    size.add_argument("--quick", action="store_const", const="quick", dest="mode",
                      help="small sizes (10,000-event ledger, no 1 GiB upload): a couple of minutes")
    size.add_argument("--smoke", action="store_const", const="smoke", dest="mode",
                      help="the smallest configuration that still gives every figure (the smoke test's)")
    parser.add_argument("--only", nargs="+", choices=SECTIONS, help="run only these sections")
    parser.add_argument("--profile", action="store_true",
                        help="also profile each command's service with py-spy while 16 clients drive it")
    parser.add_argument("--out", type=Path, default=RESULTS_DIR, help=f"where results go (default {RESULTS_DIR})")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    sizes = MODES[args.mode or "full"]
    sections = tuple(args.only or DEFAULT_SECTIONS) + (("profile",) if args.profile else ())
    results = Run(sizes, tuple(s for s in SECTIONS if s in sections), args.out).run()
    return 1 if results["errors"] else 0


if __name__ == "__main__":
    sys.exit(main())
