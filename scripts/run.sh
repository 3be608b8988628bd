#!/usr/bin/env bash
# THE run command: bash scripts/run.sh [caseplatform run args...]
# Creates .venv (python3.11) if absent, installs the project when pyproject.toml changed
# since the last install, then `caseplatform run` (S3 server, RabbitMQ check, services).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

# shellcheck source=scripts/venv.sh
. scripts/venv.sh

exec .venv/bin/caseplatform run "$@"
