# Sourced by scripts/run.sh, scripts/test.sh and the others (from the project root): creates
# .venv with Python 3.11 if absent and installs the project when pyproject.toml changed since
# the last install. pip's output goes to .venv/pip-install.log, shown only on failure.
# It also defines install_identity_provider, for the scripts that start the local OpenID
# Connect provider (services/identity): that needs Node.js 20+ and npm.
if [ ! -x .venv/bin/python ]; then
    PYTHON=${PYTHON:-$(command -v python3.11 || command -v python3 || true)}
    if [ -z "$PYTHON" ]; then
        echo "$0: Python 3.11 is required (python3.11 not found)" >&2
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

# `npm ci` in services/identity when package-lock.json changed since the last install: the
# stamp logic is services/cli/localinfra/identity.py's install_node_modules, the one the run
# command and the tests use too.
install_identity_provider() {
    if ! .venv/bin/python -m services.cli.localinfra.identity install; then
        echo "$0: the identity provider and the console need Node.js 20+ and npm (services/identity, services/console)" >&2
        exit 2
    fi
}
