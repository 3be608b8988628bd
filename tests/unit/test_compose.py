"""docker-compose.yml, deploy/Dockerfile, deploy/postgres/ and the Keycloak realm
(deploy/keycloak/caseplatform-realm.json) agree with shared.infra.config and the token verifier;
the broker's definitions (deploy/rabbitmq/), MinIO's policy (deploy/minio/) and the proxy
(deploy/proxy/) are in tests/unit/test_compose_hardening.py.

No Docker needed: the compose file is read with PyYAML (which resolves its `<<` merge
keys) and `${VAR:-default}` values are expanded the way compose does, with only the
variables compose requires set (OPERATOR). What only a running Keycloak can show (that it
imports the realm and signs tokens shaped as asserted here) is not checked here.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml

from shared.domain.access import MACHINE_ROLES, ROLES, SYSTEM
from shared.infra.config import DEFAULT_PORTS, SERVICES, Settings
from shared.infra.dependencies import TimerIdentity
from shared.infra.web.auth import verifier_for
from tests.support.declared import services_declaring

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "deploy" / "Dockerfile"
INIT_SQL = ROOT / "deploy" / "postgres" / "init.sql"
KEYCLOAK_DB_SCRIPT = ROOT / "deploy" / "postgres" / "keycloak.sh"
REALM_FILE = ROOT / "deploy" / "keycloak" / "caseplatform-realm.json"
SAMPLE_ACCOUNTS = ROOT / "services" / "identity" / "sample-accounts.json"
INFRA = ("rabbitmq", "postgres", "minio", "keycloak")
# One-shot set-up (broker users and queues, MinIO user and buckets), the relay, the web
# console and the proxy (the console's own checks: tests/unit/test_compose_hardening.py).
SUPPORT = ("rabbitmq-init", "minio-init", "relay", "console", "proxy")
AMQP_USERS = ("OPERATOR", "RELAY", *(name.upper() for name in SERVICES))
# What compose refuses to start without (${VAR:?...}): the operator's values, SAMPLE here.
OPERATOR = {
    "KC_BOOTSTRAP_ADMIN_USERNAME": "sample-admin",
    "KC_BOOTSTRAP_ADMIN_PASSWORD": "sample-admin-password",
    "KEYCLOAK_DB_PASSWORD": "sample-keycloak-db-password",
    "TIMER_CLIENT_SECRET": "sample-timer-secret",
    "POSTGRES_PASSWORD": "sample-postgres-password",
    "MINIO_ROOT_USER": "sample-minio-root",
    "MINIO_ROOT_PASSWORD": "sample-minio-root-password",
    "S3_ACCESS_KEY": "sample-services",
    "S3_SECRET_KEY": "sample-services-secret",
    "CONSOLE_SESSION_KEY": "U0FNUExFLWNvbnNvbGUtc2Vzc2lvbi1rZXktMzJieXQ",  # SAMPLE, 32 bytes
    **{f"AMQP_PASSWORD_{who}": f"sample-amqp-{who.lower()}" for who in AMQP_USERS},
}
TIMER_SERVICES = services_declaring(TimerIdentity)  # the code says which sign their timers in

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
    env = {**OPERATOR, **(extra or {})}
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
    assert set(services) == set(SERVICES) | set(INFRA) | set(SUPPORT)


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
    # the settings the container builds listen where its health check and the proxy ask
    assert Settings.from_env(env).ports[name] == port
    assert f"http://127.0.0.1:{port}/{name}/health/ready" in " ".join(service["healthcheck"]["test"])


@pytest.mark.parametrize("name", (*SERVICES, "relay", "console"))
def test_app_services_publish_no_port_only_the_proxy_does(services, name):
    assert not published(services[name]), f"{name} is reached through the proxy only"
    assert list(published(services["proxy"])) == [8080, 8443]  # plain HTTP, and TLS when a certificate is given


@pytest.mark.parametrize("name", SERVICES)
def test_app_service_waits_for_healthy_infrastructure(services, name):
    deps = depends_on(services[name])
    for infra in ("postgres", "keycloak"):
        assert deps[infra].get("condition") == "service_healthy", f"{name} must wait for {infra}"
    # the broker and MinIO are waited for through their set-up, which waits for them healthy
    for init, infra in (("rabbitmq-init", "rabbitmq"), ("minio-init", "minio")):
        assert deps[init].get("condition") == "service_completed_successfully", f"{name} must wait for {init}"
        assert depends_on(services[init])[infra]["condition"] == "service_healthy"


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
    assert amqp.port in (None, 5672) and amqp.path == "/caseplatform"
    assert env["S3_ENDPOINT"] == "minio:9000"
    assert env["S3_BUCKET"] == "evidence"
    assert env["S3_CHECKPOINT_BUCKET"] == "checkpoints"
    assert env["S3_SECURE"].lower() in ("false", "0", "no")


def test_no_service_holds_a_key_that_signs_tokens(services):
    # Client and storage credentials authenticate their holder; none of them signs a token.
    allowed = {"S3_ACCESS_KEY", "S3_SECRET_KEY", "TIMER_CLIENT_SECRET", "MINIO_ROOT_PASSWORD", "POSTGRES_PASSWORD",
               "RABBITMQ_DEFAULT_PASS", "KEYCLOAK_DB_PASSWORD", "KC_DB_PASSWORD", "KC_BOOTSTRAP_ADMIN_PASSWORD",
               "CONSOLE_SESSION_KEY",  # seals the console's own sessions table; signs nothing
               *(f"AMQP_PASSWORD_{who}" for who in AMQP_USERS)}
    for name, service in services.items():
        environment = service.get("environment") or {}
        assert "JWT_SECRET" not in environment and "JWT_SECRET_FILE" not in environment, name
        secretish = {key for key in environment if re.search(r"SECRET|PASS|KEY$", key)}
        assert secretish <= allowed, f"{name}: {secretish - allowed}"
    assert "JWT_SECRET" not in COMPOSE.read_text().split("services:", 1)[1]


@pytest.mark.parametrize("name", SERVICES)
def test_app_service_runs_oidc_only(services, name):
    raw = services[name]["environment"]["AUTH_MODE"]
    assert raw == "oidc"  # a literal: no variable can switch a deployment to dev-hs256
    settings = Settings.from_env(env_of(services[name]))
    assert settings.auth_mode == "oidc" and not settings.dev_mode
    assert settings.jwt_secret == ""
    assert set(settings.oidc_algorithms) == {"RS256"}
    assert settings.oidc_audience == "caseplatform"
    assert settings.oidc_role_claim == "realm_access.roles"
    # JWT_SECRET slipped into the environment stops the service instead of being used.
    with pytest.raises(ValueError, match="JWT_SECRET"):
        Settings.from_env({**env_of(services[name]), "JWT_SECRET": "left-over"})


def test_operator_secrets_are_required_and_have_no_default(services):
    text = COMPOSE.read_text()
    for variable in OPERATOR:
        uses = re.findall(r"\$\{" + variable + r"(:?[-?])?[^}]*\}", text)
        assert uses, variable
        assert all(op in (":?", "?") for op in uses), f"{variable} must be required everywhere, not defaulted"
        # and compose stops when it is missing, for every service that reads it
        readers = [name for name, service in services.items() if variable in json.dumps(service.get("environment"))]
        assert readers, variable
        for name in readers:
            with pytest.raises(KeyError, match=variable):
                env_of(services[name], {variable: ""})


def test_only_the_services_with_timers_get_the_timers_client_secret(services):
    for name in SERVICES:
        env = env_of(services[name])
        if name in TIMER_SERVICES:
            assert env["TIMER_CLIENT_SECRET"] == OPERATOR["TIMER_CLIENT_SECRET"]
            settings = Settings.from_env(env)
            assert settings.timer_client_secret == OPERATOR["TIMER_CLIENT_SECRET"]
            assert settings.timer_client_id == "caseplatform-timers"
        else:
            assert "TIMER_CLIENT_SECRET" not in env, name
    # Keycloak gets the same value, for the realm file's placeholder.
    assert env_of(services["keycloak"])["TIMER_CLIENT_SECRET"] == OPERATOR["TIMER_CLIENT_SECRET"]


def test_the_services_s3_user_is_not_minios_root_and_minio_init_makes_it(services):
    minio, init = env_of(services["minio"]), env_of(services["minio-init"])
    assert len(minio["MINIO_ROOT_PASSWORD"]) >= 8  # MinIO refuses shorter ones
    for name in SERVICES:
        app = env_of(services[name])
        assert app["S3_ACCESS_KEY"] != minio["MINIO_ROOT_USER"]
        assert app["S3_SECRET_KEY"] != minio["MINIO_ROOT_PASSWORD"]
        assert "MINIO_ROOT_USER" not in app and "MINIO_ROOT_PASSWORD" not in app
        # the user the services sign in as is the one minio-init creates, for their buckets
        assert (app["S3_ACCESS_KEY"], app["S3_SECRET_KEY"]) == (init["S3_ACCESS_KEY"], init["S3_SECRET_KEY"])
        assert (app["S3_BUCKET"], app["S3_CHECKPOINT_BUCKET"]) == (init["S3_BUCKET"], init["S3_CHECKPOINT_BUCKET"])
    assert (init["MINIO_ROOT_USER"], init["MINIO_ROOT_PASSWORD"]) == (minio["MINIO_ROOT_USER"],
                                                                      minio["MINIO_ROOT_PASSWORD"])


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
    # a pinned 26.x release, never a moving tag
    assert re.fullmatch(r"quay\.io/keycloak/keycloak:26\.\d+\.\d+", services["keycloak"]["image"])


def test_postgres_runs_init_sql_and_the_keycloak_database_script(services):
    mounts = services["postgres"]["volumes"]
    sources = {m.split(":")[0]: m.split(":")[1] for m in mounts if isinstance(m, str)}
    assert sources.get("./deploy/postgres/init.sql", "").startswith("/docker-entrypoint-initdb.d/")
    assert sources.get("./deploy/postgres/keycloak.sh", "").startswith("/docker-entrypoint-initdb.d/")
    # the postgres image runs an executable script; a non-executable one it sources into its own shell
    assert KEYCLOAK_DB_SCRIPT.stat().st_mode & 0o111


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
    stages = [line for line in instructions if line.startswith("FROM ")]
    assert re.match(r"FROM python:3\.11(-slim)?\b", stages[-1])  # the image that runs; node only builds htmx
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


# ------------------------------------------------------------------ Keycloak and its realm


@pytest.fixture(scope="module")
def realm() -> dict:
    return json.loads(REALM_FILE.read_text())


@pytest.fixture(scope="module")
def sample_accounts() -> list[dict]:
    return json.loads(SAMPLE_ACCOUNTS.read_text())["accounts"]


def issuer_of(services: dict, realm: dict, extra: dict | None = None) -> str:
    """The issuer Keycloak writes in its tokens: its hostname URL and the realm."""
    hostname = env_of(services["keycloak"], extra)["KC_HOSTNAME"]
    assert urlsplit(hostname).scheme in ("http", "https"), "KC_HOSTNAME must be a full URL (hostname v2)"
    return hostname.rstrip("/") + "/realms/" + realm["realm"]


def test_keycloak_runs_in_production_mode_and_imports_the_realm(services):
    keycloak = services["keycloak"]
    command = command_of(keycloak)
    assert command[0] == "start" and "--import-realm" in command  # never start-dev
    mounts = {m.split(":")[0]: m.split(":")[1] for m in keycloak["volumes"]}
    target = mounts["./deploy/keycloak/caseplatform-realm.json"]
    assert target.startswith("/opt/keycloak/data/import/") and target.endswith(".json")
    assert (ROOT / "deploy" / "keycloak" / "caseplatform-realm.json").is_file()


def test_keycloak_has_its_own_database_and_login_on_the_compose_postgres(services):
    env = env_of(services["keycloak"])
    assert env["KC_DB"] == "postgres"
    url = urlsplit(env["KC_DB_URL"].removeprefix("jdbc:"))
    assert url.hostname == "postgres" and url.path == "/keycloak"
    assert env["KC_DB_USERNAME"] == "keycloak"
    assert env["KC_DB_PASSWORD"] == OPERATOR["KEYCLOAK_DB_PASSWORD"]
    # the database script creates that login with the password postgres is given
    assert env_of(services["postgres"])["KEYCLOAK_DB_PASSWORD"] == env["KC_DB_PASSWORD"]
    script = KEYCLOAK_DB_SCRIPT.read_text()
    assert re.search(r"CREATE ROLE keycloak LOGIN PASSWORD :'keycloak_password'", script)
    assert re.search(r"CREATE DATABASE keycloak OWNER keycloak", script)
    assert 'keycloak_password="$KEYCLOAK_DB_PASSWORD"' in script
    assert depends_on(services["keycloak"])["postgres"]["condition"] == "service_healthy"


def test_keycloak_admin_credentials_come_from_the_operator(services):
    raw = services["keycloak"]["environment"]
    for key in ("KC_BOOTSTRAP_ADMIN_USERNAME", "KC_BOOTSTRAP_ADMIN_PASSWORD"):
        assert re.fullmatch(r"\$\{" + key + r":\?[^}]+\}", raw[key]), raw[key]


def test_keycloak_health_is_checked_on_its_management_port(services):
    keycloak = services["keycloak"]
    env = env_of(keycloak)
    assert env["KC_HEALTH_ENABLED"] == "true"
    test = " ".join(keycloak["healthcheck"]["test"])
    assert "/health/ready" in test and "/9000" in test
    assert 9000 not in published(keycloak)  # management stays inside the container


def test_the_services_issuer_is_the_issuer_keycloak_writes(services, realm):
    for extra in ({}, {"KEYCLOAK_URL": "https://id.example.org"}):
        issuer = issuer_of(services, realm, extra)
        for name in SERVICES:
            env = env_of(services[name], extra)
            assert env["OIDC_ISSUER"] == issuer
            assert Settings.from_env(env).oidc_issuer == issuer
    assert issuer_of(services, realm) == "http://keycloak:8180/realms/caseplatform"


def test_the_default_keycloak_url_is_reachable_from_the_services_and_the_host(services):
    # The default URL names the compose service and the port Keycloak listens on, and the
    # host publishes that same port: one URL inside and outside (plus a hosts entry outside).
    keycloak = services["keycloak"]
    env = env_of(keycloak)
    url = urlsplit(env["KC_HOSTNAME"])
    assert url.hostname == "keycloak" and "keycloak" in services
    assert url.port == int(env["KC_HTTP_PORT"])
    assert env["KC_HTTP_ENABLED"] == "true"
    assert published(keycloak)[url.port].endswith(f":{url.port}")


def test_realm_has_the_platform_roles(realm):
    names = {role["name"] for role in realm["roles"]["realm"]}
    assert names == set(MACHINE_ROLES)
    assert len(MACHINE_ROLES) == 9


def test_realm_tokens_are_short_lived_and_rs256(realm):
    assert realm["accessTokenLifespan"] <= 900
    assert realm.get("accessTokenLifespanForImplicitFlow", 900) <= 900
    assert realm["defaultSignatureAlgorithm"] == "RS256"
    for client in realm["clients"]:
        attributes = client.get("attributes", {})
        assert int(attributes.get("access.token.lifespan", 0)) <= 900, client["clientId"]
        assert attributes.get("access.token.signed.response.alg", "RS256") == "RS256", client["clientId"]
        assert not client.get("implicitFlowEnabled") and not client.get("directAccessGrantsEnabled"), \
            client["clientId"]
    assert not realm["registrationAllowed"]


def _scope(realm: dict, name: str) -> dict:
    return next(scope for scope in realm["clientScopes"] if scope["name"] == name)


def _mappers(realm: dict, scope: str) -> dict[str, dict]:
    return {m["config"].get("claim.name", m["name"]): m for m in _scope(realm, scope)["protocolMappers"]}


def test_the_caseplatform_scope_maps_audience_org_region_and_name(realm):
    mappers = list(_scope(realm, "caseplatform")["protocolMappers"])
    audience = [m for m in mappers if m["protocolMapper"] == "oidc-audience-mapper"]
    assert len(audience) == 1
    assert audience[0]["config"]["included.custom.audience"] == "caseplatform"
    assert audience[0]["config"]["access.token.claim"] == "true"
    attributes = {m["config"]["claim.name"]: m["config"]["user.attribute"] for m in mappers
                  if m["protocolMapper"] == "oidc-usermodel-attribute-mapper"}
    assert attributes == {"org": "org", "region.province": "region_province", "region.city": "region_city"}
    for mapper in mappers:
        assert mapper["config"]["access.token.claim"] == "true", mapper["name"]
    assert any(m["protocolMapper"] == "oidc-full-name-mapper" for m in mappers)


def test_declared_scopes_replace_keycloaks_built_in_ones_so_sub_and_roles_are_declared(realm):
    # Keycloak creates its built-in client scopes only for a realm file that declares none
    # (RealmManager.importRealm); this one declares some, so `sub` and the realm roles
    # would be missing from every token unless declared here.
    sub = [m for m in _scope(realm, "basic")["protocolMappers"] if m["protocolMapper"] == "oidc-sub-mapper"]
    assert sub and sub[0]["config"]["access.token.claim"] == "true"
    roles = _mappers(realm, "roles")["realm_access.roles"]
    assert roles["protocolMapper"] == "oidc-usermodel-realm-role-mapper"
    assert roles["config"]["multivalued"] == "true" and roles["config"]["access.token.claim"] == "true"
    declared = {scope["name"] for scope in realm["clientScopes"]}
    for client in realm["clients"]:
        scopes = set(client["defaultClientScopes"])
        assert {"basic", "roles", "caseplatform"} <= scopes, client["clientId"]
        assert scopes | set(client.get("optionalClientScopes", [])) <= declared, client["clientId"]


def test_user_profile_declares_the_attributes_and_only_admins_edit_them(realm):
    providers = realm["components"]["org.keycloak.userprofile.UserProfileProvider"]
    assert [p["providerId"] for p in providers] == ["declarative-user-profile"]
    config = json.loads(providers[0]["config"]["kc.user.profile.config"][0])
    attributes = {a["name"]: a for a in config["attributes"]}
    assert {"username", "email", "org", "region_province", "region_city"} <= set(attributes)
    for name in ("org", "region_province", "region_city", "firstName", "lastName"):
        assert attributes[name]["permissions"]["edit"] == ["admin"], name
    # every attribute a mapper reads is declared (undeclared ones Keycloak 24+ does not keep)
    read = {m["config"]["user.attribute"] for m in _scope(realm, "caseplatform")["protocolMappers"]
            if "user.attribute" in m["config"]}
    assert read <= set(attributes)


def test_public_clients_use_pkce_s256_and_their_redirects(realm):
    clients = {client["clientId"]: client for client in realm["clients"]}
    public = [client for client in realm["clients"] if client.get("publicClient")]
    assert {client["clientId"] for client in public} == {"caseplatform-console", "caseplatform-cli"}
    for client in public:
        assert client["attributes"]["pkce.code.challenge.method"] == "S256", client["clientId"]
        assert client["standardFlowEnabled"] and not client.get("serviceAccountsEnabled")
        assert "*" not in client["redirectUris"] and "/*" not in client["redirectUris"]
    assert clients["caseplatform-console"]["redirectUris"] == ["${CONSOLE_URL}/auth/callback"]
    cli = clients["caseplatform-cli"]["redirectUris"]
    assert "http://127.0.0.1/*" in cli
    assert all(urlsplit(uri).hostname == "127.0.0.1" for uri in cli)


def test_no_client_secret_is_in_the_realm_file(realm, services):
    text = REALM_FILE.read_text()
    placeholders = set(re.findall(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}", text))
    for client in realm["clients"]:
        secret = client.get("secret")
        if client.get("publicClient"):
            assert secret is None, client["clientId"]
        else:
            # absent (Keycloak generates one at import) or a placeholder Keycloak fills from its environment
            assert secret is None or re.fullmatch(r"\$\{[A-Z_]+\}", secret), client["clientId"]
    # Keycloak replaces ${VAR} anywhere in the file with its environment at import: each one
    # used must be given to it, or the literal text would become the value.
    keycloak_env = env_of(services["keycloak"])
    assert placeholders == {"TIMER_CLIENT_SECRET", "CONSOLE_URL"}
    assert all(keycloak_env.get(name) for name in placeholders)
    assert "${" not in text.replace("${TIMER_CLIENT_SECRET}", "").replace("${CONSOLE_URL}", "")
    for user in realm["users"]:
        assert not user.get("credentials"), user["username"]


def _people(realm: dict) -> list[dict]:
    return [user for user in realm["users"] if not user.get("serviceAccountClientId")]


def test_sample_people_are_labelled_hold_one_role_and_set_their_own_password(realm, sample_accounts):
    people = _people(realm)
    assert {user["username"] for user in people} == {account["username"] for account in sample_accounts}
    for user in people:
        full_name = f"{user['firstName']} {user['lastName']}"
        assert "SAMPLE" in full_name and user["username"].startswith("sample-"), user["username"]
        assert len([role for role in user["realmRoles"] if role in MACHINE_ROLES]) == 1, user["username"]
        assert SYSTEM not in user["realmRoles"], user["username"]
        assert user["requiredActions"] == ["UPDATE_PASSWORD"]
    held = {role for user in people for role in user["realmRoles"]}
    assert held == set(ROLES)  # one person at least for each role a person can have


def test_machine_clients_service_accounts_carry_their_role_and_org(realm):
    clients = {client["clientId"]: client for client in realm["clients"]}
    accounts = {user["serviceAccountClientId"]: user for user in realm["users"] if user.get("serviceAccountClientId")}
    expected = {"hubei-province-system": ("province", "420000"), "caseplatform-timers": (SYSTEM, "caseplatform")}
    assert set(accounts) == set(expected)
    for client_id, (role, org) in expected.items():
        client = clients[client_id]
        assert client["serviceAccountsEnabled"] and not client["publicClient"]
        assert not client["standardFlowEnabled"]
        account = accounts[client_id]
        assert account["username"] == f"service-account-{client_id}"
        assert account["realmRoles"] == [role]
        assert account["attributes"]["org"] == [org]
    assert "SAMPLE" in clients["hubei-province-system"]["name"]


def _set(claims: dict, dotted: str, value) -> None:
    # Keycloak nests a claim whose name has dots: region.province -> {"region": {"province": ...}}
    *parents, last = dotted.split(".")
    for part in parents:
        claims = claims.setdefault(part, {})
    claims[last] = value


def keycloak_claims(realm: dict, user: dict, client_id: str) -> dict:
    """The access token claims the realm's mappers give `user` through `client_id`, as
    Keycloak builds them (a stand-in: Keycloak is not running here)."""
    client = next(c for c in realm["clients"] if c["clientId"] == client_id)
    claims: dict = {"iss": "http://keycloak:8180/realms/caseplatform", "sub": f"id-of-{user['username']}",
                    "iat": 1_700_000_000, "exp": 1_700_000_900, "azp": client_id}
    for scope in client["defaultClientScopes"]:
        for mapper in _scope(realm, scope)["protocolMappers"]:
            config, kind = mapper["config"], mapper["protocolMapper"]
            if config.get("access.token.claim") != "true":
                continue
            if kind == "oidc-audience-mapper":
                claims["aud"] = config["included.custom.audience"]
            elif kind == "oidc-usermodel-attribute-mapper":
                source = user if config["user.attribute"] == "username" else user.get("attributes", {})
                value = source.get(config["user.attribute"])
                if value:
                    _set(claims, config["claim.name"], value[0] if isinstance(value, list) else value)
            elif kind == "oidc-full-name-mapper":
                claims["name"] = f"{user.get('firstName', '')} {user.get('lastName', '')}".strip()
            elif kind == "oidc-usermodel-realm-role-mapper":
                # Keycloak's own roles come along with the platform's
                roles = ["default-roles-caseplatform", "offline_access", "uma_authorization", *user["realmRoles"]]
                _set(claims, config["claim.name"], roles)
    return claims


@pytest.mark.parametrize("name", SERVICES)
def test_the_verifier_of_each_service_reads_keycloaks_claims(services, realm, sample_accounts, name):
    settings = Settings.from_env(env_of(services[name]))
    verifier = verifier_for(settings)
    assert verifier.issuer == issuer_of(services, realm) and verifier.audience == "caseplatform"
    users = {user["username"]: user for user in realm["users"]}
    for account in sample_accounts:
        claims = keycloak_claims(realm, users[account["username"]], "caseplatform-cli")
        assert claims["aud"] == settings.oidc_audience
        caller = verifier.caller_from_claims(claims)
        assert (caller.role, caller.org, caller.name) == (account["role"], account["org"], account["name"])
        assert caller.region == account.get("region", {})
    timers = keycloak_claims(realm, users["service-account-caseplatform-timers"], "caseplatform-timers")
    caller = verifier.caller_from_claims(timers)
    assert (caller.role, caller.org) == (SYSTEM, "caseplatform")
    hubei = keycloak_claims(realm, users["service-account-hubei-province-system"], "hubei-province-system")
    assert (verifier.caller_from_claims(hubei).role, verifier.caller_from_claims(hubei).org) == ("province", "420000")


def test_a_keycloak_user_given_two_platform_roles_is_refused(services, realm):
    from shared.infra.web.errors import Unauthenticated

    verifier = verifier_for(Settings.from_env(env_of(services["intake"])))
    user = {**_people(realm)[0], "realmRoles": ["applicant", "ministry"]}
    with pytest.raises(Unauthenticated):
        verifier.caller_from_claims(keycloak_claims(realm, user, "caseplatform-cli"))


def test_local_infra_fills_exactly_the_variables_compose_requires():
    from services.cli.localinfra.compose import REQUIRED

    required = set(re.findall(r"\$\{([A-Za-z_][A-Za-z0-9_]*):?\?", COMPOSE.read_text()))
    assert set(REQUIRED) == required == set(OPERATOR)


def test_the_image_carries_every_console_template_and_htmx():
    # `pip install .` in the image copies only the package data pyproject.toml names.
    import fnmatch
    import tomllib

    patterns = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"][
        "services.console"]
    console = ROOT / "services" / "console"
    needed = [p.relative_to(console).as_posix() for p in (console / "templates").rglob("*.html")]
    needed += [p.relative_to(console).as_posix() for p in (console / "static").rglob("*") if p.is_file()]
    assert any("/" in path for path in needed)  # the areas' folders are among them
    missing = [path for path in needed if not any(fnmatch.fnmatchcase(path, p) and p.count("/") == path.count("/")
                                                  for p in patterns)]
    assert missing == []
    # the Dockerfile puts htmx where the console serves it from, and the package data takes it
    htmx = "node_modules/htmx.org/dist/htmx.min.js"
    assert htmx in patterns and f"./services/console/{htmx}" in DOCKERFILE.read_text()
