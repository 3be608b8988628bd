"""The local run keeps serving when one process dies, and what it writes is its own
(issue #18, findings 3 and 4).

Before: `kill -9` of the verification process made `caseplatform run` stop all six
services, and 131 of 200 submissions in flight got "connection refused"; `var/ledger.db`
(contact names and mobiles) and the S3 data were world-readable.
"""

from __future__ import annotations

import os
import signal
import stat
import uuid
from datetime import date

from services.cli.demo import Platform, sample_call, upload_sample_evidence
from services.cli.localinfra import ports
from services.cli.localinfra.identity import answers
from shared.domain.forms.samples import SAMPLE_OPEN_COMPETITION_APPLICATION
from shared.infra.config import SERVICES, Settings
from tests.support.local_run import child_pid, provider_pid, service_pid, start_run, stop_run, wait_for

CASES = 12


def _platform(env: dict, identity_port: int) -> Platform:
    return Platform.local(Settings.from_env({**env, "OIDC_ISSUER": f"http://127.0.0.1:{identity_port}"}))


def test_a_killed_service_is_restarted_alone_and_no_event_is_lost(tmp_path, s3_settings, make_vhost):
    run, env, log, service_ports, identity_port = start_run(tmp_path, s3_settings, make_vhost)
    try:
        wait_for("every service answering", lambda: all(ports.port_open("127.0.0.1", p)
                                                        for p in service_ports.values()), run, log)
        platform = _platform(env, identity_port)
        pids = {name: service_pid(run, name) for name in SERVICES}
        upload_sample_evidence(platform, platform.tokens["applicant"], SAMPLE_OPEN_COMPETITION_APPLICATION)
        submitted = []
        for i in range(CASES):
            call_id = f"sample-supervised-{uuid.uuid4().hex[:8]}"
            platform.call("ministry", "POST", "intake", "/calls", json_body=sample_call(call_id, date.today()),
                          expect=201)
            if i == CASES // 3:
                os.kill(pids["verification"], signal.SIGKILL)  # mid-load, as an OOM kill would
            submitted.append(platform.call("applicant", "POST", "intake", f"/calls/{call_id}/cases", expect=201,
                                           json_body=SAMPLE_OPEN_COMPETITION_APPLICATION)["case_id"])
        wait_for("verification started again", lambda: service_pid(run, "verification") not in
                 (None, pids["verification"]) and ports.port_open("127.0.0.1", service_ports["verification"]),
                 run, log)
        def in_inbox() -> set[str]:
            return {r["case_id"] for r in platform.call("city", "GET", "verification", "/inbox")}

        platform.wait_until("every submitted case in Wuhan's inbox", lambda: set(submitted) <= in_inbox(),
                            timeout=60)
        assert set(submitted) <= in_inbox()
        # The others never stopped: the same processes served throughout.
        assert {n: service_pid(run, n) for n in SERVICES if n != "verification"} == {
            n: pid for n, pid in pids.items() if n != "verification"}
        printed = log.read_text()
        assert "verification exited with -9; the others keep serving" in printed
    finally:
        stop_run(run)
    assert run.returncode == 0


def test_the_provider_is_restarted_when_it_dies(tmp_path, s3_settings, make_vhost):
    run, env, log, _, identity_port = start_run(tmp_path, s3_settings, make_vhost)
    try:
        first = provider_pid(run, tmp_path / "identity")
        os.kill(first, signal.SIGKILL)
        wait_for("the provider answering again", lambda: child_pid(run, "server.mjs", str(tmp_path / "identity"))
                 not in (None, first) and
                 answers(f"http://127.0.0.1:{identity_port}"),
                 run, log)
        assert _platform(env, identity_port).tokens["ministry"]  # signing in works again
        assert "the identity provider exited with -9" in log.read_text()
    finally:
        stop_run(run)


def test_what_the_run_writes_is_readable_by_its_owner_only(tmp_path, s3_settings, make_vhost):
    data = tmp_path / "data"
    data.mkdir(mode=0o755)
    run, env, log, service_ports, _ = start_run(data, s3_settings, make_vhost)
    try:
        wait_for("the services answering", lambda: all(ports.port_open("127.0.0.1", p)
                                                        for p in service_ports.values()), run, log)
        # The local mail sink keeps each mail in <data>/mail/: the recipients' mail, the owner's alone.
        wait_for("the mail sink", lambda: ports.port_open("127.0.0.1", int(env["MAIL_SINK_PORT"])), run, log)
        from shared.infra.notify import mail

        mail.send(mail.Mail("SAMPLE-1", "unit@sample.example.com", "SAMPLE", "样例", "SAMPLE"),
                  mail.SmtpSettings(port=int(env["MAIL_SINK_PORT"])))
        wait_for("the mail as a file", lambda: list((data / "mail").glob("*.eml")), run, log)
    finally:
        stop_run(run)
    written = [p for p in data.rglob("*") if p != data / "run.log"]  # run.log is the test's own
    assert any(p.name == "ledger.db" for p in written)
    assert data / "console" / "session.key" in written  # the key that seals the console's sessions
    loose = {str(p.relative_to(data)): oct(stat.S_IMODE(p.stat().st_mode)) for p in written
             if stat.S_IMODE(p.stat().st_mode) & 0o077 and not p.is_symlink()}
    assert loose == {}
