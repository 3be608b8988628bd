"""`caseplatform token` against a real provider (services/identity), run as an operator runs it:
a subprocess with OIDC_ISSUER pointed at the provider, its token checked by the services'
own verifier (shared/infra/web/auth.py) and its refusals read as the operator reads them."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from shared.infra.config import Settings
from shared.infra.web.auth import verifier_for
from tests.support.identity import IdentityProvider

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def idp(tmp_path_factory):
    # The provider's data in <data dir>/identity, where `caseplatform token` reads client secrets.
    provider = IdentityProvider(tmp_path_factory.mktemp("cli-sign-in") / "identity").start()
    yield provider
    provider.stop()


def cli_env(idp: IdentityProvider, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OIDC_", "AUTH_MODE", "JWT_SECRET"))}
    return {**env, "OIDC_ISSUER": idp.issuer, "CASEPLATFORM_DATA_DIR": str(idp.data_dir.parent), **extra}


def token_command(idp: IdentityProvider, *args: str, stdin: str = "", **env: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "services.cli.main", "token", *args], input=stdin,
                          env=cli_env(idp, **env), capture_output=True, text=True, timeout=60, check=False)


def caller_of(idp: IdentityProvider, token: str):
    """The token as a service sees it: verified with the provider's published keys."""
    return verifier_for(Settings.from_env(cli_env(idp))).caller(f"Bearer {token}")


def test_a_sample_official_signs_in_and_the_services_accept_the_token(idp):
    done = token_command(idp, "--user", "sample-hubei-official")
    assert done.returncode == 0, done.stderr
    token = done.stdout.strip()
    assert "\n" not in token
    caller = caller_of(idp, token)
    assert (caller.sub, caller.role, caller.org) == ("sample-hubei-official", "province", "420000")


def test_json_gives_the_whole_response_with_a_short_lifetime(idp):
    done = token_command(idp, "--user", "sample-applicant", "--json")
    assert done.returncode == 0, done.stderr
    answer = json.loads(done.stdout)
    assert answer["token_type"].lower() == "bearer" and 0 < answer["expires_in"] <= 900
    assert {"id_token", "refresh_token"} <= set(answer)
    assert caller_of(idp, answer["access_token"]).region == {"province": "420000", "city": "420100"}


def test_a_wrong_password_exits_2_with_one_line(idp):
    done = token_command(idp, "--user", "sample-hubei-official", "--password-stdin", stdin="not-the-password\n")
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
    assert "refused the sign-in of sample-hubei-official" in done.stderr


def test_the_password_from_stdin_signs_in(idp):
    done = token_command(idp, "--user", "sample-wuhan-official", "--password-stdin", stdin="sample-pass-wuhan\n")
    assert done.returncode == 0, done.stderr
    assert caller_of(idp, done.stdout.strip()).org == "420100"


def test_a_province_system_takes_a_client_credentials_token_bound_to_its_authority(idp):
    done = token_command(idp, "--client", "hubei-province-system")
    assert done.returncode == 0, done.stderr
    caller = caller_of(idp, done.stdout.strip())
    assert (caller.role, caller.org) == ("province", "420000")


def test_a_wrong_client_secret_exits_2_with_one_line(idp):
    done = token_command(idp, "--client", "hubei-province-system", "--secret-stdin", stdin="wrong-secret\n")
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and "invalid_client" in done.stderr


def test_dev_hs256_is_refused_in_the_oidc_mode(idp):
    done = token_command(idp, "--dev-hs256", "--role", "province", "--org", "420000")
    assert done.returncode == 2 and done.stdout == ""
    assert "AUTH_MODE=dev-hs256" in done.stderr and done.stderr.count("\n") == 1


def test_no_provider_answering_exits_2_with_one_line(idp, tmp_path):
    from services.cli.localinfra.ports import free_port

    done = token_command(idp, "--user", "sample-hubei-official", OIDC_ISSUER=f"http://127.0.0.1:{free_port()}",
                         CASEPLATFORM_DATA_DIR=str(tmp_path))
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and "no identity provider answers" in done.stderr


def test_dev_hs256_mints_in_the_development_mode_only_there(idp, tmp_path):
    env = {"AUTH_MODE": "dev-hs256", "CASEPLATFORM_DATA_DIR": str(tmp_path)}
    done = token_command(idp, "--dev-hs256", "--role", "applicant", "--org", "91420100000000001Y",
                         "--province", "420000", "--city", "420100", **env)
    assert done.returncode == 0, done.stderr
    dev = Settings.from_env({**cli_env(idp), **env})
    caller = verifier_for(dev).caller(f"Bearer {done.stdout.strip()}")
    assert (caller.role, caller.region) == ("applicant", {"province": "420000", "city": "420100"})
    refused = token_command(idp, "--user", "sample-applicant", **env)  # no provider's token in that mode
    assert refused.returncode == 2 and "dev-hs256" in refused.stderr
