"""The local run's supervisor: an exited process is restarted alone, with a growing pause."""

from __future__ import annotations

from services.cli.supervisor import LONGEST_PAUSE, STEADY_AFTER, Supervisor


class FakeProc:
    def __init__(self):
        self.returncode = None

    def poll(self):
        return self.returncode


def make(names):
    now = [0.0]
    started: dict[str, list[FakeProc]] = {n: [] for n in names}
    said: list[str] = []

    def starter(name):
        def start():
            started[name].append(FakeProc())
            return started[name][-1]
        return start

    sup = Supervisor({n: starter(n) for n in names}, say=said.append, clock=lambda: now[0])
    sup.start_all()
    return sup, started, said, now


def test_an_exited_process_is_restarted_alone_after_a_pause():
    sup, started, said, now = make(["intake", "verification"])
    started["verification"][-1].returncode = -9
    sup.tend()
    assert "verification exited with -9; the others keep serving; restarting it in 1 s" in said[-1]
    sup.tend()
    assert len(started["verification"]) == 1  # not before its pause
    now[0] += 1
    sup.tend()
    assert len(started["verification"]) == 2 and len(started["intake"]) == 1
    assert started["intake"][0].poll() is None


def test_the_pause_doubles_while_it_keeps_failing_and_resets_once_it_ran_steadily():
    sup, started, _, now = make(["review"])
    pauses = []
    for _ in range(7):
        started["review"][-1].returncode = 1
        sup.tend()
        pauses.append(sup.children["review"].restart_at - now[0])
        now[0] = sup.children["review"].restart_at
        sup.tend()
    assert pauses == [1, 2, 4, 8, 16, LONGEST_PAUSE, LONGEST_PAUSE]
    now[0] += STEADY_AFTER
    started["review"][-1].returncode = 1
    sup.tend()
    assert sup.children["review"].restart_at - now[0] == 1


def test_a_start_that_fails_is_tried_again_later():
    sup, started, said, now = make(["documents"])
    started["documents"][-1].returncode = 1
    sup.tend()

    def broken():
        raise RuntimeError("port taken")
    sup.children["documents"].start = broken
    now[0] += 1
    sup.tend()
    assert "documents did not start (port taken)" in said[-1]
    assert sup.children["documents"].restart_at == now[0] + 2


def test_an_adopted_process_is_watched_and_restarted_with_its_own_start():
    sup, _, _, now = make(["intake"])
    provider, again = FakeProc(), FakeProc()
    sup.adopt("the identity provider", provider, lambda: again)
    provider.returncode = -9
    sup.tend()
    now[0] += 1
    sup.tend()
    assert sup.children["the identity provider"].proc is again
