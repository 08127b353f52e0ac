"""The roster and token rules of a classroom, for its instructor: enroll a student (their own
token, shown once), rotate or revoke that token, require students' own tokens. No Ray here."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import HTTPException
from pydantic import AfterValidator, BaseModel, StringConstraints

from actors.runtime.client import ActorClient, ActorsUnavailable
from cellmon.validation import clean
from serve_app.auth import TokenCache, bearer_token, require
from serve_app.body import unavailable

# What an instructor types is stored as is, once it is storable (no NUL, no lone surrogate).
Storable = AfterValidator(clean)
StudentId = Annotated[
    str, Storable, StringConstraints(strip_whitespace=True, min_length=1, max_length=128)
]
Name = Annotated[str, Storable, StringConstraints(strip_whitespace=True, max_length=200)]
Team = Annotated[str, Storable, StringConstraints(strip_whitespace=True, max_length=100)]


class Enrollment(BaseModel):
    """A student to put on the roster, with the name and team the class will see."""

    student_id: StudentId
    name: Name | None = None
    team: Team | None = None


class TokenRule(BaseModel):
    """Whether the classroom refuses its classroom-wide token on every route."""

    require_student_tokens: bool


class Admin:
    """Roster and token operations, each checked against the caller's instructor token."""

    def __init__(self, actors: ActorClient, tokens: TokenCache) -> None:
        self.actors, self.tokens = actors, tokens

    async def enroll(
        self, authorization: str | None, classroom_id: str, who: Enrollment
    ) -> dict[str, Any]:
        """Put the student on the roster and issue their own token (an earlier one stops)."""
        await self._authorize(authorization, classroom_id)
        enrolled = self.actors.enroll(
            classroom_id, who.student_id, who.name or None, who.team or None
        )
        token = await self._do(enrolled)
        return {"classroom_id": classroom_id, "student_id": who.student_id, "token": token}

    async def rotate(
        self, authorization: str | None, classroom_id: str, student_id: str
    ) -> dict[str, Any]:
        """A new token for a student who holds one (the old one stops); 404 otherwise."""
        await self._authorize(authorization, classroom_id)
        rotated = self.actors.student_token(classroom_id, student_id, replace_only=True)
        token = await self._do(rotated)
        return {"classroom_id": classroom_id, "student_id": student_id, "token": token}

    async def remove(self, authorization: str | None, classroom_id: str, student_id: str) -> None:
        """Revoke the student's token and take them off the roster; their history stays."""
        await self._authorize(authorization, classroom_id)
        await self._do(self.actors.unenroll(classroom_id, student_id))

    async def set_rule(
        self, authorization: str | None, classroom_id: str, rule: TokenRule
    ) -> dict[str, Any]:
        """Require (or stop requiring) students' own tokens."""
        await self._authorize(authorization, classroom_id)
        await self._do(
            self.actors.require_student_tokens(classroom_id, rule.require_student_tokens)
        )
        return {"classroom_id": classroom_id, **rule.model_dump()}

    async def _authorize(self, authorization: str | None, classroom_id: str) -> None:
        caller = await self.tokens.caller(bearer_token(authorization))
        require(caller, "instructor", classroom_id)

    @staticmethod
    async def _do(call: Any) -> Any:
        try:
            return await call
        except LookupError as error:  # UnknownClassroom too
            raise HTTPException(404, str(error)) from None
        except ValueError as error:
            raise HTTPException(422, str(error)) from None
        except ActorsUnavailable:
            raise unavailable("the classroom's registry cannot be written right now") from None
