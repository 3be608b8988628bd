#!/usr/bin/env bash
# THE run command: bash scripts/run.sh [caseplatform run args...]
# Creates .venv (python3.11) if absent, installs the project when pyproject.toml changed
# since the last install, `npm ci` for the identity provider when its lock changed (Node.js
# 20+ and npm needed), then `caseplatform run` (S3 server, RabbitMQ check, the OpenID
# Connect provider, the services; it prints the SAMPLE sign-ins).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

# shellcheck source=scripts/venv.sh
. scripts/venv.sh

install_identity_provider
exec .venv/bin/caseplatform run "$@"
