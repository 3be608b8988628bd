"""docker-compose.yml, deploy/Dockerfile and deploy/postgres/init.sql agree with shared.infra.config.

No Docker needed: the compose file is read with PyYAML (which resolves its `<<` merge
keys) and `${VAR:-default}` values are expanded the way compose does with nothing set.
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml

from shared.infra.config import DEFAULT_PORTS, SERVICES, Settings

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "deploy" / "Dockerfile"
INIT_SQL = ROOT / "deploy" / "postgres" / "init.sql"
INFRA = ("rabbitmq", "postgres", "minio")

_VAR = re.compile(r"\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?])(?P<arg>[^}]*))?\}")


def interpolate(value, env: dict[str, str]):
    """Compose's interpolation of one value: ${X}, ${X:-default}, ${X:?error}, $$."""
    if not isinstance(value, str):
        return value

    def sub(match):
        name, op, arg = match["name"], match["op"], match["arg"]
        if env.get(name):
            return env[name]
        if op in (":-", "-"):
            return arg
        if op in (":?", "?"):
            raise KeyError(f"{name} is required: {arg}")
        return ""

    return _VAR.sub(sub, value).replace("$$", "$")


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text())


@pytest.fixture(scope="module")
def services(compose) -> dict:
    return compose["services"]


def env_of(service: dict, extra: dict | None = None) -> dict[str, str]:
    environment = service.get("environment") or {}
    if isinstance(environment, list):
        environment = dict(item.split("=", 1) for item in environment)
    env = {"JWT_SECRET": "from-the-operator", **(extra or {})}
    return {key: str(interpolate(value, env)) for key, value in environment.items()}


def command_of(service: dict) -> list[str]:
    command = service.get("command")
    return command.split() if isinstance(command, str) else list(command or [])


def published(service: dict) -> dict[int, str]:
    """container port -> host binding, from the short port syntax."""
    result = {}
    for entry in service.get("ports", []):
        text = interpolate(str(entry), {})
        *host, container = text.split(":")
        result[int(container.split("/")[0])] = ":".join(host)
    return result


def depends_on(service: dict) -> dict:
    deps = service.get("depends_on") or {}
    return {name: {} for name in deps} if isinstance(deps, list) else deps


def test_compose_declares_exactly_the_app_services_and_the_infrastructure(services):
    assert set(services) == set(SERVICES) | set(INFRA)


@pytest.mark.parametrize("name", SERVICES)
def test_app_service_is_built_from_the_dockerfile_and_serves_itself(services, name):
    service = services[name]
    build = service["build"]
    context = ROOT / (build["context"] if isinstance(build, dict) else build)
    dockerfile = build.get("dockerfile", "Dockerfile") if isinstance(build, dict) else "Dockerfile"
    assert (context / dockerfile).resolve() == DOCKERFILE.resolve()
    assert command_of(service) == ["caseplatform", "serve", name]


@pytest.mark.parametrize("name", SERVICES)
def test_app_service_http_port_matches_the_defaults(services, name):
    service, port = services[name], DEFAULT_PORTS[name]
    env = env_of(service)
    assert env["HTTP_HOST"] == "0.0.0.0"  # reachable from outside its container
    assert int(env[f"HTTP_PORT_{name.upper()}"]) == port
    ports = published(service)
    assert port in ports, f"{name} must publish {port}"
    assert ports[port].endswith(str(port))
    # the settings the container builds listen where compose publishes
    assert Settings.from_env(env).ports[name] == port


def test_published_http_ports_are_all_different(services):
    ports = [p for name in SERVICES for p in published(services[name])]
    assert len(ports) == len(set(ports))


@pytest.mark.parametrize("name", SERVICES)
def test_app_service_waits_for_healthy_infrastructure(services, name):
    deps = depends_on(services[name])
    for infra in INFRA:
        assert infra in deps, f"{name} must depend on {infra}"
        assert deps[infra].get("condition") == "service_healthy"


@pytest.mark.parametrize("name", SERVICES)
def test_app_service_points_at_the_compose_infrastructure(services, name):
    env = env_of(services[name])
    ledger = urlsplit(env["LEDGER_URL"])
    assert ledger.scheme == "postgresql" and ledger.hostname == "postgres"
    assert ledger.path == "/caseplatform"
    readmodel = Settings.from_env(env).readmodel_url_for(name)
    assert urlsplit(readmodel).hostname == "postgres"
    assert urlsplit(readmodel).path == f"/caseplatform_{name}"
    amqp = urlsplit(env["AMQP_URI"])
    assert amqp.scheme in ("amqp", "pyamqp") and amqp.hostname == "rabbitmq"
    assert amqp.port in (None, 5672)
    assert env["S3_ENDPOINT"] == "minio:9000"
    assert env["S3_BUCKET"] == "evidence"
    assert env["S3_SECURE"].lower() in ("false", "0", "no")


def test_app_services_need_jwt_secret_from_the_operator(services):
    for name in SERVICES:
        raw = services[name]["environment"]["JWT_SECRET"]
        assert re.fullmatch(r"\$\{JWT_SECRET:\?[^}]+\}", raw), raw
        with pytest.raises(KeyError):
            interpolate(raw, {})


def test_s3_credentials_are_the_same_for_minio_and_the_services(services):
    for env in ({}, {"S3_ACCESS_KEY": "ops", "S3_SECRET_KEY": "ops-secret-key"}):
        minio = env_of(services["minio"], env)
        for name in SERVICES:
            app = env_of(services[name], env)
            assert app["S3_ACCESS_KEY"] == minio["MINIO_ROOT_USER"]
            assert app["S3_SECRET_KEY"] == minio["MINIO_ROOT_PASSWORD"]
        assert len(minio["MINIO_ROOT_PASSWORD"]) >= 8  # MinIO refuses shorter ones


def test_postgres_password_is_the_one_the_services_use(services):
    for env in ({}, {"POSTGRES_PASSWORD": "s3cret"}):
        password = env_of(services["postgres"], env)["POSTGRES_PASSWORD"]
        for name in SERVICES:
            assert urlsplit(env_of(services[name], env)["LEDGER_URL"]).password == password


@pytest.mark.parametrize("name", INFRA)
def test_infrastructure_has_a_healthcheck(services, name):
    check = services[name].get("healthcheck")
    assert check and check.get("test"), f"{name} needs a healthcheck"
    assert not check.get("disable", False)


def test_infrastructure_images(services):
    assert services["rabbitmq"]["image"].startswith("rabbitmq:3.13-management")
    assert services["postgres"]["image"] == "postgres:16"
    assert services["minio"]["image"].split(":")[0] == "minio/minio"
    assert command_of(services["minio"]) == ["server", "/data", "--console-address", ":9001"]


def test_postgres_runs_init_sql(services):
    mounts = services["postgres"]["volumes"]
    sources = {m.split(":")[0]: m.split(":")[1] for m in mounts if isinstance(m, str)}
    assert sources.get("./deploy/postgres/init.sql", "").startswith("/docker-entrypoint-initdb.d/")


def test_init_sql_creates_the_ledger_and_every_read_model_database():
    created = set(re.findall(r"CREATE\s+DATABASE\s+\"?(\w+)\"?", INIT_SQL.read_text(), re.I))
    assert created >= {"caseplatform"} | {f"caseplatform_{name}" for name in SERVICES}


def test_published_ports_bind_to_loopback_by_default(services):
    for name, service in services.items():
        for container_port, host in published(service).items():
            assert host.startswith("127.0.0.1:"), f"{name} publishes {container_port} on {host}"


def test_dockerfile_installs_the_project():
    text = DOCKERFILE.read_text()
    instructions = [line.strip() for line in text.splitlines()
                    if line.strip() and not line.lstrip().startswith("#")]
    assert re.match(r"FROM python:3\.11(-slim)?\b", instructions[0])
    assert re.search(r"^COPY pyproject\.toml\b", text, re.M)
    assert re.search(r"^COPY shared\b", text, re.M) and re.search(r"^COPY services\b", text, re.M)
    assert re.search(r"\bpip install (--[\w-]+ )*\.(\s|$)", text)
    assert "libpq" in text  # pure-Python psycopg loads libpq at run time
    assert "psycopg[binary]" not in text and "psycopg[c]" not in text


def test_the_audit_signing_key_lives_on_a_volume_that_outlives_the_container(compose, services):
    audit = services["audit"]
    key_path = env_of(audit, {})["CHECKPOINT_KEY_PATH"]
    mounts = {m.split(":")[1]: m.split(":")[0] for m in audit["volumes"]}
    mounted_dir = next((target for target in mounts if key_path.startswith(target.rstrip("/") + "/")), None)
    assert mounted_dir is not None, f"{key_path} is not on a mounted volume: {audit['volumes']}"
    assert mounts[mounted_dir] in compose["volumes"], "the key's volume must be a named volume, kept across recreation"
