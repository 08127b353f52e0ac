"""Seat maps in PostgreSQL: a classroom's room picture and each team's place on it.

Kept beside the accounts rather than in the actors: a seat map is the instructor's layout, not
something students' events change, and every dashboard process shares it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from actors.adapters.pg import with_connection


@dataclass(frozen=True)
class SeatMap:
    """The room picture (as stored: re-encoded, bounded) and team -> (x, y) in 0..1."""

    picture: bytes
    mime: str
    places: dict[str, tuple[float, float]] = field(default_factory=dict)


def fraction(value: float) -> float:
    """A place on the picture, kept inside it (0..1, as the table's check requires)."""
    return min(max(value, 0.0), 1.0)


def load(dsn: str, classroom_id: str) -> SeatMap | None:
    """The classroom's seat map, or None when no picture was uploaded."""

    async def call(connection: Any) -> SeatMap | None:
        row = await connection.fetchrow(
            "SELECT picture, mime FROM seat_maps WHERE classroom_id = $1", classroom_id
        )
        if row is None:
            return None
        places = await connection.fetch(
            "SELECT team, x, y FROM seat_positions WHERE classroom_id = $1", classroom_id
        )
        return SeatMap(
            bytes(row["picture"]), row["mime"], {p["team"]: (p["x"], p["y"]) for p in places}
        )

    return with_connection(dsn, call)


def save_picture(dsn: str, classroom_id: str, picture: bytes, mime: str) -> None:
    """Store (or replace) the room picture; teams keep their places."""
    _execute(
        dsn,
        "INSERT INTO seat_maps (classroom_id, picture, mime) VALUES ($1, $2, $3)"
        " ON CONFLICT (classroom_id) DO UPDATE SET picture = excluded.picture,"
        " mime = excluded.mime, updated_at = now()",
        classroom_id,
        picture,
        mime,
    )


def place(dsn: str, classroom_id: str, team: str, x: float, y: float) -> None:
    """Put a team's marker at (x, y), fractions of the picture's width and height."""
    _execute(
        dsn,
        "INSERT INTO seat_positions (classroom_id, team, x, y) VALUES ($1, $2, $3, $4)"
        " ON CONFLICT (classroom_id, team) DO UPDATE SET x = excluded.x, y = excluded.y",
        classroom_id,
        team,
        fraction(x),
        fraction(y),
    )


def remove(dsn: str, classroom_id: str) -> None:
    """Forget the picture and every place: the overview shows the team grid again."""

    async def call(connection: Any) -> None:
        async with connection.transaction():
            await connection.execute(
                "DELETE FROM seat_positions WHERE classroom_id = $1", classroom_id
            )
            await connection.execute("DELETE FROM seat_maps WHERE classroom_id = $1", classroom_id)

    with_connection(dsn, call)


def _execute(dsn: str, query: str, *args: Any) -> None:
    async def call(connection: Any) -> None:
        await connection.execute(query, *args)

    with_connection(dsn, call)
