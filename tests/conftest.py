import warnings

warnings.filterwarnings("ignore", message=r"\s*Eventlet is deprecated")  # nameko 2 needs it

import eventlet  # noqa: E402

eventlet.monkey_patch()  # first of all: nameko (and its fixtures) need a patched stdlib

from shared.infra.dependencies import make_psycopg_cooperative  # noqa: E402

make_psycopg_cooperative()  # the services run in this process too: psycopg must wait greenly

# Session fixtures giving REAL services (see tests/infra.py for how they are chosen).
#
# - `postgres_url`: a fresh database, postgresql://postgres@127.0.0.1:5432/cp_test_<hex>
# - `make_database(hint="")`: another fresh database URL each call
# - `amqp_uri`: amqp://guest:guest@127.0.0.1:5672/cp_test_<hex>, a vhost of this session
# - `make_vhost(hint="")`: another fresh vhost URI each call
# - `s3_settings`: {"endpoint", "access_key", "secret_key", "secure": False} of a running
#   S3 server (SeaweedFS on free loopback ports, or MinIO in a container)
# - `infra_backend`: the backend object ("local" or "docker")
#
# Everything created is removed at the end of the session.
#
# nameko's pytest plugin (entry point pytest11 `pytest_nameko`) loads automatically. Its
# own `amqp_uri` / `rabbit_config` are function-scoped and create a vhost per test through
# the management HTTP API (port 15672); the fixtures here replace them so that nothing
# needs the management plugin. Its `web_session` imports werkzeug's `url_join`, removed
# in werkzeug 3, and is replaced with one using urllib.parse.urljoin.

from urllib.parse import unquote, urljoin, urlsplit  # noqa: E402

import pytest  # noqa: E402

try:
    from tests import infra as _infra
except ImportError:  # tests/ not importable as a package: pytest put tests/ on sys.path
    import infra as _infra


@pytest.fixture(scope="session")
def infra_backend():
    backend = _infra.make_infra()
    try:
        yield backend
    finally:
        backend.close()


# ----------------------------------------------------------------------- PostgreSQL


@pytest.fixture(scope="session")
def _databases(infra_backend):
    databases = infra_backend.databases()
    try:
        yield databases
    finally:
        databases.close()


@pytest.fixture(scope="session")
def make_database(_databases):
    """Factory: make_database(hint="") -> URL of a new, empty database (dropped at the end)."""
    return _databases.create


@pytest.fixture(scope="session")
def postgres_url(make_database):
    """URL of a fresh database for this session, e.g. postgresql://postgres@127.0.0.1:5432/cp_test_1a2b3c."""
    return make_database()


# ------------------------------------------------------------------------- RabbitMQ


_SESSION_VHOSTS: dict = {}  # the session's Vhosts, once made, and the vhosts that live as long as it


@pytest.fixture(scope="session")
def _vhosts(infra_backend):
    vhosts = infra_backend.vhosts()
    _SESSION_VHOSTS.update(vhosts=vhosts, kept=set())
    try:
        yield vhosts
    finally:
        _SESSION_VHOSTS.clear()
        vhosts.close()


@pytest.fixture(scope="session")
def make_vhost(_vhosts):
    """Factory: make_vhost(hint="") -> AMQP URI of a new vhost (deleted at the end of its test module)."""
    return _vhosts.create


@pytest.fixture(scope="session")
def amqp_uri(make_vhost):
    """AMQP URI of this session's own vhost, e.g. amqp://guest:guest@127.0.0.1:5672/cp_test_1a2b3c."""
    uri = make_vhost()
    if _SESSION_VHOSTS:
        _SESSION_VHOSTS["kept"].add(unquote(urlsplit(uri).path[1:]))
    return uri


@pytest.fixture(scope="module", autouse=True)
def _vhosts_of_the_module():
    """Deletes at the end of each module the vhosts its tests and fixtures made (the session's own
    excepted). Every vhost holds 3 quorum queues per service, each a Raft member with its files:
    kept to the session's end, a whole run's of them exhausted the broker's file handles and
    vhost creation hung (seen in CI)."""
    made_before = len(_SESSION_VHOSTS["vhosts"].created) if _SESSION_VHOSTS else 0
    yield
    if _SESSION_VHOSTS:
        vhosts = _SESSION_VHOSTS["vhosts"]
        start = made_before if made_before <= len(vhosts.created) else 0
        vhosts.delete([n for n in vhosts.created[start:] if n not in _SESSION_VHOSTS["kept"]])


@pytest.fixture
def rabbit_config(amqp_uri):
    """nameko's rabbit_config, on this session's vhost (no management API needed)."""
    parts = urlsplit(amqp_uri)
    return {
        "AMQP_URI": amqp_uri,
        "username": unquote(parts.username or "guest"),
        "vhost": unquote(parts.path[1:]) or "/",
    }


# ------------------------------------------------------------------------------ S3


@pytest.fixture(scope="session")
def s3_settings(infra_backend, tmp_path_factory):
    """{"endpoint": "127.0.0.1:PORT", "access_key", "secret_key", "secure": False}."""
    return infra_backend.s3(tmp_path_factory.mktemp("s3"))


# --------------------------------------------------------------------------- nameko


@pytest.fixture
def web_session(web_config_port):
    """nameko's web_session without werkzeug.urls.url_join (gone in werkzeug 3)."""
    from requests import Session

    base = f"http://127.0.0.1:{web_config_port}/"

    class WebSession(Session):
        def request(self, method, url, *args, **kwargs):
            return Session.request(self, method, urljoin(base, url), *args, **kwargs)

    with WebSession() as session:
        yield session


# ------------------------------------------------------------------------- ledgers


@pytest.fixture
def ledgers(make_database):
    """Factory: ledgers(owner) -> a CaseLedger on one fresh PostgreSQL ledger of this test, as each
    service process opens its own; all closed at the end."""
    from shared.infra.ledger import CaseLedger

    url = make_database("ledger")
    opened = []

    def open_ledger(owner):
        app = CaseLedger(url, owner=owner)
        opened.append(app)
        return app

    yield open_ledger
    for app in opened:
        app.close()
