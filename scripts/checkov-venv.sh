#!/usr/bin/env bash
# checkov (the security lint of deploy/k8s, run by tests/unit/test_k8s_manifests.py) in a venv of
# its own, .venv-checkov: it requires packaging<24 and pytest 9 requires packaging>=24, so it
# cannot share .venv. Installed from PyPI when absent or not this version; .ci/run calls this.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
CHECKOV_VERSION=3.3.30
if [ "$(.venv-checkov/bin/checkov --version 2>/dev/null || true)" = "$CHECKOV_VERSION" ]; then
    exit 0
fi
PYTHON=${PYTHON:-$(command -v python3.11 || command -v python3)}
rm -rf .venv-checkov
"$PYTHON" -m venv .venv-checkov
if ! .venv-checkov/bin/python -m pip install --disable-pip-version-check "checkov==$CHECKOV_VERSION" \
        > .venv-checkov/pip-install.log 2>&1; then
    cat .venv-checkov/pip-install.log >&2
    echo "$0: checkov $CHECKOV_VERSION did not install (log: .venv-checkov/pip-install.log)" >&2
    exit 1
fi
