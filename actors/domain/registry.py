"""Classrooms, their tokens and their shard placement. Pure: the Directory actor wraps it."""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from typing import Literal

Role = Literal["ingest", "instructor"]
_PREFIX: dict[Role, str] = {"ingest": "cmi_", "instructor": "cmr_"}
_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")


def hash_token(token: str) -> str:
    """Tokens are stored and compared only as SHA-256 digests."""
    return hashlib.sha256(token.encode()).hexdigest()


def slug(name: str) -> str:
    """A classroom id from its display name: "Intro to Python" -> "intro-to-python"."""
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:64] or "classroom"


@dataclass(frozen=True)
class Classroom:
    classroom_id: str
    name: str
    shard: int


@dataclass(frozen=True)
class Grant:
    """What a token allows: one role on one classroom."""

    classroom_id: str
    role: Role


class ClassroomRegistry:
    """Creates classrooms with a write-only student token and a read token for instructors."""

    def __init__(self) -> None:
        self.classrooms: dict[str, Classroom] = {}
        self._grants: dict[str, Grant] = {}

    def create(self, name: str, classroom_id: str | None, shard: int) -> dict[str, str]:
        """Register a classroom on `shard`; returns its id and both tokens (shown once)."""
        classroom_id = classroom_id or slug(name)
        if not _ID.match(classroom_id):
            raise ValueError(
                f"classroom id {classroom_id!r} must be lowercase letters, digits, "
                "'-' or '_' (at most 64)"
            )
        if classroom_id in self.classrooms:
            raise ValueError(f"classroom {classroom_id!r} already exists")
        self.classrooms[classroom_id] = Classroom(classroom_id, name, shard)
        tokens = {role: self.issue(classroom_id, role) for role in _PREFIX}
        return {
            "classroom_id": classroom_id,
            "name": name,
            "ingest_token": tokens["ingest"],
            "instructor_token": tokens["instructor"],
        }

    def issue(self, classroom_id: str, role: Role) -> str:
        """A new token for the classroom and role."""
        token = _PREFIX[role] + secrets.token_urlsafe(24)
        self._grants[hash_token(token)] = Grant(classroom_id, role)
        return token

    def resolve(self, token_hash: str) -> Grant | None:
        """The grant behind a token digest, if any."""
        return self._grants.get(token_hash)

    def rotate(self, classroom_id: str) -> dict[str, str]:
        """New tokens for the classroom; the old ones stop working."""
        if classroom_id not in self.classrooms:
            raise ValueError(f"no classroom {classroom_id!r}")
        for digest in list(self.grants_of(classroom_id)):
            del self._grants[digest]
        return {f"{role}_token": self.issue(classroom_id, role) for role in _PREFIX}

    def grants_of(self, classroom_id: str) -> dict[str, str]:
        """Token digest -> role for one classroom, for persisting."""
        return {d: g.role for d, g in self._grants.items() if g.classroom_id == classroom_id}

    def forget(self, classroom_id: str) -> None:
        """Undo a `create` that could not be persisted."""
        self.classrooms.pop(classroom_id, None)
        for digest in list(self.grants_of(classroom_id)):
            del self._grants[digest]

    def restore(
        self, classrooms: list[tuple[str, str, int]], grants: dict[str, tuple[str, str]]
    ) -> None:
        """Load what a store kept."""
        for classroom_id, name, shard in classrooms:
            self.classrooms[classroom_id] = Classroom(classroom_id, name, shard)
        for digest, (classroom_id, role) in grants.items():
            self._grants[digest] = Grant(classroom_id, role)  # type: ignore[arg-type]

    def load_per_shard(self, shards: int) -> list[int]:
        """How many classrooms each shard hosts."""
        counts = [0] * max(shards, 1 + max((c.shard for c in self.classrooms.values()), default=0))
        for classroom in self.classrooms.values():
            counts[classroom.shard] += 1
        return counts
