"""Loads deploy/rabbitmq/definitions.json into the compose RabbitMQ, with each user's password
taken from the environment (compose's one-shot `rabbitmq-init` service runs it).

Why a loader and not `load_definitions` in rabbitmq.conf: a definitions file must carry
each user's password hash, and a hash in the repository is a credential in the repository
(and the same for every deployment). Here the file names the users and their permissions
only; this script hashes AMQP_PASSWORD_<USER> (e.g. AMQP_PASSWORD_INTAKE for
caseplatform-intake) as RabbitMQ does and posts the whole document to the management API,
signed in as the operator (the broker's default user, made from the same required
variables). RabbitMQ merges a posted document into what it has, so running it again on
every `docker compose up` applies a changed password or permission and is otherwise a no-op.

Standard library only: it runs in the app image, or any Python 3.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import secrets
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

USER_PREFIX = "caseplatform-"
HASHING = "rabbit_password_hashing_sha256"


def password_variable(user: str) -> str:
    """The environment variable holding `user`'s password."""
    return "AMQP_PASSWORD_" + user.removeprefix(USER_PREFIX).upper().replace("-", "_")


def password_hash(password: str, salt: bytes | None = None) -> str:
    """RabbitMQ's rabbit_password_hashing_sha256: base64(salt + sha256(salt + password)), 4-byte salt."""
    salt = secrets.token_bytes(4) if salt is None else salt
    return base64.b64encode(salt + hashlib.sha256(salt + password.encode()).digest()).decode()


def with_passwords(definitions: dict, env: dict[str, str]) -> dict:
    """The document with every user's password hash filled in from `env`; refuses a missing one."""
    missing = [password_variable(u["name"]) for u in definitions["users"] if not env.get(password_variable(u["name"]))]
    if missing:
        raise SystemExit(f"rabbitmq-init: set {', '.join(missing)} (no user of the broker gets a default password)")
    users = [{**user, "password_hash": password_hash(env[password_variable(user["name"])]),
              "hashing_algorithm": HASHING} for user in definitions["users"]]
    return {**definitions, "users": users}


def post(url: str, user: str, password: str, document: dict, attempts: int = 60) -> None:
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    request = urllib.request.Request(
        url.rstrip("/") + "/api/definitions", data=json.dumps(document).encode(), method="POST",
        headers={"Content-Type": "application/json", "Authorization": f"Basic {token}"})
    for attempt in range(attempts):
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                print(f"rabbitmq-init: definitions loaded ({response.status})")
                return
        except urllib.error.HTTPError as exc:
            # The broker answered: a refusal is not going to change by waiting.
            raise SystemExit(f"rabbitmq-init: the management API refused the definitions: {exc.code} "
                             f"{exc.read()[:500]!r}") from None
        except OSError as exc:  # the management plugin starts after the AMQP port
            if attempt == attempts - 1:
                raise SystemExit(f"rabbitmq-init: no management API at {url}: {exc}") from None
            time.sleep(2)


def main(argv: list[str]) -> int:
    path = Path(argv[1] if len(argv) > 1 else Path(__file__).with_name("definitions.json"))
    env = dict(os.environ)
    document = with_passwords(json.loads(path.read_text()), env)
    operator = env.get("RABBITMQ_OPERATOR_USER", USER_PREFIX + "operator")
    post(env.get("RABBITMQ_MANAGEMENT_URL", "http://rabbitmq:15672"), operator,
         env[password_variable(operator)], document)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
