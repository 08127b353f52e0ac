"""Bearer tokens: each grants one role (ingest or instructor) on one classroom."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from fastapi import HTTPException

from actors.domain.registry import hash_token

Resolver = Callable[[str], Awaitable[tuple[str, str] | None]]


@dataclass(frozen=True)
class Caller:
    classroom_id: str
    role: str


def bearer_token(authorization: str | None) -> str:
    """The token from an `Authorization: Bearer ...` header, or 401."""
    if not authorization:
        raise HTTPException(
            401,
            "missing token: send 'Authorization: Bearer <token>'",
            headers={"WWW-Authenticate": "Bearer"},
        )
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise HTTPException(
            401,
            "malformed Authorization header: expected 'Bearer <token>'",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return token.strip()


class TokenCache:
    """Resolves tokens through the directory, caching answers briefly per replica."""

    def __init__(self, resolve: Resolver, ttl_s: float = 30.0, miss_ttl_s: float = 2.0) -> None:
        self._resolve = resolve
        self._ttl, self._miss_ttl = ttl_s, miss_ttl_s
        self._cache: dict[str, tuple[float, Caller | None]] = {}

    async def caller(self, token: str) -> Caller:
        """Who the token belongs to, or 401."""
        digest = hash_token(token)
        hit = self._cache.get(digest)
        if hit is None or hit[0] < time.monotonic():
            found = await self._resolve(digest)
            caller = Caller(*found) if found else None
            ttl = self._ttl if caller else self._miss_ttl
            if len(self._cache) > 10_000:  # random bad tokens must not grow memory forever
                self._cache.clear()
            hit = self._cache[digest] = (time.monotonic() + ttl, caller)
        if hit[1] is None:
            raise HTTPException(401, "unknown token", headers={"WWW-Authenticate": "Bearer"})
        return hit[1]


def require(caller: Caller, role: str, classroom_id: str | None = None) -> None:
    """403 unless the caller has `role` (on `classroom_id` when given)."""
    if caller.role != role:
        wanted = "the classroom's ingest token" if role == "ingest" else "an instructor token"
        raise HTTPException(
            403,
            f"this is a{'n' if caller.role[0] in 'aeiou' else ''} "
            f"{caller.role} token; this endpoint needs {wanted}",
        )
    if classroom_id is not None and caller.classroom_id != classroom_id:
        raise HTTPException(
            403, f"the token is for classroom {caller.classroom_id!r}, not {classroom_id!r}"
        )
