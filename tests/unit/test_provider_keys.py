"""Where the verifier's keys come from: the provider's discovery document names its JWKS,
fetched when first needed and again when a token names a key not seen yet, at most once per
cooldown. The "provider" here is a few lines of http.server in this process, serving a
discovery document and a JWK Set, so each fetch can be counted; the real provider is in
tests/integration/test_token_verification.py and tests/e2e/test_tokens.py."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from shared.infra.web.errors import IdentityProviderUnavailable, Unauthenticated
from shared.infra.web.tokens import ProviderKeys, TokenVerifier, discovery


class FakeProvider:
    """Serves /.well-known/openid-configuration and /jwks; counts the JWKS fetches."""

    def __init__(self):
        self.keys: dict[str, rsa.RSAPrivateKey] = {}
        self.jwks_fetches = 0
        self.down = False
        self.claimed_issuer: str | None = None
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                if provider.down:
                    self.send_error(503)
                    return
                if self.path == "/.well-known/openid-configuration":
                    body = {"issuer": provider.claimed_issuer or provider.issuer, "jwks_uri": f"{provider.issuer}/jwks"}
                elif self.path == "/jwks":
                    provider.jwks_fetches += 1
                    body = {"keys": [provider.public_jwk(kid) for kid in provider.keys]}
                else:
                    self.send_error(404)
                    return
                data = json.dumps(body).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.issuer = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def add_key(self, kid: str) -> None:
        self.keys[kid] = rsa.generate_private_key(public_exponent=65537, key_size=2048)

    def public_jwk(self, kid: str) -> dict:
        jwk = jwt.algorithms.RSAAlgorithm.to_jwk(self.keys[kid].public_key(), as_dict=True)
        return {**jwk, "kid": kid, "alg": "RS256", "use": "sig"}

    def token(self, kid: str, **claims) -> str:
        now = int(time.time())
        payload = {"iss": self.issuer, "aud": "caseplatform", "sub": "sample-official", "role": "ministry",
                   "org": "MIIT", "iat": now, "exp": now + 300, **claims}
        return jwt.encode(payload, self.keys[kid], algorithm="RS256", headers={"kid": kid})

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def provider():
    served = FakeProvider()
    served.add_key("k1")
    yield served
    served.stop()


def verifier(provider: FakeProvider, cooldown: float = 0.2) -> TokenVerifier:
    return TokenVerifier(ProviderKeys(provider.issuer, refresh_cooldown=cooldown), issuer=provider.issuer,
                         audience="caseplatform")


def test_keys_are_fetched_when_first_needed_then_cached(provider):
    v = verifier(provider)
    assert provider.jwks_fetches == 0  # a service may start before its provider
    for _ in range(3):
        assert v.caller(f"Bearer {provider.token('k1')}").role == "ministry"
    assert provider.jwks_fetches == 1


def test_a_key_rotated_in_is_fetched_once_the_cooldown_has_passed(provider):
    v = verifier(provider, cooldown=0.2)
    v.caller(f"Bearer {provider.token('k1')}")
    provider.add_key("k2")
    time.sleep(0.3)
    assert v.caller(f"Bearer {provider.token('k2')}").role == "ministry"
    assert v.caller(f"Bearer {provider.token('k1')}").role == "ministry"  # the old key still published
    assert provider.jwks_fetches == 2


def test_unknown_key_ids_within_the_cooldown_cost_no_fetch(provider):
    v = verifier(provider, cooldown=30)
    v.caller(f"Bearer {provider.token('k1')}")
    provider.add_key("made-up")
    for _ in range(5):
        with pytest.raises(Unauthenticated, match="signed with a key the provider does not publish"):
            v.caller(f"Bearer {provider.token('made-up')}")
    assert provider.jwks_fetches == 1


def test_an_unreachable_jwks_is_a_503_for_a_new_key_but_cached_keys_still_verify(provider):
    v = verifier(provider, cooldown=0)
    v.caller(f"Bearer {provider.token('k1')}")
    provider.down = True
    assert v.caller(f"Bearer {provider.token('k1')}").role == "ministry"
    provider.add_key("k2")
    with pytest.raises(IdentityProviderUnavailable, match="the identity provider's keys cannot be fetched"):
        v.caller(f"Bearer {provider.token('k2')}")


def test_a_discovery_document_naming_another_issuer_is_refused(provider):
    provider.claimed_issuer = "https://sso.elsewhere.example"
    with pytest.raises(IdentityProviderUnavailable, match=r"is not the discovery document of .*check OIDC_ISSUER"):
        discovery(provider.issuer)
    with pytest.raises(IdentityProviderUnavailable, match="check OIDC_ISSUER"):
        verifier(provider).caller(f"Bearer {provider.token('k1')}")


def test_a_provider_that_does_not_answer_is_a_503(provider):
    issuer = provider.issuer
    provider.stop()
    with pytest.raises(IdentityProviderUnavailable, match=r"discovery document .* cannot be read"):
        discovery(issuer, timeout=2)


def test_junk_reaches_no_provider(provider):
    v = verifier(provider)
    with pytest.raises(Unauthenticated, match="not a well-formed JWT"):
        v.caller("Bearer not.a.jwt")
    assert provider.jwks_fetches == 0


def test_another_issuers_token_reaches_no_provider(provider):
    v = verifier(provider, cooldown=0)
    provider.add_key("elsewhere")
    with pytest.raises(Unauthenticated, match="it was not issued by"):
        v.caller(f"Bearer {provider.token('elsewhere', iss='https://sso.elsewhere.example')}")
    assert provider.jwks_fetches == 0
