"""The local provider's storage of sessions, grants and codes (services/identity/lib/store.mjs),
driven through its adapter in node as oidc-provider drives it, on a real data directory.

Before, every change wrote the whole state again: a provider that had signed thousands in
spent 17 ms a write among 8,000 entries, several writes a sign-in, and a full benchmark's
sign-ins ran at a few a second. Each change is now a line appended to a journal, folded into the
state when the journal has grown as long as the state was; these tests hold what that must keep:
every change found again by a provider started afresh, however it stopped."""

from __future__ import annotations

import json
import stat
import subprocess

import pytest

from services.cli.localinfra.identity import IDENTITY_DIR, node

pytestmark = pytest.mark.integration

STORE = (IDENTITY_DIR / "lib" / "store.mjs").as_uri()


def in_node(data_dir, body: str, fold_at_least: int = 1000) -> dict:
    """Runs `body` in node with `Session` and `Grant` adapters on `data_dir`; what it returns, as JSON."""
    script = f"""
import {{ fileAdapter }} from {json.dumps(STORE)};
const Adapter = fileAdapter({json.dumps(str(data_dir))}, {{ foldAtLeast: {fold_at_least} }});
const Session = new Adapter('Session'), Grant = new Adapter('Grant');
const out = await (async () => {{ {body} }})();
process.stdout.write(JSON.stringify(out ?? null));
"""
    done = subprocess.run([node(), "--input-type=module", "-e", script], capture_output=True, text=True,
                          check=False, timeout=60)
    if done.returncode != 0:
        raise RuntimeError(done.stderr)
    return json.loads(done.stdout)


def journal_lines(data_dir) -> list[dict]:
    return [json.loads(line) for line in (data_dir / "provider-state.log").read_text().splitlines()]


@pytest.fixture
def data_dir(tmp_path):
    path = tmp_path / "identity"
    path.mkdir(mode=0o700)
    return path


def test_every_change_is_found_by_a_provider_started_afresh_without_a_fold(data_dir):
    """The first process ends without folding (as a SIGKILL would leave it): the journal alone
    carries its changes, and the next start folds them into the state."""
    in_node(data_dir, """
        await Session.upsert('s1', { uid: 'u1', accountId: 'sample-hubei-official' }, 3600);
        await Session.upsert('s2', { uid: 'u2', accountId: 'sample-miit-official' }, 3600);
        await Grant.upsert('g1', { accountId: 'sample-hubei-official' }, 3600);
        await Grant.consume('g1');
        await Session.destroy('s2');
    """)
    assert [next(iter(change)) for change in journal_lines(data_dir)] == ["set", "set", "set", "set", "delete"]

    found = in_node(data_dir, """
        return { s1: await Session.find('s1'), s2: (await Session.find('s2')) ?? null,
                 byUid: await Session.findByUid('u1'), goneByUid: (await Session.findByUid('u2')) ?? null,
                 g1: await Grant.find('g1') };
    """)
    assert found["s1"] == {"uid": "u1", "accountId": "sample-hubei-official"}
    assert found["byUid"] == found["s1"]
    assert found["s2"] is None and found["goneByUid"] is None
    assert found["g1"]["consumed"] > 0
    assert journal_lines(data_dir) == []  # folded at start
    state = json.loads((data_dir / "provider-state.json").read_text())
    assert set(state) == {"Session:s1", "Grant:g1"}
    for name in ("provider-state.json", "provider-state.log"):
        assert stat.S_IMODE((data_dir / name).stat().st_mode) == 0o600, name


def test_the_journal_is_folded_as_it_grows_and_nothing_folded_is_lost(data_dir):
    written = in_node(data_dir, """
        for (let i = 0; i < 40; i++) await Session.upsert(`s${i}`, { uid: `u${i}` }, 3600);
        await Session.upsert('s3', { uid: 'u3', again: true }, 3600);
        return 41;
    """, fold_at_least=5)
    lines = journal_lines(data_dir)
    assert len(lines) < 20 < written  # folded along the way, not only at the next start
    assert len(json.loads((data_dir / "provider-state.json").read_text())) >= 20

    found = in_node(data_dir, """
        const all = [];
        for (let i = 0; i < 40; i++) all.push(await Session.findByUid(`u${i}`));
        return all;
    """)
    assert [entry["uid"] for entry in found] == [f"u{i}" for i in range(40)]
    assert found[3] == {"uid": "u3", "again": True}


def test_expired_entries_are_dropped_at_a_fold_and_never_found(data_dir):
    in_node(data_dir, """
        await Session.upsert('old', { uid: 'u-old' }, 1);
        await Session.upsert('kept', { uid: 'u-kept' }, 3600);
        await new Promise((done) => setTimeout(done, 2100));
    """)
    found = in_node(data_dir, "return [(await Session.find('old')) ?? null, await Session.findByUid('u-kept')];")
    assert found == [None, {"uid": "u-kept"}]
    assert set(json.loads((data_dir / "provider-state.json").read_text())) == {"Session:kept"}


def test_a_torn_last_line_is_a_change_that_never_happened(data_dir):
    """The process stopped in the middle of appending: the line has no end and is left out."""
    in_node(data_dir, "await Session.upsert('s1', { uid: 'u1' }, 3600);")
    with (data_dir / "provider-state.log").open("a") as journal:
        journal.write(json.dumps({"set": "Session:s1", "entry": {"payload": {"uid": "u1"}, "expiresAt": None}}))
        journal.write('\n{"set": "Session:s2", "entry": {"payl')
    found = in_node(data_dir, "return [await Session.find('s1'), (await Session.find('s2')) ?? null];")
    assert found == [{"uid": "u1"}, None]


def test_a_journal_line_that_does_not_read_stops_the_start_naming_it(data_dir):
    in_node(data_dir, "await Session.upsert('s1', { uid: 'u1' }, 3600);")
    journal = data_dir / "provider-state.log"
    journal.write_text('{"set": "Session:s2", "ent\n{"delete": "Session:s1"}\n')
    with pytest.raises(RuntimeError, match=r"provider-state.log line 1 is not a change the provider wrote"):
        in_node(data_dir, "return null;")
    # Nothing folded over: the state and the journal as they were, for the operator to look at.
    assert json.loads((data_dir / "provider-state.json").read_text()) == {}
    assert journal.read_text() == '{"set": "Session:s2", "ent\n{"delete": "Session:s1"}\n'
