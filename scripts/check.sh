#!/usr/bin/env bash
# The static checks, run by scripts/test.sh before the tests (and alone by hand):
# ruff (lint and import order), mypy (types; strict on shared/domain) and import-linter
# (the layers of shared/: the domain imports no machinery, nothing in shared/ imports
# services/). Each must report zero findings. Configuration: pyproject.toml.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

# shellcheck source=scripts/venv.sh
. scripts/venv.sh

status=0
echo "check: ruff" >&2
.venv/bin/ruff check shared services tests bench || status=1
echo "check: mypy" >&2
.venv/bin/mypy || status=1
echo "check: import contracts" >&2
.venv/bin/lint-imports --no-cache || status=1
if [ "$status" -ne 0 ]; then
    echo "scripts/check.sh: findings above; fix them before the tests run" >&2
fi
exit "$status"
