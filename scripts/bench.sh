#!/usr/bin/env bash
# THE benchmark command: bash scripts/bench.sh [--quick | --smoke] [--only SECTION ...] [--profile]
# Creates .venv if absent and installs the project when pyproject.toml changed (its test
# extra pulls in the bench extra: matplotlib, py-spy), then runs `python -m bench`, which
# makes sure PostgreSQL and RabbitMQ answer, creates its own databases, vhost, S3 server
# and identity provider (its npm packages installed first: Node.js 20+ and npm), prints a
# table and writes bench/results/<timestamp>.json and .png.
# See bench/README.md for what each figure means. The full run takes about half an hour
# on a quiet 2-core machine; --quick a few minutes.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

# shellcheck source=scripts/venv.sh
. scripts/venv.sh

install_identity_provider
exec .venv/bin/python -m bench "$@"
