"""Who is calling: bearer tokens an OpenID Connect provider signed, verified here.

The services hold no key that can sign a user's token: they take the provider's public
keys from its JWKS (found through its discovery document, cached, fetched again when a
token names a key they have not seen, so a rotation at the provider is followed without a
restart) and check issuer, audience, algorithm, expiry within a bounded clock skew, and a
maximum lifetime. PyJWT does the JOSE work.

Role, organisation, name and a unit's region come from claims whose names are settings
(`OIDC_ROLE_CLAIM`, ...), so a ministry's own provider can be mapped without code: a
dotted name reaches into an object (`realm_access.roles`), and a role claim that is a list
(Keycloak's realm roles) must hold exactly one of the platform's roles.

`org` is a unit's unified social credit code (applicant, expert, evaluator), a GB/T 2260
region code (city, province), a ministry's own short code, or `caseplatform` for the
platform's timers (role `system`). An applicant's token carries `region` (its province
and city), so a case is filed where the token says, never where the body says.

HS256 with a shared secret survives only as the development mode `AUTH_MODE=dev-hs256`,
never the default and refused by the compose deployment.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from typing import Any, Protocol

import jwt
import requests

from shared.domain.access import MACHINE_ROLES, Caller
from shared.infra.web.errors import IdentityProviderUnavailable, Unauthenticated

log = logging.getLogger(__name__)

# What OpenID Connect providers sign with: RSA, P-256 and Ed25519. Never HMAC (a key the
# services would have to hold) and never `none`.
ASYMMETRIC = ("RS256", "ES256", "EdDSA")
DEV_ALGORITHM = "HS256"
DEV_ISSUER = "caseplatform-dev-hs256"


@dataclass(frozen=True)
class ClaimNames:
    role: str = "role"
    org: str = "org"
    region: str = "region"
    name: str = "name"
    email: str = "email"  # OpenID Connect's own: the profile's address, where notices reach the person


class KeySource(Protocol):
    def key_for(self, token: str) -> Any:
        """The key that verifies `token` (raises Unauthenticated or IdentityProviderUnavailable)."""


def discovery(issuer: str, timeout: float = 5.0) -> dict:
    """The provider's OpenID Connect discovery document (where its keys and endpoints are)."""
    url = issuer.rstrip("/") + "/.well-known/openid-configuration"
    try:
        response = requests.get(url, timeout=timeout)
        response.raise_for_status()
        document = response.json()
    except (requests.RequestException, ValueError) as exc:
        raise IdentityProviderUnavailable(f"the identity provider's discovery document {url} cannot be read ({exc})") \
            from None
    # OpenID Connect Discovery §4.3: the document must name the issuer it was asked for.
    if not isinstance(document, dict) or document.get("issuer") != issuer:
        raise IdentityProviderUnavailable(f"{url} is not the discovery document of {issuer}: check OIDC_ISSUER")
    return document


def _jwks_uri(document: dict) -> str:
    uri = document.get("jwks_uri")
    if not isinstance(uri, str):
        raise IdentityProviderUnavailable(f"the discovery document of {document.get('issuer')} names no jwks_uri")
    return uri


class ProviderKeys:
    """The provider's public keys: its discovery document names its JWKS, fetched when first
    needed (a service may start before its provider) and again when a token names an
    unknown `kid`, at most once every `refresh_cooldown` seconds so that tokens with made-up
    key ids cannot turn each request into a fetch from the provider."""

    def __init__(self, issuer: str, *, jwks_url: str = "", refresh_cooldown: float = 10.0,
                 cache_seconds: float = 300.0, timeout: float = 5.0):
        self.issuer = issuer
        self.jwks_url = jwks_url
        self.refresh_cooldown = refresh_cooldown
        self.cache_seconds = cache_seconds
        self.timeout = timeout
        self._client: jwt.PyJWKClient | None = None
        self._lock = threading.Lock()

    def client(self) -> jwt.PyJWKClient:
        with self._lock:
            if self._client is None:
                jwks_url = self.jwks_url or _jwks_uri(discovery(self.issuer, self.timeout))
                self._client = jwt.PyJWKClient(jwks_url, cache_jwk_set=True, lifespan=self.cache_seconds,
                                               timeout=self.timeout, cooldown_duration=self.refresh_cooldown)
            return self._client

    def key_for(self, token: str) -> Any:
        try:
            return self.client().get_signing_key_from_jwt(token)
        except jwt.PyJWKClientConnectionError as exc:
            raise IdentityProviderUnavailable(f"the identity provider's keys cannot be fetched ({exc})") from None
        except jwt.PyJWKClientError as exc:
            raise Unauthenticated(f"the token is invalid: it is signed with a key the provider does not publish "
                                  f"({exc})") from None
        except jwt.PyJWKError as exc:
            raise IdentityProviderUnavailable(f"the identity provider publishes a key that cannot be used ({exc})") \
                from None


class SharedSecret:
    """The development mode's one key (AUTH_MODE=dev-hs256): whoever has it can mint tokens."""

    def __init__(self, secret: str):
        self.secret = secret

    def key_for(self, token: str) -> Any:
        return jwt.PyJWK({"kty": "oct", "k": jwt.utils.base64url_encode(self.secret.encode()).decode(),
                          "alg": DEV_ALGORITHM})


def _claim(claims: dict, dotted: str) -> Any:
    value: Any = claims
    for part in dotted.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


def _why(exc: jwt.InvalidTokenError, verifier: TokenVerifier) -> str:
    """What is wrong with a refused token, in words an integrator can act on."""
    if isinstance(exc, jwt.InvalidSignatureError):
        return "its signature does not match its content (another key signed it, or it was altered)"
    if isinstance(exc, jwt.MissingRequiredClaimError):
        return f"it lacks the required {exc.claim!r} claim"
    if isinstance(exc, jwt.InvalidIssuerError):
        return f"it was not issued by {verifier.issuer}"
    if isinstance(exc, jwt.InvalidAudienceError):
        return f"it is not meant for this platform (audience {verifier.audience!r})"
    if isinstance(exc, jwt.ImmatureSignatureError):
        return f"it is not valid yet ({exc}): check the clocks of the provider and this server"
    if isinstance(exc, jwt.DecodeError):
        return f"it is not a well-formed JWT ({exc})"
    return str(exc)


class TokenVerifier:
    """Turns an Authorization header into a Caller, or refuses it with 401 saying why."""

    def __init__(self, keys: KeySource, *, issuer: str, audience: str, algorithms: tuple[str, ...] = ASYMMETRIC,
                 max_lifetime: int = 900, leeway: int = 30, claims: ClaimNames = ClaimNames()):
        self.keys = keys
        self.issuer = issuer
        self.audience = audience
        self.algorithms = algorithms
        self.max_lifetime = max_lifetime
        self.leeway = leeway
        self.claims = claims

    def caller(self, authorization: str | None) -> Caller:
        if not authorization:
            raise Unauthenticated("this endpoint needs a bearer token (Authorization: Bearer <token>)")
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthenticated("the Authorization header must be 'Bearer <token>'")
        return self.caller_from_claims(self.verified_claims(token.strip()))

    def verified_claims(self, token: str) -> dict:
        # Read unverified before any key is looked up, so that junk and other issuers' tokens
        # cost no fetch from the provider (and a payload that is not JSON is a 401, not an
        # error inside PyJWKClient). The verified claims decide below.
        try:
            algorithm = jwt.get_unverified_header(token).get("alg")
        except jwt.DecodeError as exc:
            raise Unauthenticated(f"the token is invalid: it is not a well-formed JWT ({exc})") from None
        if algorithm not in self.algorithms:
            raise Unauthenticated(f"the token is invalid: it is signed with {algorithm!r}; "
                                  f"accepted: {', '.join(self.algorithms)}")
        try:
            unverified = jwt.decode(token, options={"verify_signature": False})
        except jwt.InvalidTokenError as exc:
            raise Unauthenticated(f"the token is invalid: {_why(exc, self)}") from None
        if "iss" in unverified and unverified["iss"] != self.issuer:
            raise Unauthenticated(f"the token is invalid: it was not issued by {self.issuer}")
        key = self.keys.key_for(token)
        if getattr(key, "algorithm_name", algorithm) != algorithm:
            # A key published for one algorithm never verifies another (RFC 8725 §3.1).
            raise Unauthenticated(f"the token is invalid: it names {algorithm} but its key is for "
                                  f"{key.algorithm_name}")
        try:
            claims = jwt.decode(
                token, key.key, algorithms=[algorithm], issuer=self.issuer, audience=self.audience,
                leeway=self.leeway, options={"require": ["exp", "iat", "sub", "iss", "aud"]},
            )
        except jwt.ExpiredSignatureError:
            raise Unauthenticated("the token has expired") from None
        except jwt.InvalidTokenError as exc:
            raise Unauthenticated(f"the token is invalid: {_why(exc, self)}") from None
        lifetime = claims["exp"] - claims["iat"]
        if not isinstance(lifetime, (int, float)) or lifetime > self.max_lifetime:
            raise Unauthenticated(f"the token is invalid: it lives {lifetime} s, more than the {self.max_lifetime} s "
                                  "this platform accepts; ask the provider for short-lived access tokens")
        return claims

    def caller_from_claims(self, claims: dict) -> Caller:
        names = self.claims
        role = _claim(claims, names.role)
        if isinstance(role, list):  # e.g. Keycloak's realm roles: one of them is the platform's
            ours = [r for r in role if r in MACHINE_ROLES]
            role = ours[0] if len(ours) == 1 else None
        org = _claim(claims, names.org)
        if not isinstance(role, str) or role not in MACHINE_ROLES or not isinstance(org, str) or not org.strip():
            raise Unauthenticated(f"the token lacks a known role (one of {', '.join(MACHINE_ROLES)}) in its "
                                  f"{names.role!r} claim or an organisation in its {names.org!r} claim")
        # Signed claims are still input: a shape the code does not expect must not reach it.
        name, region = _claim(claims, names.name) or "", _claim(claims, names.region) or {}
        if not isinstance(name, str):
            raise Unauthenticated(f"the token's {names.name!r} claim is not text")
        if not isinstance(region, dict) or not all(isinstance(v, (str, type(None))) for v in region.values()):
            raise Unauthenticated(f"the token's {names.region!r} claim is not {{\"province\": code, \"city\": code}}")
        email = _claim(claims, names.email) or ""
        if not isinstance(email, str):
            raise Unauthenticated(f"the token's {names.email!r} claim is not text")
        if claims.get("email_verified") is False:
            email = ""  # an address the provider says is not the person's: never written to
        return Caller(sub=claims["sub"], role=role, org=org, name=name, region=region, email=email.strip())


def mint_dev_token(
    secret: str, *, sub: str, role: str, org: str, name: str = "", region: dict | None = None,
    ttl_seconds: int = 900, now: float | None = None, audience: str = "caseplatform",
) -> str:
    """A token for the development mode only (AUTH_MODE=dev-hs256): signed with the secret
    every service of that mode holds. No deployment runs that mode."""
    if role not in MACHINE_ROLES:
        raise ValueError(f"role must be one of {', '.join(MACHINE_ROLES)}")
    issued = int(now if now is not None else time.time())
    claims = {"iss": DEV_ISSUER, "aud": audience, "sub": sub, "role": role, "org": org, "name": name,
              "iat": issued, "exp": issued + ttl_seconds}
    if region:
        claims["region"] = region
    return jwt.encode(claims, secret, algorithm=DEV_ALGORITHM)
