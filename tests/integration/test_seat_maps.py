"""Seat maps in a real PostgreSQL: the picture and the teams' places survive, per classroom."""

from __future__ import annotations

import uuid

import pytest

from actors.adapters import seat_maps
from tests.integration.test_sign_in_throttle import dsn

pytestmark = pytest.mark.integration
__all__ = ["dsn"]  # the fixture: a migrated database


def test_a_picture_and_places_are_kept_and_removed_per_classroom(dsn: str) -> None:
    room, other = f"room-{uuid.uuid4().hex[:8]}", f"room-{uuid.uuid4().hex[:8]}"
    assert seat_maps.load(dsn, room) is None
    seat_maps.save_picture(dsn, room, b"\xff\xd8first", "image/jpeg")
    seat_maps.place(dsn, room, "Team A", 0.25, 0.5)
    seat_maps.place(dsn, room, "Team A", 0.3, 0.6)  # moved
    seat_maps.place(dsn, room, "Équipe \U0001f680", 1.7, -2)  # clamped into the picture
    seat_maps.save_picture(dsn, room, b"\xff\xd8second", "image/jpeg")  # places stay
    seat_maps.save_picture(dsn, other, b"\xff\xd8other", "image/jpeg")

    seat = seat_maps.load(dsn, room)
    assert seat is not None and seat.picture == b"\xff\xd8second"
    assert seat.places == {"Team A": pytest.approx((0.3, 0.6)), "Équipe \U0001f680": (1.0, 0.0)}
    seat_maps.remove(dsn, room)
    assert seat_maps.load(dsn, room) is None
    kept = seat_maps.load(dsn, other)
    assert kept is not None and kept.picture == b"\xff\xd8other"
