"""The broker's definitions (deploy/rabbitmq/definitions.json) enforced by the real local
RabbitMQ: only the relay publishes to the ledger's exchange; a service consumes and parks
its own queue and cannot touch another service's.

The definitions are imported as compose's rabbitmq-init posts them (users with the hashes
deploy/rabbitmq/load_definitions.py computes), renamed into a throwaway vhost and throwaway
users (cp_test_perm_<hex>...) for the relay and two services; everything made here is
deleted at the end, and nothing else on the broker is touched. Needs rabbitmqctl.
"""

from __future__ import annotations

import importlib.util
import json
import re
import secrets
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from urllib.parse import quote

import pytest
from amqp.exceptions import AccessRefused
from kombu import Connection, Producer, Queue

from shared.infra.messaging import topology

ROOT = Path(__file__).resolve().parents[2]
DEFINITIONS = ROOT / "deploy" / "rabbitmq" / "definitions.json"
LOADER = ROOT / "deploy" / "rabbitmq" / "load_definitions.py"
EXCHANGE = "ledger.events"
ROLES = ("relay", "intake", "review")  # the relay and two services

pytestmark = pytest.mark.skipif(shutil.which("rabbitmqctl") is None, reason="needs rabbitmqctl")


def rabbitmqctl(*args: str) -> str:
    return subprocess.run(["rabbitmqctl", "--quiet", *args], capture_output=True, text=True,
                          check=True, timeout=60).stdout


def import_definitions(document: dict) -> None:
    """`rabbitmqctl import_definitions` (the broker reads the file itself, and this version
    takes no standard input), then waits: the import finishes after the command returns."""
    with tempfile.NamedTemporaryFile("w", suffix=".json", prefix="cp_test_perm_", dir="/tmp") as file:
        json.dump(document, file)
        file.flush()
        Path(file.name).chmod(0o644)
        rabbitmqctl("import_definitions", file.name)
        vhost = document["vhosts"][0]["name"]
        deadline = time.monotonic() + 30
        while True:
            try:
                permissions = rabbitmqctl("list_permissions", "-p", vhost, "--no-table-headers").splitlines()
                bindings = rabbitmqctl("list_bindings", "-p", vhost, "source_name", "--no-table-headers")
                if (len(permissions) == len(document["permissions"])
                        and len([b for b in bindings.splitlines() if b.strip() == EXCHANGE])
                        == len(document["bindings"])):
                    return
            except subprocess.CalledProcessError:
                pass  # the vhost is not there yet
            if time.monotonic() > deadline:
                raise TimeoutError(f"the definitions were not imported into {vhost} within 30 s")
            time.sleep(0.2)


def _loader():
    spec = importlib.util.spec_from_file_location("load_definitions", LOADER)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def broker():
    """{role: AMQP URI} of throwaway users, with the definitions' permissions, in a throwaway vhost."""
    loader = _loader()
    tag = f"cp_test_perm_{secrets.token_hex(4)}"
    definitions = json.loads(DEFINITIONS.read_text())
    users = {role: f"{tag}_{role}" for role in ROLES}
    passwords = {role: secrets.token_hex(16) for role in ROLES}

    def here(entry: dict) -> dict:
        return {**entry, "vhost": tag}

    document = {
        "vhosts": [{"name": tag}],
        "users": [{"name": users[role], "tags": "", "password_hash": loader.password_hash(passwords[role]),
                   "hashing_algorithm": loader.HASHING} for role in ROLES],
        "permissions": [{**here(p), "user": users[role]} for role in ROLES
                        for p in definitions["permissions"] if p["user"] == f"caseplatform-{role}"],
        "exchanges": [here(e) for e in definitions["exchanges"]],
        "queues": [here(q) for q in definitions["queues"]],
        "bindings": [here(b) for b in definitions["bindings"]],
    }
    assert len(document["permissions"]) == len(ROLES)
    try:
        import_definitions(document)
        yield {role: f"amqp://{users[role]}:{quote(passwords[role])}@127.0.0.1:5672/{tag}" for role in ROLES} | {
            "vhost": tag}
    finally:
        # Only what this module made: its users and its vhost, by name.
        listed = rabbitmqctl("list_users", "--no-table-headers").split()
        for user in users.values():
            if user in listed:
                rabbitmqctl("delete_user", user)
        if tag in rabbitmqctl("list_vhosts", "--no-table-headers").split():
            rabbitmqctl("delete_vhost", tag)


def depth(broker: dict, queue: str) -> int:
    """Messages ready in `queue`, from the queue itself (a passive declare, as the relay): the
    counts `rabbitmqctl list_queues` shows of a quorum queue are its last stats, seconds old."""
    with Connection(broker["relay"]) as conn:
        return conn.channel().queue_declare(queue, passive=True).message_count


def publish(uri: str, body: dict, exchange: str, routing_key: str) -> None:
    # With publisher confirms the broker's answer (or its refusal, which closes the channel)
    # is waited for here rather than surfacing later on another call.
    with Connection(uri, transport_options={"confirm_publish": True}) as conn:
        Producer(conn.channel()).publish(body, exchange=exchange, routing_key=routing_key,
                                         serializer="json", delivery_mode=2)


def test_the_relay_declares_the_topology_and_publishes_the_ledger(broker):
    with Connection(broker["relay"]) as conn:
        # as Relay._producer does: the exchange and every service's queues, with the same
        # arguments as the definitions (a difference would close the channel: PRECONDITION_FAILED)
        topology.declare(conn.channel(), EXCHANGE)
    before = depth(broker, "ledger.intake")
    publish(broker["relay"], {"message_id": "SAMPLE-1"}, EXCHANGE, "case.case_opened")
    assert depth(broker, "ledger.intake") == before + 1
    assert depth(broker, "ledger.review") >= 1  # every service takes every case event


@pytest.mark.parametrize("role", ("intake", "review"))
def test_a_service_user_may_not_publish_to_the_ledger(broker, role):
    before = depth(broker, "ledger.intake")
    with pytest.raises(AccessRefused, match=re.escape("ledger.events")):
        publish(broker[role], {"message_id": "SAMPLE-forged"}, EXCHANGE, "case.case_opened")
    assert depth(broker, "ledger.intake") == before


def test_a_service_consumes_and_parks_its_own_queue(broker):
    publish(broker["relay"], {"message_id": "SAMPLE-2"}, EXCHANGE, "case.case_opened")
    parked_before = depth(broker, "ledger.intake.parked")
    # With publisher confirms, as the subscriber parks: without them the depth below could be read
    # before the quorum queue had committed the parked copy (a rehearsal read 0).
    with Connection(broker["intake"], transport_options={"confirm_publish": True}) as conn:
        # as the subscriber does before it consumes: its own queues, bound to the exchange
        topology.declare(conn.channel(), EXCHANGE, services=["intake"])
        main, _, parked = topology.service_queues("intake", EXCHANGE)
        [message] = topology.take(conn, main.name, most=1)
        # parking (subscriber._park): a publish to the default exchange, the parked queue's name as key
        Producer(conn.channel()).publish(message.body, exchange="", routing_key=parked.name,
                                         headers={"x-parked-error": "SAMPLE"}, delivery_mode=2)
        message.ack()
    assert depth(broker, "ledger.intake.parked") == parked_before + 1


def test_a_service_may_not_read_or_declare_another_services_queue(broker):
    with Connection(broker["intake"]) as conn, pytest.raises(AccessRefused, match=re.escape("ledger.review")):
        Queue("ledger.review")(conn.channel()).get(no_ack=False)
    with Connection(broker["intake"]) as conn, pytest.raises(AccessRefused):
        topology.declare(conn.channel(), EXCHANGE, services=["review"])
    with Connection(broker["review"]) as conn, pytest.raises(AccessRefused, match=re.escape("ledger.intake.parked")):
        Queue("ledger.intake.parked")(conn.channel()).get(no_ack=False)


def test_a_service_may_not_read_its_own_parked_queue(broker):
    # parked messages are the operator's to list and replay (caseplatform parked ...)
    with Connection(broker["review"]) as conn, pytest.raises(AccessRefused, match=re.escape("ledger.review.parked")):
        Queue("ledger.review.parked")(conn.channel()).get(no_ack=False)
