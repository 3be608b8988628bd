#!/usr/bin/env bash
# THE test command: bash scripts/test.sh [pytest args...]
# Creates .venv (python3.11) if absent, installs the project when pyproject.toml changed
# since the last install, makes sure RabbitMQ and PostgreSQL answer (starting the local
# services if needed; skipped when tests will use Docker containers), then runs pytest.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

# --- the virtualenv (same block as scripts/run.sh) ----------------------------------
if [ ! -x .venv/bin/python ]; then
    PYTHON=${PYTHON:-$(command -v python3.11 || command -v python3 || true)}
    if [ -z "$PYTHON" ]; then
        echo "scripts/test.sh: Python 3.11 is required (python3.11 not found)" >&2
        exit 2
    fi
    echo "creating .venv with $PYTHON" >&2
    "$PYTHON" -m venv .venv
fi
stamp=.venv/.caseplatform-install-stamp
want=$(sha256sum pyproject.toml | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
    echo "installing the project into .venv (pyproject.toml changed)" >&2
    if ! .venv/bin/python -m pip install --disable-pip-version-check -e '.[test]' \
            > .venv/pip-install.log 2>&1; then
        cat .venv/pip-install.log >&2
        echo "pip install failed (log: .venv/pip-install.log)" >&2
        exit 1
    fi
    echo "$want" > "$stamp"
fi

# --- the services the tests need ------------------------------------------------------
.venv/bin/python - <<'PY'
import os
from shared.localinfra import docker_available, ensure_postgres, ensure_rabbitmq

mode = os.environ.get("CASEPLATFORM_TEST_INFRA", "auto").lower()
if mode == "local" or (mode in ("", "auto") and not docker_available()):
    try:
        ensure_rabbitmq(os.environ.get("TEST_AMQP_URI", "amqp://guest:guest@127.0.0.1:5672/"))
        ensure_postgres(os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"))
    except RuntimeError as exc:
        raise SystemExit(f"scripts/test.sh: {exc}")
PY

# --- the tests -----------------------------------------------------------------------
rc=0
.venv/bin/python -m pytest -q "$@" || rc=$?
if [ "$rc" -eq 5 ]; then
    echo "scripts/test.sh: pytest collected no tests: failing" >&2
fi
exit "$rc"
