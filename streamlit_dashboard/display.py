"""What the dashboard shows for student-controlled values. Pure, no Streamlit.

A real JupyterLab student has no display name or team and sends no cell index, so every such
field may be None: the fallbacks live here. And names, teams, paths and errors are the
student's own text: `md` makes any of it literal wherever it meets Markdown or HTML.
"""

from __future__ import annotations

import re
import string
from collections.abc import Mapping
from typing import Any

BLANK = "—"
NO_TEAM = "no team"
UNKNOWN = "?"
MAX_INDEX = 2**53  # the largest integer a browser's number holds exactly
# Every ASCII punctuation character as a numeric character reference. CommonMark reads a
# reference as literal text, never as syntax (no emphasis, link, code span, autolink, HTML
# tag); HTML decodes it back to the character; and Streamlit's own extensions (:red[...]
# directives, $...$ LaTeX, :emoji: and :material/...: shortcodes) look for the raw characters.
_REFERENCES = {ord(c): f"&#{ord(c)};" for c in string.punctuation}
# Two of Streamlit's Markdown steps work on the decoded text after parsing: GFM's autolinks
# (http://, www., name@host) and :emoji: shortcodes. An invisible word joiner after every ":"
# and "@", and inside "www.", leaves no such pattern to find.
JOINER = "\u2060"
_UNLINKED = re.compile(r"(?<=[:@])|(?i:(?<=www)(?=\.))")
_KEPT_FORMAT = {"\u200c", "\u200d"}  # zero-width (non-)joiners hold emoji and scripts together


def clean(value: object) -> str:
    """One line of visible text: line breaks, controls and bidi overrides become spaces."""
    if value is None:
        return ""
    text = str(value)
    if not text.isprintable():
        text = "".join(c if c.isprintable() or c in _KEPT_FORMAT else " " for c in text)
    return " ".join(text.split())


def md(value: object) -> str:
    """Text that renders literally in st.markdown (with or without HTML), captions, toasts,
    metric labels and raw HTML alike: the one escape for student-controlled text."""
    return _UNLINKED.sub(JOINER, clean(value)).translate(_REFERENCES)


def text(value: object, blank: str = BLANK) -> str:
    """An optional value as text, or a neutral placeholder."""
    return clean(value) or blank


def name(row: Mapping[str, Any]) -> str:
    """A student's display name: their name, else their id."""
    return clean(row.get("name")) or clean(row.get("student_id")) or UNKNOWN


def team(row: Mapping[str, Any]) -> str:
    """A student's team, or "no team"."""
    return clean(row.get("team")) or NO_TEAM


def cell_position(index: object) -> int | None:
    """The 1-based cell number people read; None when the index is unknown (JupyterLab sends
    none) or beyond what a table or a chart can hold."""
    if isinstance(index, int) and not isinstance(index, bool) and 0 <= index < MAX_INDEX:
        return index + 1
    return None


def cell_number(index: object) -> str:
    """`cell_position` as text, with a placeholder."""
    position = cell_position(index)
    return BLANK if position is None else str(position)


def sort_key(value: object) -> str:
    """A case-insensitive key that never compares None with text."""
    return clean(value).casefold()
