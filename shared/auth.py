"""Who is calling: signed bearer tokens with a role and an organisation.

`org` is a unit's unified social credit code (applicant, expert, evaluator) or
a GB/T 2260 region code (city, province); ministries use their own short code.
An applicant's token also carries `region` (its registered province and city),
so a case is filed where the unit is registered, not where the body says.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import jwt

from shared.errors import Forbidden, Unauthenticated

ROLES = ("applicant", "city", "province", "ministry", "expert", "evaluator", "auditor")
ALGORITHM = "HS256"
ISSUER = "caseplatform"


@dataclass(frozen=True)
class Caller:
    sub: str
    role: str
    org: str
    name: str = ""
    region: dict = field(default_factory=dict)  # applicants: {"province": ..., "city": ...}

    def as_actor(self) -> dict:
        return {"sub": self.sub, "role": self.role, "org": self.org}

    def require(self, *roles: str) -> Caller:
        if self.role not in roles:
            raise Forbidden(f"role {self.role} may not do this (allowed: {', '.join(roles)})")
        return self


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
        raise Unauthenticated(f"the token is invalid: {exc}") from None
    role, org = claims.get("role"), claims.get("org")
    if role not in ROLES or not org:
        raise Unauthenticated("the token lacks a known role or an organisation")
    return Caller(
        sub=claims["sub"], role=role, org=str(org), name=claims.get("name", ""),
        region=claims.get("region") or {},
    )
