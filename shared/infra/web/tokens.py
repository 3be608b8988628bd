"""Who is calling: signed bearer tokens with a role and an organisation.

`org` is a unit's unified social credit code (applicant, expert, evaluator) or
a GB/T 2260 region code (city, province); ministries use their own short code.
An applicant's token also carries `region` (its registered province and city),
so a case is filed where the unit is registered, not where the body says.
"""

from __future__ import annotations

import time

import jwt

from shared.domain.access import ROLES, Caller
from shared.infra.web.errors import Unauthenticated

ALGORITHM = "HS256"
ISSUER = "caseplatform"


def mint_token(
    secret: str, *, sub: str, role: str, org: str, name: str = "",
    region: dict | None = None, ttl_seconds: int = 8 * 3600, now: float | None = None,
) -> str:
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}")
    issued = int(now if now is not None else time.time())
    claims = {
        "iss": ISSUER, "sub": sub, "role": role, "org": org, "name": name,
        "iat": issued, "exp": issued + ttl_seconds,
    }
    if region:
        claims["region"] = region
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


def _why(exc: jwt.InvalidTokenError) -> str:
    """What is wrong with a refused token, in words an integrator can act on."""
    if isinstance(exc, jwt.InvalidAlgorithmError):
        return f"it is not signed with {ALGORITHM}, the only algorithm accepted ({exc})"
    if isinstance(exc, jwt.InvalidSignatureError):
        return "its signature does not match its content (another key signed it, or it was altered)"
    if isinstance(exc, jwt.MissingRequiredClaimError):
        return f"it lacks the required {exc.claim!r} claim"
    if isinstance(exc, jwt.InvalidIssuerError):
        return f"it was not issued by {ISSUER}"
    if isinstance(exc, jwt.DecodeError):
        return f"it is not a well-formed JWT ({exc})"
    return str(exc)


def caller_from_header(secret: str, authorization: str | None) -> Caller:
    if not authorization:
        raise Unauthenticated("this endpoint needs a bearer token (Authorization: Bearer <token>)")
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated("the Authorization header must be 'Bearer <token>'")
    try:
        # algorithms is fixed: a token that names another one (or 'none') is refused.
        claims = jwt.decode(
            token.strip(), secret, algorithms=[ALGORITHM], issuer=ISSUER,
            options={"require": ["exp", "iat", "sub", "iss"]},
        )
    except jwt.ExpiredSignatureError:
        raise Unauthenticated("the token has expired") from None
    except jwt.InvalidTokenError as exc:
        raise Unauthenticated(f"the token is invalid: {_why(exc)}") from None
    role, org = claims.get("role"), claims.get("org")
    if not isinstance(role, str) or role not in ROLES or not isinstance(org, str) or not org.strip():
        raise Unauthenticated(f"the token lacks a known role (one of {', '.join(ROLES)}) or an organisation")
    # Signed claims are still input: a shape the code does not expect must not reach it.
    name, region = claims.get("name", ""), claims.get("region") or {}
    if not isinstance(name, str):
        raise Unauthenticated("the token's name claim is not text")
    if not isinstance(region, dict) or not all(isinstance(v, (str, type(None))) for v in region.values()):
        raise Unauthenticated("the token's region claim is not {\"province\": code, \"city\": code}")
    return Caller(sub=claims["sub"], role=role, org=org, name=name, region=region)
