"""The FastAPI + motor peer of the read path (bench/scaleScenario.ts).

The route the project issue compares the API with: verify the access token, load the user, answer
`{ me { id roles } }`. It does what the API does for that read and nothing the API skips, so the
two differ in their stack, not in their work:

- the token is checked as src/tokens/accessTokens.ts checks it under HS256: length and compact
  form, signature with the algorithm pinned, `iss`, `aud`, `exp` with 5 s of leeway, the `typ`
  header, and the claim types the answer depends on;
- the user is loaded whole by `_id`, one read, as mongoose's `findById` does, and must still list
  the token's session (the revocation check of `current()` in src/accounts/users.ts);
- the body is byte for byte what the API writes, refusals included (GraphQL errors, HTTP 200).

Like the bench's ceiling server it reads the request body without parsing GraphQL: the peer
stands for the least a FastAPI service does for this answer, which makes the 2x target stricter,
not looser.

Configuration from the environment of the API: JWT_SECRET, JWT_ISSUER and JWT_AUDIENCE (default
`graphql-jwt-auth`), MONGODB_URI with the database name in its path.

Run: python3 -m uvicorn fastapi_me:app --app-dir bench/peer --host 127.0.0.1 --port 4100
"""

import json
import os
import re
from typing import Optional

import jwt
import jwt.api_jwt
from bson import ObjectId
from fastapi import FastAPI, Header, Request
from fastapi.responses import Response
from motor.motor_asyncio import AsyncIOMotorClient

SECRET = os.environ["JWT_SECRET"]
ISSUER = os.environ.get("JWT_ISSUER") or "graphql-jwt-auth"
AUDIENCE = os.environ.get("JWT_AUDIENCE") or "graphql-jwt-auth"
ACCESS_TOKEN_TYPE = "at+jwt"
ROLES = {"USER", "ADMIN"}
MAX_TOKEN_LENGTH = 4096
MAX_SESSION_ID_LENGTH = 64
COMPACT_JWS = re.compile(r"^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$")
# Claims that may be absent (tokens issued before they existed) but are text when present.
OPTIONAL_TEXT = ("scope", "client_id")
BEARER = re.compile(r"^Bearer(?:\s+(.*))?$", re.IGNORECASE)

MESSAGES = {
    "MISSING_TOKEN": "You must be signed in to do this.",
    "INVALID_TOKEN": "The access token is invalid.",
    "TOKEN_EXPIRED": "The access token has expired.",
}

users = AsyncIOMotorClient(os.environ["MONGODB_URI"]).get_default_database()["users"]
app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)


class Refused(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def dumps(value: object) -> bytes:
    # Compact like JSON.stringify, with the newline Apollo Server ends its bodies with.
    return (json.dumps(value, separators=(",", ":"), ensure_ascii=False) + "\n").encode()


def refusal(reason: str) -> bytes:
    # What the API answers when the guard of `me` refuses (key order as Apollo writes it).
    return dumps(
        {
            "errors": [
                {
                    "message": MESSAGES[reason],
                    "locations": [{"line": 1, "column": 3}],
                    "path": ["me"],
                    "extensions": {"code": "UNAUTHENTICATED", "reason": reason},
                }
            ],
            "data": None,
        }
    )


def verify(authorization: Optional[str]) -> dict:
    match = BEARER.match(authorization.strip()) if authorization else None
    if not match:
        raise Refused("MISSING_TOKEN")
    token = (match.group(1) or "").strip()
    if len(token) > MAX_TOKEN_LENGTH or not COMPACT_JWS.match(token):
        raise Refused("INVALID_TOKEN")
    try:
        decoded = jwt.api_jwt.decode_complete(
            token,
            SECRET,
            algorithms=["HS256"],
            issuer=ISSUER,
            audience=AUDIENCE,
            leeway=5,
            options={"require": ["exp", "iat", "iss", "aud", "sub"]},
        )
    except jwt.ExpiredSignatureError:
        raise Refused("TOKEN_EXPIRED") from None
    except jwt.InvalidTokenError:
        raise Refused("INVALID_TOKEN") from None
    claims = decoded["payload"]
    roles = claims.get("roles")
    # RFC 8725 section 3.11: the explicit type keeps other JWTs out.
    if (
        decoded["header"].get("typ") != ACCESS_TOKEN_TYPE
        or not all(isinstance(claims.get(name), str) for name in ("sub", "sid", "jti"))
        or not all(isinstance(claims.get(name, ""), str) for name in OPTIONAL_TEXT)
        or not isinstance(claims.get("fresh"), bool)
        or not isinstance(roles, list)
        or not all(role in ROLES for role in roles)
    ):
        raise Refused("INVALID_TOKEN")
    return claims


async def current(claims: dict) -> dict:
    sub, sid = claims["sub"], claims["sid"]
    if not ObjectId.is_valid(sub) or not 0 < len(sid) <= MAX_SESSION_ID_LENGTH:
        raise Refused("INVALID_TOKEN")
    user = await users.find_one({"_id": ObjectId(sub)})
    if user is None or sid not in (user.get("sessions") or {}):
        raise Refused("INVALID_TOKEN")
    return user


@app.get("/health")
async def health() -> Response:
    return Response(b'{"status":"ok"}', media_type="application/json")


@app.post("/graphql")
async def graphql(request: Request, authorization: Optional[str] = Header(None)) -> Response:
    # Read, as any endpoint must, though the query is always `{ me { id roles } }` here.
    await request.body()
    try:
        user = await current(verify(authorization))
        body = dumps({"data": {"me": {"id": str(user["_id"]), "roles": user["roles"]}}})
    except Refused as refused:
        body = refusal(refused.reason)
    return Response(body, media_type="application/json")
