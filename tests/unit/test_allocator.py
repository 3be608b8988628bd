"""A service's resident memory follows what it holds after a 16 MiB buffer is freed (issue #22's CI
failure: the documents process grew by 65 MiB over a 1 GiB upload holding 32 MiB at once)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

MiB = 1024 * 1024

# Two 16 MiB parts one after the other, as an upload sends them: the first is mapped and unmapped;
# glibc then raises its threshold, so unless it is fixed the second comes from the heap and stays.
SCRIPT = textwrap.dedent("""
    import os, sys
    from shared.infra.allocator import hand_back_large_buffers
    if sys.argv[1] == "fixed":
        assert hand_back_large_buffers()
    def rss():
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    part = b"\\x01" * (16 << 20)
    del part
    before = rss()
    part = b"\\x02" * (16 << 20)
    del part
    print(rss() - before)
""")


def _kept_after_free(mode: str) -> int:
    # glibc's own settings from the environment would decide the default case instead
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MALLOC_", "GLIBC_TUNABLES"))}
    done = subprocess.run([sys.executable, "-c", SCRIPT, mode], capture_output=True, text=True, check=True,
                          env=env)
    return int(done.stdout)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's allocator")
def test_a_freed_16_mib_part_stays_resident_under_glibcs_moving_threshold_and_not_once_it_is_fixed():
    assert _kept_after_free("default") >= 15 * MiB  # why the services fix it: glibc keeps the part
    assert _kept_after_free("fixed") < 1 * MiB
