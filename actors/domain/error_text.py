"""An error message as a class-wide key: the same mistake reads the same for everyone."""

from __future__ import annotations

import re

MESSAGE_CHARS = 160  # of the normalised message: one line on the overview
_ADDRESS = re.compile(r"0x[0-9a-fA-F]+")
# A number standing alone ("index 7 is out of bounds"), not part of a name ("df2").
_NUMBER = re.compile(r"(?<![\w.])[-+]?\d+(?:\.\d+)?(?![\w.])")


def normalised_error(message: str | None) -> str:
    """The part of an error message that is the same for everyone with the same mistake: its
    first line, with memory addresses and stand-alone numbers made alike."""
    first = (message or "").strip().split("\n", 1)[0]
    text = _NUMBER.sub("N", _ADDRESS.sub("0x…", " ".join(first.split())))
    return text if len(text) <= MESSAGE_CHARS else text[: MESSAGE_CHARS - 1] + "…"
