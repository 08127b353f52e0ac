"""A short generated alert tone, so the help alert needs no audio asset."""

from __future__ import annotations

import io
import math
import struct
import wave
from functools import cache

RATE = 16_000


@cache
def beep_wav(freqs: tuple[int, ...] = (880, 1320), tone_s: float = 0.15) -> bytes:
    """Two quick rising tones as 16-bit mono WAV bytes (about 10 kB)."""
    frames = bytearray()
    for freq in freqs:
        n = int(RATE * tone_s)
        for i in range(n):
            fade = min(1.0, i / 200, (n - i) / 200)  # no clicks at the edges
            sample = 0.5 * fade * math.sin(2 * math.pi * freq * i / RATE)
            frames += struct.pack("<h", int(sample * 32767))
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes(bytes(frames))
    return buf.getvalue()
