"""Where a command's time goes: py-spy sampling the serving process while clients drive the command.

py-spy attaches to the service process (root, or ptrace allowed), samples every
thread's Python stack without pausing it (`--nonblocking`), and writes collapsed
stacks (frames read "function (package/module.py:line)"). Each sample is put in one
activity by the outermost frame it finds (the HTTP command, the subscription's
projection, the outbox relay, the checkpoint follower), and the command's own samples
are broken down by the library the innermost frame of ours or theirs belongs to, so
the answer reads as "of the time spent on a command, x% in psycopg, y% in
eventsourcing…". Only samples holding a Python stack count; the hub waiting on sockets
shows as idle and is left out.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from bench.commands import SERVICE_OF, Commands
from bench.load import closed_loop
from tests.support.localsystem import LocalSystem

ACTIVITIES = (  # by priority: the first whose frames appear in a stack names its activity
    ("relay", ("(shared/infra/messaging/relay.py", "(shared/infra/messaging/leadership.py",
               "(shared/infra/messaging/commits.py")),
    ("checkpoint follower", ("(services/audit/follower.py",)),
    ("subscription (projections)", ("(shared/infra/service_base.py", "(nameko/messaging.py", "LedgerSubscriber.",
                                    "ConsumerMixin.")),
    # The command: its worker (the service's entrypoint method in services/, and below),
    # and the server's part before and after it: reading the request, answering.
    ("command (HTTP)", ("(services/", "(shared/infra/web/", "(eventlet/wsgi.py", "(nameko/web/")),
)
LIBRARIES = (  # the first that matches, innermost frame outward
    ("psycopg (database driver)", ("(psycopg/", "(psycopg_pool/")),
    ("eventsourcing (store, mapper, aggregate)", ("(eventsourcing/",)),
    ("SQLAlchemy (read models)", ("(sqlalchemy/",)),
    ("JSON", ("(json/",)),
    ("marshmallow (request schemas)", ("(marshmallow/",)),
    ("JWT / hashing", ("(jwt/", "(hashlib.py", "(hmac.py")),
    ("werkzeug (HTTP parsing)", ("(werkzeug/",)),
    ("nameko / kombu (framework, broker)", ("(nameko/", "(kombu/", "(amqp/")),
    ("domain (shared/, services/)", ("(shared/", "(services/")),
)
GREEN_IO = ("eventlet (green I/O, WSGI server)", "(eventlet/")  # only when nothing above is further in


def _py_spy() -> str:
    found = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    if not Path(found).exists():
        raise RuntimeError("py-spy is not installed: pip install -e '.[bench]'")
    return found


def summarise(collapsed: str) -> dict:
    """Collapsed stacks (one 'frame;frame;… count' a line) → shares by activity and by library."""
    activities: Counter = Counter()
    libraries: Counter = Counter()
    functions: Counter = Counter()
    total = 0
    for line in collapsed.splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        n = int(count)
        total += n
        frames = stack.split(";")
        activity = next((name for name, paths in ACTIVITIES if any(p in f for f in frames for p in paths)), "other")
        activities[activity] += n
        if activity != "command (HTTP)":
            continue
        library = ""
        for frame in reversed(frames):
            library = next((name for name, parts in LIBRARIES if any(p in frame for p in parts)), "")
            if library:
                break
        if not library:
            library = GREEN_IO[0] if any(GREEN_IO[1] in f for f in frames) else "other"
        libraries[library] += n
        functions[frames[-1]] += n
    command = sum(libraries.values())

    def shares(counter: Counter, of: int) -> dict:
        return {k: round(v / of, 3) for k, v in counter.most_common()} if of else {}

    return {"samples": total, "activities": shares(activities, total), "command_samples": command,
            "command_by_library": shares(libraries, command),
            "command_top_functions": shares(Counter(dict(functions.most_common(12))), command)}


def profile(system: LocalSystem, commands: Commands, kind: str, seconds: float, out_dir: Path,
            clients: int = 16, log: Callable[[str], None] = print, ahead: int = 0) -> dict:
    """`ahead`: how many commands the run may send, whose callers are signed in before py-spy starts."""
    pid = system.procs[SERVICE_OF[kind]].pid
    out_dir.mkdir(parents=True, exist_ok=True)
    items = commands.prepared(kind, ahead)  # before the recording: sign-ins are no part of the command
    raw = out_dir / f"profile-{kind}.txt"
    spy = subprocess.Popen([_py_spy(), "record", "--pid", str(pid), "--duration", str(max(1, round(seconds))),
                            "--rate", "100", "--nonblocking", "--format", "raw", "--output", str(raw)],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        outcome = closed_loop(items, commands.send, clients=clients, seconds=seconds,
                              max_ops=10**9, make_state=commands.client_for(kind), close_state=lambda c: c.close())
        output, _ = spy.communicate(timeout=seconds + 60)
    finally:
        if spy.poll() is None:
            spy.kill()
            spy.wait()
    if spy.returncode != 0 or not raw.exists():
        raise RuntimeError(f"py-spy failed ({spy.returncode}): {output[-500:]}")
    summary = summarise(raw.read_text())
    summary.update(service=SERVICE_OF[kind], clients=clients, commands_per_s=outcome.summary(clients)["per_s"],
                   collapsed_stacks=raw.name)
    top = ", ".join(f"{k} {v:.0%}" for k, v in list(summary["command_by_library"].items())[:5])
    log(f"  {kind} ({SERVICE_OF[kind]}, {clients} clients): {summary['samples']} samples; command path: {top}")
    return summary
