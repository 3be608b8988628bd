"""Settings from the environment, with embedded defaults for a local run.

One value moves the ledger from SQLite to PostgreSQL (LEDGER_URL); one template
moves every service's read models (READMODEL_URL, with `{service}` in it).
"""

from __future__ import annotations

import os
import secrets
from dataclasses import asdict, dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlsplit

SERVICES = ("intake", "verification", "review", "publication", "documents", "audit", "notifications")

DEFAULT_PORTS = {
    "intake": 8101,
    "verification": 8102,
    "review": 8103,
    "publication": 8104,
    "documents": 8105,
    "audit": 8106,
    "notifications": 8108,  # 8107 is the relay's
}

# The relay process (services/relay) answers only its health probes, on a port of its own.
RELAY_PORT = 8107

AUTH_MODES = ("oidc", "dev-hs256")


def _dev_jwt_secret(data_dir: Path) -> str:
    # The development mode's secret, kept beside the run's data so that tokens minted by
    # `caseplatform token --dev` keep working across restarts.
    path = data_dir / "dev-jwt-secret"
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(48))
        path.chmod(0o600)
    return path.read_text().strip()


def _default_keys_url(ledger_url: str, data_dir: Path) -> str:
    if ledger_url.startswith(("sqlite", "memory")):
        return f"sqlite:///{data_dir}/personal-keys.db"
    return ledger_url


@dataclass(frozen=True)
class Settings:
    data_dir: str
    ledger_url: str
    readmodel_url: str  # template with {service}
    amqp_uri: str
    exchange: str
    s3_endpoint: str
    s3_access_key: str
    s3_secret_key: str
    s3_bucket: str
    s3_secure: bool
    http_host: str
    # The signed checkpoints' own bucket (issue #18): a deployment gives them one apart from
    # the evidence, so neither's policy or retention is the other's; locally the same one.
    s3_checkpoint_bucket: str = ""
    # Who signs the bearer tokens (shared/infra/web/tokens.py): an OpenID Connect provider,
    # whose public keys the services fetch; or, in the development mode `dev-hs256` only, a
    # secret every service holds (so every service could mint any token).
    auth_mode: str = "oidc"
    oidc_issuer: str = "http://127.0.0.1:8110"
    oidc_audience: str = "caseplatform"
    oidc_jwks_url: str = ""  # empty: the jwks_uri of the issuer's discovery document
    oidc_algorithms: tuple[str, ...] = ("RS256", "ES256", "EdDSA")
    oidc_role_claim: str = "role"
    oidc_org_claim: str = "org"
    oidc_region_claim: str = "region"
    oidc_name_claim: str = "name"
    token_max_lifetime: int = 900  # seconds from iat to exp; longer-lived tokens are refused
    token_leeway: int = 30  # seconds of clock difference allowed with the provider
    jwks_refresh_cooldown: float = 10.0  # least seconds between fetches for an unknown key id
    # The timers' client-credentials identity (role system) at the provider.
    timer_client_id: str = "caseplatform-timers"
    timer_client_secret: str = ""
    jwt_secret: str = ""  # AUTH_MODE=dev-hs256 only
    auth_failure_limit: int = 30  # refused tokens per client address a minute before it is answered 429
    # The header a reverse proxy puts the client's address in (e.g. X-Real-IP), for the limit
    # above; empty: the connection's own address. Set it only where the services are reachable
    # through that proxy alone (compose): anyone else could name any address in it.
    client_ip_header: str = ""
    # Seconds a request's socket may stay silent before the server drops it: a client that
    # declares a body and stalls frees its worker instead of holding it for good.
    http_read_timeout: float = 60.0
    # Uploads streamed at once per process; more are answered 503 at once, so uploads never
    # take every worker from other requests and from the event subscription.
    max_concurrent_uploads: int = 4
    ports: dict = field(default_factory=lambda: dict(DEFAULT_PORTS))
    relay_poll_interval: float = 0.05
    # Whether each service process runs an outbox relay (leader-elected) beside its work.
    # False where a `relay` process of its own publishes (compose): then only the relay's
    # broker user needs, and has, write on the ledger's exchange.
    relay_in_process: bool = True
    relay_http_port: int = RELAY_PORT
    max_delivery_attempts: int = 5
    # Events a subscriber applies in one read-model transaction when several are waiting in
    # its queue (shared/infra/messaging/batches.py); 1 applies each in its own, as separate workers.
    projection_batch_size: int = 50
    max_upload_bytes: int = 512 * 1024 * 1024
    clock_offset_days: int = 0  # tests and rehearsals only: moves the services' 'now'
    checkpoint_interval: float = 60.0  # seconds between the audit service's checkpoint passes
    overdue_scan_interval: float = 60.0  # seconds between the review service's passes over due milestones
    notice_scan_interval: float = 60.0  # seconds between publication's passes closing ended notices
    # The notifications service (issue #20): seconds between delivery passes over the outbox,
    # between reminder passes, between daily-digest passes; and the working days before a
    # deadline that reminders come ("7,3,1").
    notify_delivery_interval: float = 10.0
    reminder_scan_interval: float = 3600.0
    digest_scan_interval: float = 3600.0
    reminder_days: str = "7,3,1"
    # Seconds between intake's passes erasing personal data past its call's retention (issue #21).
    retention_scan_interval: float = 3600.0
    notify_retry_base: float = 30.0  # seconds before the first retry of a failed delivery (doubling, at most 2 h)
    checkpoint_key_path: str = ""  # Ed25519 signing key (PEM); generated there if absent
    # The data subjects' keys and the access record (issue #21, shared/infra/personal): a database
    # apart from the ledger, so that no backup of the ledger holds a key. Unset: a SQLite file
    # beside a SQLite ledger; with PostgreSQL, tables of their own in the ledger's database
    # (compose and k8s give them a database of their own, as a deployment should).
    personal_keys_url: str = ""
    # PostgreSQL connections per process (shared/infra/pools.py): each pool keeps `size` open when
    # idle and opens up to `max_overflow` more under load; a request finding it full waits.
    # Six processes share one server: the defaults hold a system to about 30 connections at
    # rest and 80 at most, and a command holds a connection for milliseconds.
    ledger_pool_size: int = 1
    ledger_pool_max_overflow: int = 4
    readmodel_pool_size: int = 1
    readmodel_pool_max_overflow: int = 4
    # Seconds a ledger operation waits for a pooled connection (or for the database to give
    # one). eventsourcing retries a failed operation 10 times 0.2 s apart, so with 1 s a
    # command meets a database outage with a 503 after about 12 s instead of hanging for
    # minutes (30 s, its default, times 10); under load a short wait is retried the same way.
    ledger_pool_timeout: int = 1

    @classmethod
    def from_env(cls, env: dict | None = None) -> Settings:
        env = dict(os.environ if env is None else env)
        data_dir = Path(env.get("CASEPLATFORM_DATA_DIR", "var")).resolve()
        ports = dict(DEFAULT_PORTS)
        for service in SERVICES:
            key = f"HTTP_PORT_{service.upper()}"
            if key in env:
                ports[service] = int(env[key])
        return cls(
            data_dir=str(data_dir),
            ledger_url=env.get("LEDGER_URL", f"sqlite:///{data_dir}/ledger.db"),
            readmodel_url=env.get("READMODEL_URL", f"sqlite:///{data_dir}/{{service}}.db"),
            amqp_uri=env.get("AMQP_URI", "amqp://guest:guest@127.0.0.1:5672/"),
            exchange=env.get("LEDGER_EXCHANGE", "ledger.events"),
            s3_endpoint=env.get("S3_ENDPOINT", "127.0.0.1:8333"),
            s3_access_key=env.get("S3_ACCESS_KEY", "caseplatform"),
            s3_secret_key=env.get("S3_SECRET_KEY", "caseplatform-secret"),
            s3_bucket=env.get("S3_BUCKET", "evidence"),
            s3_secure=env.get("S3_SECURE", "false").lower() in ("1", "true", "yes"),
            s3_checkpoint_bucket=env.get("S3_CHECKPOINT_BUCKET") or env.get("S3_BUCKET", "evidence"),
            http_host=env.get("HTTP_HOST", "127.0.0.1"),
            **_auth_settings(env, data_dir),
            ports=ports,
            relay_poll_interval=float(env.get("RELAY_POLL_INTERVAL", "0.05")),
            relay_in_process=env.get("RELAY_IN_PROCESS", "true").lower() in ("1", "true", "yes"),
            relay_http_port=int(env.get("HTTP_PORT_RELAY", str(RELAY_PORT))),
            max_delivery_attempts=int(env.get("MAX_DELIVERY_ATTEMPTS", "5")),
            projection_batch_size=max(1, int(env.get("PROJECTION_BATCH_SIZE", "50"))),
            max_upload_bytes=int(env.get("MAX_UPLOAD_BYTES", str(512 * 1024 * 1024))),
            http_read_timeout=float(env.get("HTTP_READ_TIMEOUT", "60")),
            max_concurrent_uploads=max(1, int(env.get("MAX_CONCURRENT_UPLOADS", "4"))),
            clock_offset_days=int(env.get("CLOCK_OFFSET_DAYS", "0")),
            checkpoint_interval=float(env.get("CHECKPOINT_INTERVAL", "60")),
            overdue_scan_interval=float(env.get("OVERDUE_SCAN_INTERVAL", "60")),
            notice_scan_interval=float(env.get("NOTICE_SCAN_INTERVAL", "60")),
            notify_delivery_interval=float(env.get("NOTIFY_DELIVERY_INTERVAL", "10")),
            reminder_scan_interval=float(env.get("REMINDER_SCAN_INTERVAL", "3600")),
            digest_scan_interval=float(env.get("DIGEST_SCAN_INTERVAL", "3600")),
            reminder_days=env.get("REMINDER_DAYS", "7,3,1"),
            notify_retry_base=float(env.get("NOTIFY_RETRY_BASE", "30")),
            retention_scan_interval=float(env.get("RETENTION_SCAN_INTERVAL", "3600")),
            # Generated on first use by the audit service, like the JWT secret; deployments
            # mount a key of their own and publish its fingerprint.
            checkpoint_key_path=env.get("CHECKPOINT_KEY_PATH") or str(data_dir / "checkpoint-ed25519.pem"),
            personal_keys_url=env.get("PERSONAL_KEYS_URL") or _default_keys_url(
                env.get("LEDGER_URL", f"sqlite:///{data_dir}/ledger.db"), data_dir),
            ledger_pool_size=int(env.get("LEDGER_POOL_SIZE", "1")),
            ledger_pool_max_overflow=int(env.get("LEDGER_POOL_MAX_OVERFLOW", "4")),
            readmodel_pool_size=int(env.get("READMODEL_POOL_SIZE", "1")),
            readmodel_pool_max_overflow=int(env.get("READMODEL_POOL_MAX_OVERFLOW", "4")),
            ledger_pool_timeout=int(env.get("LEDGER_POOL_TIMEOUT", "1")),
        )

    @property
    def dev_mode(self) -> bool:
        return self.auth_mode == "dev-hs256"

    def readmodel_url_for(self, service: str) -> str:
        return self.readmodel_url.format(service=service)

    def port_of(self, process: str) -> int:
        """The HTTP port of a service, or of the relay process."""
        return self.relay_http_port if process == "relay" else self.ports[process]

    def nameko_config(self, service: str) -> dict:
        """The config dict a nameko container of `service` (or of the relay) runs with."""
        return {
            "AMQP_URI": self.amqp_uri,
            "WEB_SERVER_ADDRESS": f"{self.http_host}:{self.port_of(service)}",
            "max_workers": 10,
            "PLATFORM": asdict(self),
        }

    @classmethod
    def from_nameko(cls, config: dict) -> Settings:
        platform = dict(config["PLATFORM"])
        platform["oidc_algorithms"] = tuple(platform["oidc_algorithms"])
        return cls(**platform)


def _secret(env: dict, name: str) -> str:
    """A secret from NAME, or from the file NAME_FILE names (a mounted secret, kept out of
    the process environment)."""
    path = env.get(f"{name}_FILE")
    if path:
        return Path(path).read_text().strip()
    return env.get(name, "")


def _auth_settings(env: dict, data_dir: Path) -> dict:
    mode = env.get("AUTH_MODE", "oidc")
    if mode not in AUTH_MODES:
        raise ValueError(f"AUTH_MODE must be one of {', '.join(AUTH_MODES)}, not {mode!r}")
    secret = _secret(env, "JWT_SECRET")
    if mode == "oidc" and secret:
        # A signing secret left in the environment is what the OIDC mode exists to remove.
        raise ValueError("JWT_SECRET is set but AUTH_MODE is oidc: the services verify the provider's tokens and "
                         "must hold no key that signs them; unset JWT_SECRET (or choose AUTH_MODE=dev-hs256 for "
                         "development)")
    leeway = int(env.get("TOKEN_LEEWAY", "30"))
    if not 0 <= leeway <= 300:
        raise ValueError(f"TOKEN_LEEWAY must be 0 to 300 seconds, not {leeway}")
    lifetime = int(env.get("TOKEN_MAX_LIFETIME", "900"))
    if not 60 <= lifetime <= 3600:
        raise ValueError(f"TOKEN_MAX_LIFETIME must be 60 to 3600 seconds, not {lifetime}")
    algorithms = tuple(env.get("OIDC_ALGORITHMS", "RS256 ES256 EdDSA").split())
    if mode == "oidc" and not set(algorithms) <= {"RS256", "RS384", "RS512", "PS256", "ES256", "ES384", "EdDSA"}:
        raise ValueError(f"OIDC_ALGORITHMS may name only asymmetric algorithms, not {' '.join(algorithms)}")
    return {
        "auth_mode": mode,
        "oidc_issuer": env.get("OIDC_ISSUER", "http://127.0.0.1:8110"),
        "oidc_audience": env.get("OIDC_AUDIENCE", "caseplatform"),
        "oidc_jwks_url": env.get("OIDC_JWKS_URL", ""),
        "oidc_algorithms": algorithms,
        "oidc_role_claim": env.get("OIDC_ROLE_CLAIM", "role"),
        "oidc_org_claim": env.get("OIDC_ORG_CLAIM", "org"),
        "oidc_region_claim": env.get("OIDC_REGION_CLAIM", "region"),
        "oidc_name_claim": env.get("OIDC_NAME_CLAIM", "name"),
        "token_max_lifetime": lifetime,
        "token_leeway": leeway,
        "jwks_refresh_cooldown": float(env.get("JWKS_REFRESH_COOLDOWN", "10")),
        "timer_client_id": env.get("TIMER_CLIENT_ID", "caseplatform-timers"),
        "timer_client_secret": _secret(env, "TIMER_CLIENT_SECRET"),
        "jwt_secret": (secret or _dev_jwt_secret(data_dir)) if mode == "dev-hs256" else "",
        "auth_failure_limit": max(1, int(env.get("AUTH_FAILURE_LIMIT", "30"))),
        "client_ip_header": env.get("CLIENT_IP_HEADER", ""),
    }


def sqlalchemy_url(url: str) -> str:
    """The SQLAlchemy form of a database URL, always through pure-Python psycopg 3."""
    if url.startswith(("postgresql://", "postgres://")):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def sqlite_file(url: str) -> str | None:
    """The file of a sqlite:///path URL; None for any other URL, and for SQLite in memory."""
    path = url[len("sqlite:///"):] if url.startswith("sqlite:///") else ""
    return path if path not in ("", ":memory:") else None


def ensure_sqlite_parent(url: str) -> None:
    """SQLite creates the file but not its folder: make the folder of a sqlite:/// URL."""
    if path := sqlite_file(url):
        Path(path).parent.mkdir(parents=True, exist_ok=True)


def eventsourcing_env(url: str) -> dict[str, str]:
    """The eventsourcing environment for a ledger URL (sqlite:///path or postgresql://...)."""
    parts = urlsplit(url)
    if parts.scheme == "sqlite":
        ensure_sqlite_parent(url)
        path = url[len("sqlite:///"):]
        return {"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": path or ":memory:"}
    if parts.scheme in ("postgresql", "postgres", "postgresql+psycopg"):
        return {
            # eventsourcing's own PostgreSQL persistence, naming its connections (shared/infra/pools.py).
            "PERSISTENCE_MODULE": "shared.infra.pools:NamedPostgresFactory",
            "POSTGRES_DBNAME": parts.path.lstrip("/"),
            "POSTGRES_HOST": parts.hostname or "127.0.0.1",
            "POSTGRES_PORT": str(parts.port or 5432),
            "POSTGRES_USER": unquote(parts.username or "postgres"),
            "POSTGRES_PASSWORD": unquote(parts.password or ""),
            # One idle connection, a few more under load: services pass their settings'
            # sizes (Settings.ledger_pool_size, ...); a CLI command needs no more.
            "POSTGRES_POOL_SIZE": "1",
            "POSTGRES_MAX_OVERFLOW": "4",
            "POSTGRES_CONNECT_TIMEOUT": "1",  # the pool's wait: see Settings.ledger_pool_timeout
        }
    if parts.scheme == "memory":
        return {"PERSISTENCE_MODULE": "eventsourcing.popo"}
    raise ValueError(f"LEDGER_URL must be sqlite:///..., postgresql://... or memory://, not {url!r}")
