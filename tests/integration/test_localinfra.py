"""The session fixtures give real services, and services.cli.localinfra starts and stops them."""

from __future__ import annotations

import io
import json
import os
import shutil
import stat
import subprocess
import sys
import uuid
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import unquote, urlsplit

import psycopg
import pytest
import requests
from amqp.exceptions import NotFound
from kombu import Connection, Exchange, Queue
from minio import Minio
from minio.error import S3Error
from nameko.rpc import rpc
from nameko.standalone.rpc import ServiceRpcProxy
from nameko.web.handlers import http

from services.cli.localinfra import ports, s3, system_services
from services.cli.signin import sample_accounts
from tests.support.local_run import service_pid, start_run, stop_run, wait_for

pytestmark = pytest.mark.integration


# ----------------------------------------------------------------------- PostgreSQL


def test_postgres_url_is_a_fresh_database_of_its_own(postgres_url):
    name = urlsplit(postgres_url).path.lstrip("/")
    assert name.startswith("cp_test_")
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        assert conn.execute("SELECT current_database()").fetchone()[0] == name
        tables = conn.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'"
        ).fetchone()[0]
        assert tables == 0
        conn.execute("CREATE TABLE probe (id serial PRIMARY KEY, note text NOT NULL)")
        conn.execute("INSERT INTO probe (note) VALUES (%s), (%s)", ("a", "b"))
        assert conn.execute("SELECT array_agg(note ORDER BY id) FROM probe").fetchone()[0] == ["a", "b"]


def test_make_database_gives_separate_databases(make_database, postgres_url):
    first, second = make_database("intake"), make_database("review")
    assert len({first, second, postgres_url}) == 3
    with psycopg.connect(first, autocommit=True) as conn:
        conn.execute("CREATE TABLE only_here (x int)")
    with psycopg.connect(second, autocommit=True) as conn:
        found = conn.execute("SELECT to_regclass('only_here')").fetchone()[0]
    assert found is None


# ------------------------------------------------------------------------- RabbitMQ


def test_amqp_round_trip_on_the_sessions_vhost(amqp_uri, infra_backend):
    vhost = unquote(urlsplit(amqp_uri).path[1:])
    if infra_backend.name == "local":
        assert vhost.startswith("cp_test_"), "the session must get a vhost of its own"
    exchange = Exchange("probe.events", type="topic", durable=False, auto_delete=True)
    queue = Queue(f"probe.{uuid.uuid4().hex}", exchange=exchange, routing_key="case.#",
                  auto_delete=True)
    with Connection(amqp_uri, connect_timeout=5) as conn:
        conn.connect()
        assert conn.connected
        assert (conn.virtual_host or "/") == (vhost or "/")
        with conn.channel() as channel:
            queue(channel).declare()
            producer = conn.Producer(channel)
            producer.publish({"event": "case.opened", "n": 1}, exchange=exchange,
                             routing_key="case.opened", serializer="json",
                             declare=[exchange])
            producer.publish({"event": "ignored"}, exchange=exchange,
                             routing_key="other.thing", serializer="json")
        received = []
        with conn.Consumer(queue, callbacks=[lambda body, msg: (received.append(body), msg.ack())],
                           accept=["json"]):
            conn.drain_events(timeout=5)
        assert received == [{"event": "case.opened", "n": 1}]
        with conn.SimpleQueue(queue) as simple:
            assert simple.qsize() == 0  # the other routing key was not routed here


def test_vhosts_are_isolated(amqp_uri, make_vhost, infra_backend):
    if infra_backend.name == "local" and not shutil.which("rabbitmqctl"):
        pytest.skip("no rabbitmqctl: vhosts cannot be created")
    other = make_vhost("other")
    assert other != amqp_uri
    name = f"probe.{uuid.uuid4().hex}"
    with Connection(amqp_uri, connect_timeout=5) as conn, conn.channel() as channel:
        Queue(name, auto_delete=False, durable=False)(channel).declare()
    try:
        with (
            Connection(other, connect_timeout=5) as conn,
            conn.channel() as channel,
            pytest.raises(NotFound) as excinfo,
        ):
            Queue(name)(channel).queue_declare(passive=True)
        assert "NOT_FOUND" in str(excinfo.value) or "404" in str(excinfo.value)
    finally:
        with Connection(amqp_uri, connect_timeout=5) as conn, conn.channel() as channel:
            Queue(name)(channel).delete()


# ------------------------------------------------------------------------------ S3


def _client(s3_settings, secret_key=None, access_key=None) -> Minio:
    return Minio(s3_settings["endpoint"],
                 access_key=access_key or s3_settings["access_key"],
                 secret_key=secret_key or s3_settings["secret_key"],
                 secure=s3_settings["secure"])


def test_s3_settings_shape(s3_settings):
    assert set(s3_settings) == {"endpoint", "access_key", "secret_key", "secure"}
    assert s3_settings["secure"] is False
    host, _, port = s3_settings["endpoint"].rpartition(":")
    assert host and port.isdigit()


def test_s3_bucket_put_get(s3_settings):
    client = _client(s3_settings)
    bucket = f"probe-{uuid.uuid4().hex[:12]}"
    client.make_bucket(bucket)
    assert client.bucket_exists(bucket)
    body = os.urandom(70_000)
    client.put_object(bucket, "cases/1/evidence.bin", io.BytesIO(body), len(body),
                      content_type="application/octet-stream")
    response = client.get_object(bucket, "cases/1/evidence.bin")
    try:
        assert response.read() == body
    finally:
        response.close()
        response.release_conn()
    assert client.stat_object(bucket, "cases/1/evidence.bin").size == len(body)
    assert [o.object_name for o in client.list_objects(bucket, recursive=True)] == ["cases/1/evidence.bin"]


def test_s3_refuses_a_bad_secret_key(s3_settings):
    with pytest.raises(S3Error) as excinfo:
        _client(s3_settings, secret_key="not-the-secret").list_buckets()
    assert excinfo.value.code in ("SignatureDoesNotMatch", "AccessDenied", "InvalidAccessKeyId")


def test_s3_refuses_an_unknown_access_key(s3_settings):
    with pytest.raises(S3Error) as excinfo:
        _client(s3_settings, access_key="nobody-" + uuid.uuid4().hex[:6]).list_buckets()
    assert excinfo.value.code in ("InvalidAccessKeyId", "AccessDenied", "SignatureDoesNotMatch")


# ---------------------------------------------------------------- services.cli.localinfra


def test_free_port_and_port_open():
    port = ports.free_port()
    assert 0 < port < 65536
    assert not ports.port_open("127.0.0.1", port)


def test_weed_binary_is_the_seaweedfs_executable():
    path = s3.weed_binary()
    assert os.path.basename(path) == "weed" and os.access(path, os.X_OK)


def test_ensure_s3_starts_once_then_reuses_and_stop_frees_the_port(tmp_path):
    port = ports.free_port()
    settings = SimpleNamespace(s3_endpoint=f"127.0.0.1:{port}", s3_access_key="probe-access",
                               s3_secret_key="probe-secret-key", s3_secure=False,
                               data_dir=str(tmp_path))
    server = s3.ensure_s3(settings)
    assert server is not None
    try:
        assert server.endpoint == f"127.0.0.1:{port}"
        assert (tmp_path / "s3" / "weed.log").exists()
        assert s3.ensure_s3(settings) is None  # already answering: reused
        client = Minio(server.endpoint, access_key="probe-access",
                       secret_key="probe-secret-key", secure=False)
        client.make_bucket("probe-bucket")
        assert [b.name for b in client.list_buckets()] == ["probe-bucket"]
        # every port it opened is on loopback and among the ones it chose
        assert set(server.ports.values()) >= {port}
    finally:
        server.stop()
    assert not server.running
    assert not ports.port_open("127.0.0.1", port)
    for p in server.ports.values():
        assert not ports.port_open("127.0.0.1", p)


def test_s3_server_reports_why_it_could_not_start(tmp_path):
    busy = s3.S3Server(tmp_path / "a", "k", "s3cretkey", port=None).start()
    try:
        with pytest.raises(RuntimeError, match="already in use"):
            s3.S3Server(tmp_path / "b", "k", "s3cretkey", port=busy.port).start()
    finally:
        busy.stop()


def test_ensure_services_start_nothing_when_the_ports_answer(postgres_url, amqp_uri, infra_backend, monkeypatch):
    if infra_backend.name != "local":
        pytest.skip("checks the local services")
    started = []
    monkeypatch.setattr(system_services.subprocess, "Popen", lambda *a, **k: started.append(a) or None)
    monkeypatch.setattr(system_services.subprocess, "run", lambda *a, **k: started.append(a) or None)
    assert system_services.ensure_postgres(postgres_url) is None
    assert system_services.ensure_rabbitmq(amqp_uri) is None
    assert system_services.ensure_postgres("sqlite:///nowhere.db") is None  # nothing to do for SQLite
    assert started == []



# --------------------------------------------------------------------------- nameko


class _PingService:
    name = "probe_ping"

    @rpc
    def ping(self, value):
        return {"pong": value}

    @http("GET", "/ping/<value>")
    def http_ping(self, request, value):
        return f"pong {value}"


def test_nameko_fixtures_work_on_the_sessions_services(container_factory, rabbit_config,
                                                       web_config, web_session):
    """nameko's own fixtures, with rabbit_config and web_session replaced by conftest.py."""
    config = {**web_config, "AMQP_URI": rabbit_config["AMQP_URI"]}
    container = container_factory(_PingService, config)
    container.start()
    assert web_session.get("/ping/7").text == "pong 7"
    with ServiceRpcProxy("probe_ping", config) as proxy:
        assert proxy.ping(3) == {"pong": 3}


# ------------------------------------------------------------------- caseplatform run


def test_run_starts_the_provider_prints_the_sample_sign_ins_and_the_demo_walks_through_it(
        tmp_path, s3_settings, make_vhost):
    """The README's run command on ports and data of its own: the provider first, then the
    services; the SAMPLE sign-ins printed; `caseplatform demo` signs in there and passes;
    Ctrl-C (SIGINT) stops the provider with the rest."""
    run, env, log, service_ports, identity_port = start_run(tmp_path, s3_settings, make_vhost)
    try:
        printed = log.read_text()
        assert f"identity provider (OpenID Connect): http://127.0.0.1:{identity_port} (started here" in printed
        for account in sample_accounts():
            row = f"{account['role']:<10} {account['org']:<19} {account['username']:<26} {account['password']}"
            assert row in printed
        assert "caseplatform token --user sample-hubei-official" in printed
        assert "caseplatform token --client hubei-province-system" in printed
        secret_file = tmp_path / "identity" / "timer-client-secret"
        assert stat.S_IMODE(secret_file.stat().st_mode) == 0o600
        assert secret_file.read_text() == json.loads((tmp_path / "identity" / "client-secrets.json").read_text())[
            "caseplatform-timers"]

        def serving() -> bool:
            return all(ports.port_open("127.0.0.1", port) for port in service_ports.values())

        wait_for("every service answering", serving, run, log)
        console = f"http://127.0.0.1:{env['CONSOLE_PORT']}/"
        assert f"console: {console}" in printed
        wait_for("the console answering", lambda: ports.port_open("127.0.0.1", int(env["CONSOLE_PORT"])), run, log)
        assert "公示与名单" in requests.get(console, timeout=5).text
        console_env = Path(f"/proc/{service_pid(run, 'console')}/environ").read_bytes()
        assert b"OIDC_ISSUER=" in console_env
        assert b"TIMER_CLIENT_SECRET" not in console_env and b"S3_SECRET_KEY" not in console_env
        demo = subprocess.run([sys.executable, "-m", "services.cli.main", "demo"], env=env, capture_output=True,
                              text=True, timeout=120, check=False)
        # The run's own log beside the demo's: a step that timed out says why only there.
        assert demo.returncode == 0, demo.stdout + demo.stderr + "\n--- caseplatform run:\n" + log.read_text()[-6000:]
        assert "published" in demo.stdout and "Replayed history" in demo.stdout
    finally:
        stop_run(run)
    assert not ports.port_open("127.0.0.1", identity_port), "the provider outlived the run"
    assert run.returncode == 0, log.read_text()[-3000:]


