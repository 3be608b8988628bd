#!/usr/bin/env bash
# THE test command: bash scripts/test.sh [pytest args...]
# Creates .venv (python3.11) if absent, installs the project when pyproject.toml changed
# since the last install, runs the static checks (scripts/check.sh: ruff, mypy, the layers
# of shared/), installs the identity provider's npm packages when their lock changed (Node.js
# 20+ and npm needed), makes sure RabbitMQ and PostgreSQL answer (starting the local services
# if needed; skipped when tests will use Docker containers), then runs pytest.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

# shellcheck source=scripts/venv.sh
. scripts/venv.sh

# --- lint, types and the layers of shared/ (SKIP_CHECKS=1 leaves them out while iterating)
if [ "${SKIP_CHECKS:-0}" != "1" ]; then
    bash scripts/check.sh
fi

# --- the identity provider's packages (tests start it: tests/support/identity.py) -------
install_identity_provider

# --- the services the tests need ------------------------------------------------------
.venv/bin/python - <<'PY'
import os
from services.cli.localinfra.compose import docker_available
from services.cli.localinfra.system_services import ensure_postgres, ensure_rabbitmq

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
# The console's browser tests keep a screenshot of every step here (a CI artefact).
export CONSOLE_SCREENSHOTS="${CONSOLE_SCREENSHOTS:-$PWD/var/test-artefacts/screenshots}"
.venv/bin/python -m pytest -q "$@" || rc=$?
if [ "$rc" -eq 5 ]; then
    echo "scripts/test.sh: pytest collected no tests: failing" >&2
fi
exit "$rc"
