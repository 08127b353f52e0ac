"""Bearer tokens: each grants one role on one classroom: a student's own token (student), the
classroom-wide student token (ingest) or an instructor token (instructor)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from cachetools import TTLCache
from fastapi import HTTPException

from actors.domain.registry import Resolved, hash_token

Resolver = Callable[[str], Awaitable[Resolved | None]]


@dataclass(frozen=True)
class Caller:
    """Who a token speaks for."""

    classroom_id: str
    role: str
    student_id: str | None = None
    require_student_tokens: bool = False

    @classmethod
    def of(cls, found: Resolved) -> Caller:
        """The caller behind a resolved token."""
        grant = found.grant
        return cls(grant.classroom_id, grant.role, grant.student_id, found.require_student_tokens)


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
    """Resolves tokens through the directory, caching answers briefly per replica.

    Known and unknown tokens are cached apart, each bounded with least-recently-used
    eviction: a flood of random tokens only evicts other unknown ones, never a class's own.
    A revoked or rotated token stops working within `ttl_s`."""

    def __init__(
        self, resolve: Resolver, ttl_s: float = 30.0, miss_ttl_s: float = 2.0, size: int = 10_000
    ) -> None:
        self._resolve = resolve
        self._known: TTLCache[str, Caller] = TTLCache(maxsize=size, ttl=ttl_s)
        self._unknown: TTLCache[str, None] = TTLCache(maxsize=size, ttl=miss_ttl_s)

    async def caller(self, token: str) -> Caller:
        """Who the token belongs to, or 401."""
        digest = hash_token(token)
        caller = self._known.get(digest)
        if caller is None and digest not in self._unknown:
            found = await self._resolve(digest)
            if found:
                caller = self._known[digest] = Caller.of(found)
            else:
                self._unknown[digest] = None
        if caller is None:
            raise HTTPException(401, "unknown token", headers={"WWW-Authenticate": "Bearer"})
        return caller


_WANTED = {
    "ingest": "a student's token",
    "student": "a student's token",
    "instructor": "an instructor token",
}


def require_sender(caller: Caller) -> None:
    """403 unless the token may send events: a student's own token, or the classroom-wide one
    where the classroom has not required students' own tokens."""
    if caller.role == "student":
        return
    if caller.role != "ingest":
        raise HTTPException(
            403, f"this is an {caller.role} token; sending events needs a student's token"
        )
    if caller.require_student_tokens:
        raise HTTPException(
            403,
            "this classroom requires each student's own token; the classroom-wide token is "
            "refused (ask your instructor for yours)",
        )


def require(caller: Caller, role: str, classroom_id: str | None = None) -> None:
    """403 unless the caller has `role` (on `classroom_id` when given)."""
    if caller.role != role:
        raise HTTPException(
            403,
            f"this is a{'n' if caller.role[0] in 'aeiou' else ''} "
            f"{caller.role} token; this endpoint needs {_WANTED[role]}",
        )
    if classroom_id is not None and caller.classroom_id != classroom_id:
        raise HTTPException(
            403, f"the token is for classroom {caller.classroom_id!r}, not {classroom_id!r}"
        )
