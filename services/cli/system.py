"""Serving and running the system locally: one service, all of them (with the identity provider),
tokens through the protocol, the shipped calls, the demo.

`serve` patches the standard library with eventlet before anything imports kombu, psycopg or
SQLAlchemy, so every import beyond the standard library is made inside the command.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from services.cli.supervisor import Supervisor

CONSOLE_WITHHELD = ("TIMER_CLIENT_SECRET", "JWT_SECRET", "S3_", "LEDGER_", "READMODEL_", "AMQP_URI",
                    "CHECKPOINT_KEY")


def _console_sessions(data_dir: str) -> dict[str, str]:
    """The local console's shared sessions: a SQLite file and a key written once (0600) beside it."""
    from services.console.shared_sessions import new_session_key

    folder = Path(data_dir) / "console"
    folder.mkdir(parents=True, exist_ok=True)
    key = folder / "session.key"
    if not key.exists():
        key.touch(mode=0o600)
        key.write_text(new_session_key())
    return {"CONSOLE_SESSIONS_URL": f"sqlite:///{folder / 'sessions.db'}", "CONSOLE_SESSION_KEY_FILE": str(key)}


def serve(args) -> int:
    if args.service == "console":  # not a nameko service: no eventlet, no broker
        from services.console.server import main as serve_console

        return serve_console()
    # eventlet must patch the standard library before kombu, psycopg or sqlalchemy load.
    import warnings

    warnings.filterwarnings("ignore", message=r"\s*Eventlet is deprecated")
    import eventlet

    eventlet.monkey_patch()
    from nameko.runners import ServiceRunner

    from shared.infra.dependencies import make_psycopg_cooperative

    make_psycopg_cooperative()

    from shared.infra.allocator import hand_back_large_buffers

    hand_back_large_buffers()

    from services.cli.registry import service_class
    from shared.infra.config import Settings
    from shared.infra.logs import configure_logging

    configure_logging()
    settings = Settings.from_env()
    runner = ServiceRunner(settings.nameko_config(args.service))
    runner.add_service(service_class(args.service))

    def shutdown(signum, frame):
        eventlet.spawn(runner.stop)

    signal.signal(signal.SIGTERM, shutdown)
    signal.signal(signal.SIGINT, shutdown)
    runner.start()
    print(f"{args.service} listening on http://{settings.http_host}:{settings.port_of(args.service)}/{args.service}",
          flush=True)
    runner.wait()
    return 0


def _settings():
    """The settings of a local command: as the services', with the issuer of the local
    provider when only IDENTITY_PORT says where it is."""
    from services.cli.localinfra.identity import local_issuer
    from shared.infra.config import Settings

    return Settings.from_env({**os.environ, "OIDC_ISSUER": local_issuer()})


def _mail_sink(settings, env: dict):
    """The starter of a local SMTP sink writing to <data dir>/mail/, unless SMTP_HOST names a real
    server; `env` (the services') is pointed at it. MAIL_SINK_PORT moves it from 8025."""
    if env.get("SMTP_HOST"):
        return None
    port = env.get("MAIL_SINK_PORT", "8025")
    env.update(SMTP_HOST="127.0.0.1", SMTP_PORT=port, SMTP_SECURITY="none")
    folder = os.path.join(settings.data_dir, "mail")
    return lambda: subprocess.Popen([sys.executable, "-m", "services.cli.localinfra.mailsink", folder, port], env=env)


def run(args) -> int:
    from services.cli.localinfra.identity import CONSOLE_DIR, LocalIdentity, install_node_modules
    from services.cli.localinfra.s3 import ensure_s3
    from services.cli.localinfra.system_services import ensure_rabbitmq
    from shared.infra.config import SERVICES

    try:
        settings = _settings()
    except ValueError as exc:  # e.g. JWT_SECRET set while AUTH_MODE is oidc
        print(f"caseplatform: {exc}", file=sys.stderr)
        return 2
    from services.console.settings import ConsoleSettings

    console = ConsoleSettings.from_env({**os.environ, "OIDC_ISSUER": settings.oidc_issuer})
    # The provider started here sends browsers back only to the console's registered addresses:
    # the console's own, when CONSOLE_PORT or CONSOLE_PUBLIC_URL moves it from 8100.
    os.environ.setdefault("IDENTITY_CONSOLE_REDIRECT_URIS", console.redirect_uri)
    os.environ.setdefault("IDENTITY_CONSOLE_POST_LOGOUT_REDIRECT_URIS", console.post_logout_uri)
    identity = LocalIdentity(settings)
    s3 = None
    try:
        ensure_rabbitmq(settings.amqp_uri)
        s3 = ensure_s3(settings)
        identity.ensure()  # before the services: their timers ask it for a token when they start
        install_node_modules(CONSOLE_DIR)  # the console's htmx
    except RuntimeError as exc:
        print(f"caseplatform: {exc}", file=sys.stderr)
        if s3 is not None:
            s3.stop()
        return 2
    env = {**os.environ, "CASEPLATFORM_DATA_DIR": settings.data_dir, **identity.service_env()}
    sink = _mail_sink(settings, env)

    def starter(name: str):
        return lambda: subprocess.Popen([sys.executable, "-m", "services.cli.main", "serve", name], env=env)

    # The console gets the issuer and the services' addresses: no service's secret, no ledger;
    # only its own sessions' table, so a console the supervisor restarts keeps people signed in.
    console_env = {**_console_sessions(settings.data_dir),
                   **{k: v for k, v in env.items() if not k.startswith(CONSOLE_WITHHELD)}}
    starters = {name: starter(name) for name in SERVICES}
    if sink is not None:
        starters["mail sink"] = sink
    starters["console"] = lambda: subprocess.Popen([sys.executable, "-m", "services.cli.main", "serve", "console"],
                                                   env=console_env)
    supervisor = Supervisor(starters,
                            say=lambda line: print(line, file=sys.stderr, flush=True))
    supervisor.start_all()
    if identity.proc is not None:
        supervisor.adopt("the identity provider", identity.proc, identity.restart)
    print(f"ledger: {settings.ledger_url}\nS3: {settings.s3_endpoint} bucket {settings.s3_bucket}\n"
          f"RabbitMQ: {settings.amqp_uri.rsplit('@', 1)[-1]}", flush=True)
    print(identity.describe(), flush=True)
    if sink is not None:
        print(f"mail: every notification sent is a .eml file in {settings.data_dir}/mail/ "
              f"(local SMTP sink on {env['SMTP_HOST']}:{env['SMTP_PORT']}; set SMTP_HOST for a real server)",
              flush=True)
    print(f"console: {console.public_url}/ (中文; sign in with a SAMPLE account above)", flush=True)
    print("try: caseplatform demo   (in another shell; Ctrl-C here stops everything)", flush=True)
    stopping = False

    def stop(signum, frame):
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    while not stopping:
        supervisor.tend()  # a process that exits is restarted alone; the others keep serving
        time.sleep(0.5)
    services = [c.proc for name, c in supervisor.children.items()
                if name in (*SERVICES, "console", "mail sink") and c.proc is not None]
    for proc in services:
        if proc.poll() is None:
            proc.terminate()
    for proc in services:
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
    identity.stop()  # after the services: a timer mid-pass may still ask it for a token
    if s3 is not None:
        s3.stop()
    return 0


def _secret_from_stdin(what: str) -> str:
    value = sys.stdin.readline().rstrip("\r\n")
    if not value:
        raise _Refused(f"no {what} on standard input")
    return value


class _Refused(Exception):
    """A token the command cannot give: one line for the operator, exit code 2."""


def _take_token(args, settings) -> dict:
    import getpass

    from services.cli.localinfra.identity import client_secret, data_dir_of, is_local
    from services.cli.signin import OidcClient, sample_password

    issuer = settings.oidc_issuer
    local = is_local(issuer)
    client = OidcClient(issuer)
    if args.client:
        if args.secret_stdin:
            secret = _secret_from_stdin("client secret")
        elif local:
            try:
                secret = client_secret(data_dir_of(settings.data_dir), args.client)
            except RuntimeError as exc:
                raise _Refused(f"{exc}; or give the secret with --secret-stdin") from None
        else:
            raise _Refused(f"{issuer} is not the local provider: give the client's secret with --secret-stdin")
        return client.client_credentials(args.client, secret)
    if args.password_stdin:
        password = _secret_from_stdin("password")
    else:
        try:
            # A SAMPLE account's password is public (sample-accounts.json); only a local provider has them.
            password = sample_password(args.user) if local else ""
        except KeyError:
            password = ""
        try:
            password = password or getpass.getpass(f"password of {args.user} at {issuer}: ")
        except (EOFError, KeyboardInterrupt):
            raise _Refused("no password given (a prompt, or --password-stdin)") from None
    return client.sign_in(args.user, password)


def token(args) -> int:
    """A token through the protocol (sign-in or client credentials), or minted in dev-hs256."""
    import json

    import requests

    from services.cli.signin import SignInRefused, TokenRefused
    from shared.infra.web.tokens import mint_dev_token

    try:
        settings = _settings()
    except ValueError as exc:
        print(f"caseplatform token: {exc}", file=sys.stderr)
        return 2
    if args.dev_hs256:
        if not settings.dev_mode:
            print("caseplatform token: --dev-hs256 mints tokens only in the development mode AUTH_MODE=dev-hs256; "
                  f"the services verify tokens of {settings.oidc_issuer}: use --user or --client", file=sys.stderr)
            return 2
        if not (args.role and args.org):
            print("caseplatform token: --dev-hs256 needs --role and --org", file=sys.stderr)
            return 2
        region = {k: v for k, v in (("province", args.province), ("city", args.city)) if v}
        print(mint_dev_token(
            settings.jwt_secret, sub=args.sub or f"{args.role}:{args.org}", role=args.role, org=args.org,
            name=args.name or "", region=region or None, ttl_seconds=args.ttl, audience=settings.oidc_audience))
        return 0
    if settings.dev_mode:
        print("caseplatform token: AUTH_MODE is dev-hs256: the services accept no provider's tokens; "
              "use --dev-hs256 --role ROLE --org ORG", file=sys.stderr)
        return 2
    try:
        answer = _take_token(args, settings)
    except _Refused as exc:
        print(f"caseplatform token: {exc}", file=sys.stderr)
        return 2
    except SignInRefused:
        print(f"caseplatform token: {settings.oidc_issuer} refused the sign-in of {args.user} "
              "(wrong username or password, or the account is disabled)", file=sys.stderr)
        return 2
    except TokenRefused as exc:
        print(f"caseplatform token: {settings.oidc_issuer} refused the token request: {exc.error}"
              f"{f' ({exc.description})' if exc.description else ''}", file=sys.stderr)
        return 2
    except requests.RequestException as exc:
        print(f"caseplatform token: no identity provider answers at {settings.oidc_issuer} ({type(exc).__name__}); "
              "start it with scripts/run.sh or set OIDC_ISSUER", file=sys.stderr)
        return 2
    print(json.dumps(answer, indent=1) if args.json else answer["access_token"])
    return 0


def _no_token(command: str, exc: Exception, issuer: str) -> int:
    """Why a command that signs in first could not: one line, exit code 2."""
    import requests

    url = exc.request.url if isinstance(exc, requests.RequestException) and exc.request is not None else ""
    if url and not url.startswith(issuer):
        why = f"nothing answers at {url} ({type(exc).__name__}); are the services running (scripts/run.sh)?"
    elif url:
        why = f"no identity provider answers at {issuer}; start it with scripts/run.sh or set OIDC_ISSUER"
    else:
        why = f"{issuer} refused to sign in a SAMPLE account ({exc})"
    print(f"caseplatform {command}: {why}", file=sys.stderr)
    return 2


def load_calls(args) -> int:
    """Posts the shipped call definitions to intake as the ministry (local use)."""
    from importlib import resources

    import requests

    from services.cli.demo import Platform
    from services.cli.signin import SignInRefused, TokenRefused

    settings = _settings()
    try:
        platform = Platform.local(settings)
    except (requests.RequestException, SignInRefused, TokenRefused) as exc:
        return _no_token("load-calls", exc, settings.oidc_issuer)
    folder = resources.files("shared.domain").joinpath("calls")
    for entry in sorted((e for e in folder.iterdir() if e.name.endswith(".json")), key=lambda e: e.name):
        response = requests.post(
            f"{platform.base['intake']}/intake/calls", data=entry.read_bytes(),
            headers={"Authorization": f"Bearer {platform.tokens['ministry']}", "Content-Type": "application/json"},
            timeout=30,
        )
        print(f"{entry.name}: {response.status_code} {response.text}")
    return 0


def demo(args) -> int:
    import requests

    from services.cli.demo import run_demo
    from services.cli.localinfra.identity import local_issuer
    from services.cli.signin import SignInRefused, TokenRefused

    os.environ["OIDC_ISSUER"] = issuer = local_issuer()  # run_demo reads its settings from the environment
    try:
        return run_demo()  # signs in the SAMPLE people first
    except (requests.RequestException, SignInRefused, TokenRefused) as exc:
        return _no_token("demo", exc, issuer)
