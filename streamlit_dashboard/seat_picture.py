"""The room picture: checked and re-encoded on upload, and drawn with the teams' markers.
Pure (Pillow, no Streamlit, no I/O).

Re-encoding bounds what is stored and shown (at most `WIDTH` pixels wide) and drops the
upload's metadata, such as a phone photo's GPS position.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

from PIL import Image, ImageDraw, ImageFont, UnidentifiedImageError

from cellmon.views import STATUSES
from streamlit_dashboard.backend import STATUS_COLORS

MAX_UPLOAD_BYTES = 8 * 1024 * 1024
MAX_PIXELS = 50_000_000  # a 50 MP phone photo; more is a decompression bomb, not a room
WIDTH = 1200
KINDS = {"PNG": "image/png", "JPEG": "image/jpeg"}
MARKER = 0.022  # the marker's radius, as a fraction of the picture's width: legible when
# the picture is shown at half a screen's width


class PictureRefused(ValueError):
    """The upload is not a usable room picture; the message says why, for the instructor."""


@dataclass(frozen=True)
class Marker:
    """A team on the map: where (0..1), its worst status, and who in it asks for help."""

    team: str
    x: float
    y: float
    status: str
    asking: tuple[str, ...] = ()


def prepare(upload: bytes) -> bytes:
    """A PNG or JPEG upload as a JPEG at most `WIDTH` wide, or PictureRefused."""
    if len(upload) > MAX_UPLOAD_BYTES:
        raise PictureRefused(f"the picture is over {MAX_UPLOAD_BYTES // 2**20} MB")
    try:
        with Image.open(io.BytesIO(upload)) as probe:
            kind, (width, height) = probe.format, probe.size
            if kind not in KINDS:
                raise PictureRefused("only PNG and JPEG pictures can be used")
            if width * height > MAX_PIXELS:
                raise PictureRefused(f"the picture has over {MAX_PIXELS // 1_000_000} megapixels")
            probe.thumbnail((WIDTH, WIDTH * 4))
            picture = probe.convert("RGB")
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError) as error:
        raise PictureRefused(f"the file is not a readable PNG or JPEG picture ({error})") from None
    out = io.BytesIO()
    picture.save(out, format="JPEG", quality=85)
    return out.getvalue()


def worst_status(by_status: dict[str, int]) -> str:
    """The most urgent status any member has (red help, orange stuck, yellow error, green
    active, grey idle)."""
    return next((s for s in STATUSES if by_status.get(s, 0) > 0), "idle")


def marked(picture: bytes, markers: list[Marker]) -> bytes:
    """The picture with each team's marker in its status colour and its name beside it."""
    with Image.open(io.BytesIO(picture)) as source:
        image = source.convert("RGB")
    draw = ImageDraw.Draw(image)
    radius = max(8, round(image.width * MARKER))
    font = ImageFont.load_default(size=round(radius * 1.3))
    for m in markers:
        cx, cy = m.x * (image.width - 1), m.y * (image.height - 1)
        box = (cx - radius, cy - radius, cx + radius, cy + radius)
        fill = STATUS_COLORS.get(m.status, STATUS_COLORS["idle"])
        draw.ellipse(box, fill=fill, outline="white", width=max(2, radius // 6))
        label = f"{m.team} · {len(m.asking)} asking" if m.asking else m.team
        at = (cx + radius * 1.3, cy)
        draw.text(
            at, label, fill="black", font=font, anchor="lm", stroke_width=3, stroke_fill="white"
        )
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()
