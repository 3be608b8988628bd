"""Issue #18's hardening of the compose deployment, read from the files (no Docker here):
the broker's definitions (deploy/rabbitmq/) against shared.infra.messaging.topology, each
service's own broker user, only the relay publishing the ledger, no defaulted credential,
the services' MinIO user and the checkpoints' bucket (deploy/minio/), the proxy's limits
(deploy/proxy/) and the health checks.

The permissions are checked here as regular expressions over resource names (as RabbitMQ
matches them); tests/integration/test_broker_permissions.py shows a real broker enforcing
them. What only running containers show (nginx starting with the template, mc accepting the
policy, the management API taking the document) is not checked.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import subprocess
from urllib.parse import urlsplit

import pytest

from shared.infra.config import DEFAULT_PORTS, SERVICES, Settings
from shared.infra.messaging import topology
from tests.unit.test_compose import (
    COMPOSE,
    OPERATOR,
    REALM_FILE,
    ROOT,
    command_of,
    depends_on,
    env_of,
    interpolate,
    published,
)
from tests.unit.test_compose import compose as compose
from tests.unit.test_compose import services as services

DEFINITIONS = ROOT / "deploy" / "rabbitmq" / "definitions.json"
LOADER = ROOT / "deploy" / "rabbitmq" / "load_definitions.py"
POLICY = ROOT / "deploy" / "minio" / "services-policy.json"
MINIO_INIT = ROOT / "deploy" / "minio" / "init.sh"
PROXY_CONF = ROOT / "deploy" / "proxy" / "caseplatform.conf.template"
PROXY_ROUTES = ROOT / "deploy" / "proxy" / "caseplatform-routes.inc.template"
PROXY_TLS = ROOT / "deploy" / "proxy" / "tls.conf"
PROXY_TLS_SCRIPT = ROOT / "deploy" / "proxy" / "40-caseplatform-tls.sh"
# Where the image renders /etc/nginx/templates/caseplatform-routes.inc.template.
ROUTES_INCLUDE = "include /etc/nginx/conf.d/caseplatform-routes.inc;"
VHOST = "caseplatform"
EXCHANGE = "ledger.events"


def load_loader():
    spec = importlib.util.spec_from_file_location("load_definitions", LOADER)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def definitions() -> dict:
    return json.loads(DEFINITIONS.read_text())


def permissions_of(definitions: dict, user: str) -> dict[str, re.Pattern]:
    entry = next(p for p in definitions["permissions"] if p["user"] == user and p["vhost"] == VHOST)
    return {kind: re.compile(entry[kind]) for kind in ("configure", "write", "read")}


def may(definitions: dict, user: str, kind: str, resource: str) -> bool:
    # RabbitMQ searches the name with the pattern (anchors are the pattern's own).
    return permissions_of(definitions, user)[kind].search(resource) is not None


def queues_of(service: str) -> list[str]:
    return [queue.name for queue in topology.service_queues(service, EXCHANGE)]


# ------------------------------------------------------------------ the broker's definitions


def test_definitions_declare_the_vhost_and_the_ledger_exchange(definitions):
    assert [v["name"] for v in definitions["vhosts"]] == [VHOST]
    assert definitions["exchanges"] == [{"name": EXCHANGE, "vhost": VHOST, "type": "topic", "durable": True,
                                         "auto_delete": False, "internal": False, "arguments": {}}]
    assert Settings.from_env({}).exchange == EXCHANGE


def test_definitions_queues_are_topologys(definitions):
    expected = {}
    for service in SERVICES:
        for queue in topology.service_queues(service, EXCHANGE):
            expected[queue.name] = {"name": queue.name, "vhost": VHOST, "durable": bool(queue.durable),
                                    "auto_delete": bool(queue.auto_delete),
                                    "arguments": dict(queue.queue_arguments or {})}
    declared = {queue["name"]: queue for queue in definitions["queues"]}
    assert len(declared) == len(definitions["queues"])
    assert declared == expected
    # retry and dead-letter wiring, spelled out once more: a drift in topology.py shows here too.
    # The main queue's dead letters (its delivery limit) go to parking, the retry queue's back.
    assert declared["ledger.intake"]["arguments"]["x-dead-letter-routing-key"] == "ledger.intake.parked"
    assert declared["ledger.intake"]["arguments"]["x-delivery-limit"] == topology.DELIVERY_LIMIT
    assert declared["ledger.intake"]["arguments"]["x-single-active-consumer"] is True
    assert declared["ledger.intake.retry"]["arguments"]["x-message-ttl"] == topology.RETRY_DELAY_MS
    assert declared["ledger.intake.retry"]["arguments"]["x-dead-letter-routing-key"] == "ledger.intake"
    assert {q["arguments"]["x-queue-type"] for q in declared.values()} == {"quorum"}


def test_definitions_bindings_are_topologys_subscriptions(definitions):
    expected = {(topology.queue_name(service), key) for service in SERVICES for key in topology.SUBSCRIPTIONS[service]}
    bindings = definitions["bindings"]
    assert {(b["destination"], b["routing_key"]) for b in bindings} == expected
    assert all(b["source"] == EXCHANGE and b["vhost"] == VHOST and b["destination_type"] == "queue"
               for b in bindings)


def test_one_user_per_service_the_relay_and_an_operator_and_no_password_in_the_file(definitions):
    names = [user["name"] for user in definitions["users"]]
    assert sorted(names) == sorted(["caseplatform-operator", "caseplatform-relay",
                                    *(f"caseplatform-{service}" for service in SERVICES)])
    for user in definitions["users"]:
        assert set(user) <= {"name", "tags"}, user  # no password, no hash: the loader adds them
    assert {p["user"] for p in definitions["permissions"]} == set(names)
    assert "password" not in DEFINITIONS.read_text()


def test_only_the_relay_may_write_to_the_ledger_exchange(definitions):
    writers = [user["name"] for user in definitions["users"] if may(definitions, user["name"], "write", EXCHANGE)]
    assert writers == ["caseplatform-relay"]


@pytest.mark.parametrize("service", SERVICES)
def test_a_service_user_reaches_its_own_queues_only(definitions, service):
    user = f"caseplatform-{service}"
    main, retry, parked = queues_of(service)
    for queue in (main, retry, parked):
        assert may(definitions, user, "configure", queue), queue  # declares them (kombu does, on consume)
    assert may(definitions, user, "read", main)  # consumes it
    assert may(definitions, user, "write", main) and may(definitions, user, "read", EXCHANGE)  # binds it
    # declaring a queue whose dead-letter exchange is the default one takes read on the queue
    # and write on amq.default; parking is a publish to the default exchange (amq.default)
    assert may(definitions, user, "read", retry)
    assert may(definitions, user, "write", "amq.default")
    assert not may(definitions, user, "read", parked)  # parked messages are the operator's
    for other in SERVICES:
        if other == service:
            continue
        for queue in queues_of(other):
            for kind in ("configure", "write", "read"):
                assert not may(definitions, user, kind, queue), (user, kind, queue)
    assert not may(definitions, user, "write", EXCHANGE)


def test_the_relay_declares_every_queue_but_consumes_none_of_the_parked(definitions):
    for service in SERVICES:
        main, retry, parked = queues_of(service)
        for queue in (main, retry, parked):
            assert may(definitions, "caseplatform-relay", "configure", queue)  # topology.declare
        assert may(definitions, "caseplatform-relay", "write", main)  # binds it
        assert not may(definitions, "caseplatform-relay", "read", parked)
    assert may(definitions, "caseplatform-relay", "configure", EXCHANGE)


def test_the_operator_replays_parked_messages_but_does_not_publish_events(definitions):
    for service in SERVICES:
        parked = queues_of(service)[2]
        assert may(definitions, "caseplatform-operator", "read", parked)
        assert may(definitions, "caseplatform-operator", "write", "amq.default")
    assert not may(definitions, "caseplatform-operator", "write", EXCHANGE)


def test_the_loader_hashes_passwords_as_rabbitmq_does_and_refuses_a_missing_one(definitions):
    loader = load_loader()
    # rabbit_password_hashing_sha256: base64(salt + sha256(salt + password)), as RabbitMQ's docs show it
    import base64
    import hashlib
    salt = bytes.fromhex("908dc60a")
    expected = base64.b64encode(salt + hashlib.sha256(salt + b"test12").digest()).decode()
    assert loader.password_hash("test12", salt) == expected
    env = {loader.password_variable(u["name"]): "SAMPLE-" + u["name"] for u in definitions["users"]}
    document = loader.with_passwords(definitions, env)
    assert all(u["password_hash"] and u["hashing_algorithm"] == loader.HASHING for u in document["users"])
    env.pop("AMQP_PASSWORD_RELAY")
    with pytest.raises(SystemExit, match="AMQP_PASSWORD_RELAY"):
        loader.with_passwords(definitions, env)


# ------------------------------------------------------------------ compose and the broker users


@pytest.mark.parametrize("name", (*SERVICES, "relay"))
def test_each_process_signs_in_to_the_broker_as_its_own_user(services, definitions, name):
    loader = load_loader()
    amqp = urlsplit(env_of(services[name])["AMQP_URI"])
    assert amqp.username == f"caseplatform-{name}" and amqp.path == f"/{VHOST}"
    variable = loader.password_variable(amqp.username)
    assert amqp.password == OPERATOR[variable]
    # rabbitmq-init gives the broker that same password for that user
    assert env_of(services["rabbitmq-init"])[variable] == amqp.password
    assert amqp.username in {user["name"] for user in definitions["users"]}


def test_broker_users_are_all_different_and_rabbitmq_init_loads_every_one(services, definitions):
    loader = load_loader()
    users = [urlsplit(env_of(services[name])["AMQP_URI"]).username for name in (*SERVICES, "relay")]
    assert len(users) == len(set(users))
    init = services["rabbitmq-init"]
    assert command_of(init)[-2:] == ["/deploy/rabbitmq/load_definitions.py", "/deploy/rabbitmq/definitions.json"]
    assert "./deploy/rabbitmq:/deploy/rabbitmq:ro" in init["volumes"]
    env = env_of(init)
    for user in definitions["users"]:
        assert env[loader.password_variable(user["name"])], user["name"]
    # the operator the loader signs in as is the broker's default (administrator) user
    rabbitmq = env_of(services["rabbitmq"])
    assert rabbitmq["RABBITMQ_DEFAULT_USER"] == "caseplatform-operator"
    assert rabbitmq["RABBITMQ_DEFAULT_PASS"] == env["AMQP_PASSWORD_OPERATOR"]


@pytest.mark.parametrize("name", SERVICES)
def test_app_services_leave_publishing_to_the_relay(services, name):
    assert Settings.from_env(env_of(services[name])).relay_in_process is False


def test_the_relay_process_runs_the_relay_and_holds_no_storage_credential(services):
    relay = services["relay"]
    assert command_of(relay) == ["caseplatform", "serve", "relay"]
    env = env_of(relay)
    settings = Settings.from_env(env)
    assert settings.port_of("relay") == int(env["HTTP_PORT_RELAY"])
    assert f"http://127.0.0.1:{settings.port_of('relay')}/relay/health/ready" in " ".join(relay["healthcheck"]["test"])
    assert not {key for key in env if key.startswith(("S3_", "TIMER_"))}
    assert depends_on(relay)["rabbitmq-init"]["condition"] == "service_completed_successfully"


def test_the_registry_knows_the_relay():
    from services.cli.registry import SERVICE_CLASSES

    assert SERVICE_CLASSES["relay"] == "services.relay.service:RelayService"


def test_the_default_keeps_a_relay_in_every_process_and_one_bucket():
    settings = Settings.from_env({})
    assert settings.relay_in_process is True
    assert settings.s3_checkpoint_bucket == settings.s3_bucket
    assert Settings.from_env({"S3_BUCKET": "b"}).s3_checkpoint_bucket == "b"


# ------------------------------------------------------------------ credentials


def test_no_credential_has_a_default():
    defaulted = re.findall(r"\$\{([A-Za-z_][A-Za-z0-9_]*):?-", COMPOSE.read_text())
    assert defaulted  # the test reads what it means to (BIND_ADDRESS, KEYCLOAK_URL, ...)
    credentials = [name for name in defaulted if re.search(r"PASS|SECRET|KEY$|USER|TOKEN", name)]
    assert credentials == []
    assert "guest" not in COMPOSE.read_text()


@pytest.mark.parametrize("name", (*SERVICES, "relay", "rabbitmq", "postgres", "minio", "minio-init", "rabbitmq-init"))
def test_every_credential_in_a_container_comes_from_a_required_variable(services, name):
    raw = services[name].get("environment") or {}
    for key, value in raw.items():
        if re.search(r"PASS|SECRET|_KEY$|ROOT_USER", key) or key in ("AMQP_URI", "LEDGER_URL", "READMODEL_URL"):
            if "://" in str(value) and "@" not in str(value):
                continue
            assert re.search(r"\$\{[A-Z][A-Z0-9_]*:\?[^}]+\}", str(value)), f"{name}.{key} = {value}"


# ------------------------------------------------------------------ object storage


@pytest.fixture(scope="module")
def policy() -> dict:
    return json.loads(POLICY.read_text())


def test_checkpoints_have_a_bucket_of_their_own(services):
    for name in SERVICES:
        settings = Settings.from_env(env_of(services[name]))
        assert settings.s3_checkpoint_bucket != settings.s3_bucket


def test_the_services_policy_reaches_their_two_buckets_and_deletes_nothing(services, policy):
    settings = Settings.from_env(env_of(services["documents"]))
    buckets = {settings.s3_bucket, settings.s3_checkpoint_bucket}
    resources = {r for statement in policy["Statement"] for r in statement["Resource"]}
    assert resources == {f"arn:aws:s3:::{b}" for b in buckets} | {f"arn:aws:s3:::{b}/*" for b in buckets}
    actions = [a for statement in policy["Statement"] for a in statement["Action"]]
    assert all(statement["Effect"] == "Allow" for statement in policy["Statement"])
    assert not [a for a in actions if "*" in a or "Delete" in a or "Bypass" in a or a.startswith("admin:")]
    assert {"s3:PutObject", "s3:GetObject", "s3:ListBucket"} <= set(actions)


def test_minio_init_makes_the_buckets_with_lock_and_the_user_with_the_policy(services):
    script = MINIO_INIT.read_text()
    assert MINIO_INIT.stat().st_mode & 0o111
    assert re.search(r"mc mb --ignore-existing --with-lock", script)
    assert re.search(r'mc admin policy create platform caseplatform-services /deploy/minio/services-policy\.json',
                     script)
    assert re.search(r'mc admin user add platform "\$S3_ACCESS_KEY" "\$S3_SECRET_KEY"', script)
    assert re.search(r'mc admin policy attach platform caseplatform-services --user "\$S3_ACCESS_KEY"', script)
    init = services["minio-init"]
    assert init["entrypoint"] == ["/bin/sh", "/deploy/minio/init.sh"]
    assert "./deploy/minio:/deploy/minio:ro" in init["volumes"]


# ------------------------------------------------------------------ the proxy and health checks


@pytest.fixture(scope="module")
def proxy_conf() -> str:
    """The plain-HTTP server as nginx reads it: the routes included where the template says."""
    return PROXY_CONF.read_text().replace(ROUTES_INCLUDE, _indented(PROXY_ROUTES.read_text()))


def _indented(text: str) -> str:
    return "\n".join(("    " + line if line.strip() else "") for line in text.splitlines())


def _size(text: str) -> int:
    units = {"": 1, "k": 1024, "m": 1024 ** 2, "g": 1024 ** 3}
    number, unit = re.fullmatch(r"(\d+)([kmg]?)", text.lower()).groups()
    return int(number) * units[unit]


def _location(conf: str, prefix: str) -> str:
    # a block's body: anything but braces, except a ${VARIABLE} the image fills in
    match = re.search(r"location " + re.escape(prefix) + r"\s*\{(?P<body>(?:[^{}]|\$\{[A-Z_]+\})*)\}", conf)
    assert match, prefix
    return match["body"]


def test_the_proxy_routes_each_service_prefix_to_its_port(proxy_conf):
    for name, port in DEFAULT_PORTS.items():
        assert re.search(rf"upstream {name}\s*\{{\s*server {name}:{port};\s*\}}", proxy_conf), name
        assert f"proxy_pass http://{name};" in _location(proxy_conf, f"/{name}/")


def test_the_proxy_limits_bodies_small_except_for_the_documents_uploads(services, proxy_conf):
    server_limit = re.search(r"^    client_max_body_size (\S+);", proxy_conf, re.M)[1]
    assert _size(server_limit) == 2 * 1024 ** 2
    documents = _location(proxy_conf, "/documents/")
    assert re.search(r"client_max_body_size \$\{MAX_UPLOAD_BYTES\};", documents)
    assert "proxy_request_buffering off;" in documents
    for name in SERVICES:
        if name != "documents":
            assert "client_max_body_size" not in _location(proxy_conf, f"/{name}/")
    # the value filled into the template is the documents service's own limit
    filled = env_of(services["proxy"])["MAX_UPLOAD_BYTES"]
    assert int(filled) == Settings.from_env(env_of(services["documents"])).max_upload_bytes
    for env in ({"MAX_UPLOAD_BYTES": "1048576"},):
        assert env_of(services["proxy"], env)["MAX_UPLOAD_BYTES"] == env_of(services["documents"], env)[
            "MAX_UPLOAD_BYTES"]


def test_the_proxy_drops_slow_clients(proxy_conf):
    for directive in ("client_body_timeout", "client_header_timeout", "send_timeout"):
        value = re.search(rf"^\s*{directive} (\d+)s;", proxy_conf, re.M)
        assert value and 0 < int(value[1]) <= 120, directive


def test_the_proxy_mounts_the_template_and_publishes_the_one_port(services):
    proxy = services["proxy"]
    assert proxy["image"].startswith("nginx:")
    assert ("./deploy/proxy/caseplatform.conf.template:/etc/nginx/templates/default.conf.template:ro"
            in proxy["volumes"])
    assert "listen 8080;" in PROXY_CONF.read_text()
    assert set(depends_on(proxy)) == {*SERVICES, "console"}


@pytest.mark.parametrize("name", SERVICES)
def test_health_checks_ask_readiness_with_the_images_python(services, name):
    check = services[name]["healthcheck"]
    test = check["test"]
    assert test[:3] == ["CMD", "python", "-c"]
    assert f"http://127.0.0.1:{DEFAULT_PORTS[name]}/{name}/health/ready" in test[3]
    assert "urllib.request.urlopen" in test[3]  # raises on a 503, so the check fails
    stages = [line for line in (ROOT / "deploy" / "Dockerfile").read_text().splitlines() if line.startswith("FROM ")]
    assert stages[-1].startswith("FROM python:")  # the image the services run in has that python


@pytest.mark.parametrize("name", SERVICES)
def test_the_services_count_refused_tokens_per_client_the_proxy_names(services, proxy_conf, name):
    # Every connection reaching a service is the proxy's: the client is the header the proxy
    # sets from the connection it took (overwriting whatever the client sent).
    header = Settings.from_env(env_of(services[name])).client_ip_header
    assert re.search(rf"^\s*proxy_set_header {re.escape(header)} \$remote_addr;", proxy_conf, re.M)
    assert header.lower() != "x-forwarded-for"  # that one a client can prepend to


# ------------------------------------------------------------------ the console and the one origin


CONSOLE_ENV_ALLOWED = {"AUTH_MODE", "OIDC_ISSUER", "OIDC_AUDIENCE", "OIDC_ALGORITHMS", "OIDC_ROLE_CLAIM",
                       "CONSOLE_HOST", "CONSOLE_PORT", "CONSOLE_PUBLIC_URL",
                       "CONSOLE_SESSIONS_URL", "CONSOLE_SESSION_KEY",  # its own sessions' table, sealed
                       *(f"CONSOLE_{name.upper()}_URL" for name in SERVICES)}


def console_settings(services, extra: dict | None = None):
    from services.console.settings import ConsoleSettings

    return ConsoleSettings.from_env(env_of(services["console"], extra))


def test_the_console_runs_from_the_image_and_holds_no_credential(services):
    console = services["console"]
    assert console["build"] == services["intake"]["build"]
    assert command_of(console) == ["caseplatform", "serve", "console"]
    # It calls the APIs with each person's token: no ledger, read model, broker or storage setting;
    # its only database is its sessions', which every console process shares.
    assert set(console["environment"]) == CONSOLE_ENV_ALLOWED
    assert depends_on(console)["keycloak"]["condition"] == "service_healthy"
    assert depends_on(console)["postgres"]["condition"] == "service_healthy"
    settings = console_settings(services)
    assert settings.sessions_url.endswith("@postgres:5432/caseplatform_console") and settings.session_key
    assert "http://127.0.0.1:8100/" in " ".join(console["healthcheck"]["test"])


def test_the_console_calls_each_service_where_the_proxy_does(services, proxy_conf):
    settings = console_settings(services)
    assert (settings.host, settings.port) == ("0.0.0.0", 8100)
    assert re.search(r"upstream console\s*\{\s*server console:8100;\s*\}", proxy_conf)
    for name, port in DEFAULT_PORTS.items():
        assert settings.services[name] == f"http://{name}:{port}"  # inside the compose network
        assert re.search(rf"upstream {name}\s*\{{\s*server {name}:{port};\s*\}}", proxy_conf), name


def test_the_console_checks_tokens_as_the_services_do(services):
    console = console_settings(services).platform
    for name in SERVICES:
        service = Settings.from_env(env_of(services[name]))
        assert (console.auth_mode, console.oidc_issuer, console.oidc_audience, console.oidc_role_claim) == (
            service.auth_mode, service.oidc_issuer, service.oidc_audience, service.oidc_role_claim), name
    assert console.auth_mode == "oidc" and not console.dev_mode


@pytest.mark.parametrize("console_url", [None, "https://cases.example.org"])
def test_keycloak_sends_browsers_back_to_the_console_on_the_gateway(services, console_url):
    extra = {"CONSOLE_URL": console_url} if console_url else {}
    settings = console_settings(services, extra)
    registered = json.loads(REALM_FILE.read_text().replace("${CONSOLE_URL}", env_of(services["keycloak"], extra)[
        "CONSOLE_URL"]))
    client = next(c for c in registered["clients"] if c["clientId"] == settings.client_id)
    assert client["redirectUris"] == [settings.redirect_uri]
    assert client["attributes"]["post.logout.redirect.uris"] == settings.post_logout_uri
    if console_url is None:  # by default, the proxy's own published address
        assert settings.public_url == "http://127.0.0.1:8080" and not settings.secure_cookies
        assert published(services["proxy"])[8080] == "127.0.0.1:8080"
    else:
        assert settings.public_url == console_url and settings.secure_cookies


def test_the_proxy_gives_the_console_everything_but_the_services_prefixes(proxy_conf):
    assert _location(proxy_conf, "/").strip() == "proxy_pass http://console;"
    upload = _location(proxy_conf, "= /uploads")  # the console's evidence upload: the documents limit
    assert re.search(r"client_max_body_size \$\{MAX_UPLOAD_BYTES\};", upload)
    assert "proxy_request_buffering off;" in upload and "proxy_pass http://console;" in upload
    assert re.search(r"location ~ \^/\[a-z\]\+/health/ \{ return 404; \}", proxy_conf)


def test_no_console_page_is_hidden_behind_a_services_prefix(tmp_path):
    # On one origin /<service>/... is the service's: a console page there would never be reached,
    # nor one at /<service> (nginx redirects it to /<service>/, the location with proxy_pass).
    from services.console.app import create_app
    from services.console.settings import ConsoleSettings

    app = create_app(ConsoleSettings.from_env({"AUTH_MODE": "dev-hs256", "JWT_SECRET": "SAMPLE-" + "x" * 40,
                                               "CASEPLATFORM_DATA_DIR": str(tmp_path)}))
    rules = [rule.rule for rule in app.url_map.iter_rules()]
    assert "/auditor/cases/<case_id>" in rules
    hidden = [rule for rule in rules for name in SERVICES if rule == f"/{name}" or rule.startswith(f"/{name}/")]
    assert hidden == []


def test_the_proxys_templates_use_only_what_its_environment_fills(services):
    # The image replaces only variables its environment defines; any other ${...} would reach nginx.
    env = env_of(services["proxy"])
    for template in (PROXY_CONF, PROXY_ROUTES):
        assert set(re.findall(r"\$\{([A-Za-z_]+)\}", template.read_text())) <= set(env), template.name
    assert "${" not in PROXY_TLS.read_text()


def _mounts(service: dict) -> dict[str, str]:
    """target -> source of the short volume syntax, whose source may be a ${VAR:-default}."""
    pairs = (re.fullmatch(r"(.+?):(/[^:]*)(?::ro)?", m).groups() for m in service["volumes"])
    return {target: source for source, target in pairs}


def test_both_servers_serve_the_same_routes_and_tls_uses_the_mounted_certificate(services):
    mounts = _mounts(services["proxy"])
    # the routes template renders to the file both servers include
    assert mounts["/etc/nginx/templates/caseplatform-routes.inc.template"] == "./deploy/proxy/" + PROXY_ROUTES.name
    assert PROXY_CONF.read_text().count(ROUTES_INCLUDE) == 1
    tls = PROXY_TLS.read_text()
    assert "listen 8443 ssl;" in tls and tls.count(ROUTES_INCLUDE) == 1
    assert "ssl_certificate     /etc/nginx/tls/cert.pem;" in tls
    assert "ssl_certificate_key /etc/nginx/tls/key.pem;" in tls
    assert "TLSv1.2 TLSv1.3" in tls and "SSLv3" not in tls and "TLSv1 " not in tls
    assert mounts["/etc/nginx/caseplatform/tls.conf"] == "./deploy/proxy/tls.conf"
    assert mounts["/docker-entrypoint.d/40-caseplatform-tls.sh"] == "./deploy/proxy/" + PROXY_TLS_SCRIPT.name
    assert PROXY_TLS_SCRIPT.stat().st_mode & 0o111  # the image's entrypoint runs executable scripts only
    # the certificate directory: the operator's, or by default one with neither file (TLS off)
    source = mounts["/etc/nginx/tls"]
    default = ROOT / interpolate(source, {})
    assert default.is_dir() and not (default / "cert.pem").exists() and not (default / "key.pem").exists()
    assert interpolate(source, {"TLS_CERT_DIR": "/srv/tls"}) == "/srv/tls"


@pytest.mark.parametrize(("files", "enabled"), [((), False), (("cert.pem",), False), (("key.pem",), False),
                                                (("cert.pem", "key.pem"), True)])
def test_the_tls_server_is_enabled_only_with_a_certificate_and_its_key(tmp_path, files, enabled):
    tls_dir, conf = tmp_path / "tls", tmp_path / "conf.d" / "caseplatform-tls.conf"
    tls_dir.mkdir()
    conf.parent.mkdir()
    conf.write_text("left from a start with a certificate")  # a restart without it must drop the server
    for name in files:
        (tls_dir / name).write_text(f"SAMPLE {name}")
    run = subprocess.run(["sh", str(PROXY_TLS_SCRIPT)], capture_output=True, text=True, env={
        "PATH": os.environ["PATH"], "CASEPLATFORM_TLS_DIR": str(tls_dir), "CASEPLATFORM_TLS_SERVER": str(PROXY_TLS),
        "CASEPLATFORM_TLS_ENABLED": str(conf)}, check=True)
    assert conf.exists() is enabled
    if enabled:
        assert conf.read_text() == PROXY_TLS.read_text()
    elif files:
        assert "needs both cert.pem and key.pem" in run.stderr
