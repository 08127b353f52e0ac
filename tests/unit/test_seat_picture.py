"""The room picture: what uploads are refused, what is stored, and the markers' colours."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from streamlit_dashboard import seat_picture
from streamlit_dashboard.backend import STATUS_COLORS
from streamlit_dashboard.seat_picture import Marker, PictureRefused, marked, prepare, worst_status

pytestmark = pytest.mark.unit


def picture(kind: str = "PNG", size: tuple[int, int] = (1600, 1000), **save: object) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, "#e8e4d8").save(out, format=kind, **save)
    return out.getvalue()


def opened(data: bytes) -> Image.Image:
    return Image.open(io.BytesIO(data))


def test_a_photo_is_stored_as_a_bounded_jpeg_without_its_metadata() -> None:
    exif = Image.Exif()
    exif[0x8825] = {2: (48, 51, 0)}  # GPSInfo: where the photo was taken
    stored = opened(prepare(picture("JPEG", exif=exif.tobytes())))
    assert (stored.format, stored.size) == ("JPEG", (1200, 750))
    assert not stored.getexif()


def test_a_small_png_keeps_its_size() -> None:
    assert opened(prepare(picture("PNG", (640, 480)))).size == (640, 480)


@pytest.mark.parametrize(
    ("upload", "why"),
    [
        (b"not a picture", "not a readable PNG or JPEG"),
        (picture("GIF", (10, 10)), "only PNG and JPEG"),
        (picture("PNG")[:200], "not a readable PNG or JPEG"),  # truncated
        (b"\x89PNG" + b"\0" * (9 * 2**20), "over 8 MB"),
    ],
)
def test_what_is_not_a_room_picture_is_refused_with_a_reason(upload: bytes, why: str) -> None:
    with pytest.raises(PictureRefused, match=why):
        prepare(upload)


def test_a_decompression_bomb_is_refused_before_it_is_decoded(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(seat_picture, "MAX_PIXELS", 100)
    with pytest.raises(PictureRefused, match="megapixels"):
        prepare(picture("PNG", (20, 20)))


@pytest.mark.parametrize(
    ("by_status", "worst"),
    [
        ({"idle": 3, "help": 1, "active": 2}, "help"),
        ({"error": 1, "significant_error": 1}, "significant_error"),
        ({"active": 1, "error": 0}, "active"),
        ({}, "idle"),
    ],
)
def test_a_team_takes_its_most_urgent_status(by_status: dict[str, int], worst: str) -> None:
    assert worst_status(by_status) == worst


def test_markers_are_drawn_in_their_status_colour_where_they_were_placed() -> None:
    room = prepare(picture("PNG", (1000, 500)))
    shown = marked(room, [Marker("A", 0.25, 0.5, "help", ("Ana",)), Marker("B", 0.75, 0.5, "idle")])
    image = opened(shown).convert("RGB")
    red, grey = (STATUS_COLORS[s].lstrip("#") for s in ("help", "idle"))
    assert image.getpixel((250, 250)) == tuple(bytes.fromhex(red))
    assert image.getpixel((749, 250)) == tuple(bytes.fromhex(grey))
    assert image.getpixel((500, 100)) != tuple(bytes.fromhex(red)), "the room stays as it was"
