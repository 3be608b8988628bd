#!/usr/bin/env bash
# THE run command: bash scripts/run.sh [caseplatform run args...]
# Creates .venv (python3.11) if absent, installs the project when pyproject.toml changed
# since the last install, then `caseplatform run` (S3 server, RabbitMQ check, services).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

# --- the virtualenv (same block as scripts/test.sh) ----------------------------------
if [ ! -x .venv/bin/python ]; then
    PYTHON=${PYTHON:-$(command -v python3.11 || command -v python3 || true)}
    if [ -z "$PYTHON" ]; then
        echo "scripts/run.sh: Python 3.11 is required (python3.11 not found)" >&2
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

exec .venv/bin/caseplatform run "$@"
