"""Classrooms, their tokens and their shard placement. Pure: the Directory actor wraps it.

Every change is planned first (`Change`: token digests to drop, grants to add), persisted by
the directory, and only then applied here: if the store cannot be written, the old tokens
keep working and the caller gets the error.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass, field, replace
from typing import Literal

from cellmon.limits import RETENTION_DAYS_MAX

# ingest: the classroom-wide student token (the legacy extension's one URL); student: one
# student's own token; instructor: reads the class and manages its roster.
Role = Literal["ingest", "instructor", "student"]
_PREFIX: dict[Role, str] = {"ingest": "cmi_", "instructor": "cmr_", "student": "cms_"}
_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
_STUDENT_ID_CHARS = 128


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
    # When on, the classroom-wide ingest token is refused: every student uses their own.
    require_student_tokens: bool = False
    # Days a logged event is kept (from when it was received); None: for good.
    retention_days: int | None = None


@dataclass(frozen=True)
class Grant:
    """What a token allows: one role on one classroom (as one student, for a student token)."""

    classroom_id: str
    role: Role
    student_id: str | None = None


@dataclass(frozen=True)
class Resolved:
    """A token's grant, with its classroom's rule on classroom-wide tokens."""

    grant: Grant
    require_student_tokens: bool


@dataclass(frozen=True)
class Change:
    """Token digests to drop and grants to add, persisted together before they take effect."""

    classroom_id: str
    dropped: tuple[str, ...] = ()
    added: dict[str, Grant] = field(default_factory=dict)


def _issue(role: Role) -> tuple[str, str]:
    token = _PREFIX[role] + secrets.token_urlsafe(24)
    return token, hash_token(token)


class ClassroomRegistry:
    """Creates classrooms with a classroom-wide student token and an instructor token, and
    issues, rotates and revokes each student's own token."""

    def __init__(self) -> None:
        self.classrooms: dict[str, Classroom] = {}
        self._grants: dict[str, Grant] = {}

    def plan_create(
        self, name: str, classroom_id: str | None, shard: int, require_student_tokens: bool
    ) -> tuple[Classroom, Change, dict[str, str]]:
        """A new classroom, its grants, and its two tokens (shown once); ValueError if the id
        is malformed or taken."""
        classroom_id = classroom_id or slug(name)
        if not _ID.match(classroom_id):
            raise ValueError(
                f"classroom id {classroom_id!r} must be lowercase letters, digits, "
                "'-' or '_' (at most 64)"
            )
        if classroom_id in self.classrooms:
            raise ValueError(f"classroom {classroom_id!r} already exists")
        classroom = Classroom(classroom_id, name, shard, require_student_tokens)
        change, tokens = self._classroom_tokens(classroom_id, dropped=())
        return classroom, change, tokens

    def plan_rotate(self, classroom_id: str) -> tuple[Change, dict[str, str]]:
        """New classroom-wide ingest and instructor tokens; students' own tokens stay."""
        self._known(classroom_id)
        old = tuple(
            d
            for d, g in self._grants.items()
            if g.classroom_id == classroom_id and not g.student_id
        )
        return self._classroom_tokens(classroom_id, dropped=old)

    def plan_student_token(self, classroom_id: str, student_id: str) -> tuple[Change, str]:
        """A new token for one student; any earlier token of theirs stops working."""
        self._known(classroom_id)
        if (
            not student_id
            or len(student_id) > _STUDENT_ID_CHARS
            or student_id != student_id.strip()
        ):
            raise ValueError(f"a student id is 1 to {_STUDENT_ID_CHARS} characters, no edge spaces")
        token, digest = _issue("student")
        grant = Grant(classroom_id, "student", student_id)
        return Change(
            classroom_id, self._student_digests(classroom_id, student_id), {digest: grant}
        ), token

    def plan_revoke(self, classroom_id: str, student_id: str) -> Change:
        """Drop the student's own token (their history stays)."""
        self._known(classroom_id)
        return Change(classroom_id, self._student_digests(classroom_id, student_id))

    def add(self, classroom: Classroom) -> None:
        """Register a classroom whose grants are applied separately."""
        self.classrooms[classroom.classroom_id] = classroom

    def apply(self, change: Change) -> None:
        """Make a persisted change take effect."""
        for digest in change.dropped:
            self._grants.pop(digest, None)
        self._grants.update(change.added)

    def set_require_student_tokens(self, classroom_id: str, required: bool) -> Classroom:
        """The classroom with the setting changed (the caller persists it first)."""
        return replace(self._known(classroom_id), require_student_tokens=required)

    def set_retention(self, classroom_id: str, days: int | None) -> Classroom:
        """The classroom with its retention changed (the caller persists it first)."""
        if days is not None and not 1 <= days <= RETENTION_DAYS_MAX:
            raise ValueError(
                f"retention must be 1 to {RETENTION_DAYS_MAX:,} days (or none), not {days:,}"
            )
        return replace(self._known(classroom_id), retention_days=days)

    def resolve(self, token_hash: str) -> Grant | None:
        """The grant behind a token digest, if any."""
        return self._grants.get(token_hash)

    def has_student_token(self, classroom_id: str, student_id: str) -> bool:
        """Whether the student holds a token of their own in this classroom."""
        return bool(self._student_digests(classroom_id, student_id))

    def restore(self, classrooms: list[Classroom], grants: dict[str, Grant]) -> None:
        """Load what a store kept."""
        self.classrooms.update({c.classroom_id: c for c in classrooms})
        self._grants.update(grants)

    def load_per_shard(self, shards: int) -> list[int]:
        """How many classrooms each shard hosts."""
        counts = [0] * max(shards, 1 + max((c.shard for c in self.classrooms.values()), default=0))
        for classroom in self.classrooms.values():
            counts[classroom.shard] += 1
        return counts

    def _classroom_tokens(
        self, classroom_id: str, dropped: tuple[str, ...]
    ) -> tuple[Change, dict[str, str]]:
        (ingest, ingest_digest), (read, read_digest) = _issue("ingest"), _issue("instructor")
        added = {
            ingest_digest: Grant(classroom_id, "ingest"),
            read_digest: Grant(classroom_id, "instructor"),
        }
        return Change(classroom_id, dropped, added), {
            "ingest_token": ingest,
            "instructor_token": read,
        }

    def _student_digests(self, classroom_id: str, student_id: str) -> tuple[str, ...]:
        return tuple(
            d
            for d, g in self._grants.items()
            if g.classroom_id == classroom_id and g.student_id == student_id
        )

    def _known(self, classroom_id: str) -> Classroom:
        found = self.classrooms.get(classroom_id)
        if found is None:
            raise LookupError(f"no classroom {classroom_id!r}")
        return found
