"""psycopg's C build waits for its socket where eventlet sees it (issue #22).

Each check runs in a fresh interpreter patched by eventlet, as a service process is: one
greenthread holds a query on the server for a second (`pg_sleep`) while another counts 10 ms
ticks. With psycopg's default wait for its C build (`wait_c`) the count stops for that second;
after `make_psycopg_cooperative()`, as every service process and this test session call it, the
count runs on: the C build's speed without stalling the other greenthreads.
"""

from __future__ import annotations

import subprocess
import sys

import psycopg
import pytest

pytestmark = pytest.mark.integration

PROBE = """
import warnings; warnings.filterwarnings("ignore")
import eventlet; eventlet.monkey_patch()
import sys, time
import psycopg
if sys.argv[2] == "cooperative":
    from shared.infra.dependencies import check_psycopg_is_cooperative, make_psycopg_cooperative
    make_psycopg_cooperative()
    check_psycopg_is_cooperative()
ticks = []
def tick():
    end = time.monotonic() + 1.5
    while time.monotonic() < end:
        ticks.append(1)
        eventlet.sleep(0.01)
def query():
    with psycopg.connect(sys.argv[1]) as conn:
        conn.execute("SELECT pg_sleep(1)")
ticker = eventlet.spawn(tick)
eventlet.sleep(0.05)
eventlet.spawn(query).wait()
ticker.wait()
print(psycopg.pq.__impl__, psycopg.waiting.wait.__name__, len(ticks))
"""


def ticks(url: str, mode: str) -> tuple[str, str, int]:
    done = subprocess.run([sys.executable, "-c", PROBE, url, mode], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    impl, wait, count = done.stdout.split()
    return impl, wait, int(count)


def test_the_c_build_s_own_wait_stalls_the_process_and_the_cooperative_wait_does_not(postgres_url):
    if psycopg.pq.__impl__ == "python":
        pytest.fail("psycopg-binary is a dependency (pyproject.toml): the C build should be in use")
    impl, wait, stalled = ticks(postgres_url, "default")
    assert (impl, wait) == ("binary", "wait_c")
    assert stalled < 100  # a second of the 1.5 s without a tick: about 50
    impl, wait, running = ticks(postgres_url, "cooperative")
    assert (impl, wait) == ("binary", "wait_select")
    assert running > 120  # ticking through the query: about 150


def test_a_service_refuses_to_start_on_a_wait_that_blocks_eventlet(monkeypatch):
    from psycopg import waiting

    from shared.infra.dependencies import check_psycopg_is_cooperative

    monkeypatch.setattr(waiting, "wait", waiting.wait_c)
    with pytest.raises(RuntimeError, match="wait_c"):
        check_psycopg_is_cooperative()
