"""Hypothesis strategies for valid contract events, messy the way real classes are: no names,
no teams, no cell indices, Markdown and HTML in every text, times out of order."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from hypothesis import strategies as st

from tests.unit.factories import T0, event

MESSY_TEXT = st.sampled_from(
    [
        "Ana",
        "x\n\n[Session expired, sign in](https://evil.example)",
        "**bold** _it_ `code` :red[red] $x^2$ <script>alert(1)</script> # h1",
        "チームA",
        " ",
        "\\",
        "a" * 100,
    ]
)
OPTIONAL_TEXT = st.none() | MESSY_TEXT
STUDENTS = st.sampled_from(["s1", "s2", "s3", "[s4](x)", "<b>s5</b>"])
CELLS = st.sampled_from(["c1", "c2", "c3", None])
NOTEBOOKS = st.none() | st.sampled_from(["lab1.ipynb", "lab2.ipynb", "**bold**.ipynb"])
KINDS = st.sampled_from(
    ["cell_executed"] * 4
    + ["help", "help_stop", "notebook_opened", "notebook_closed", "notebook_saved", "heartbeat"]
    + ["help_claimed", "help_resolved", "classroom_configured"]
)


@st.composite
def events(draw: Any) -> Any:
    """One valid event of any type, for any of a few students."""
    kind = draw(KINDS)
    when = T0 + timedelta(seconds=draw(st.integers(0, 3600)))
    late = timedelta(seconds=draw(st.integers(0, 600)))
    fields: dict[str, Any] = {
        "student_id": draw(STUDENTS),
        "time": when,
        "received_at": when + late,
        "notebook_path": draw(NOTEBOOKS),
        "student_name": draw(OPTIONAL_TEXT),
        "team": draw(OPTIONAL_TEXT),
    }
    if kind == "cell_executed":
        status = draw(st.sampled_from(["ok", "error", "aborted"]))
        cell_id = draw(CELLS)
        fields.update(
            status=status,
            cell_id=cell_id,
            cell_index=draw(st.none() | st.integers(0, 5)) if cell_id else draw(st.integers(0, 5)),
            code=draw(st.sampled_from(["", "print(1)", "1/0", "**x**"])),
        )
        if status == "error":
            fields.update(error_name=draw(OPTIONAL_TEXT), error_value=draw(OPTIONAL_TEXT))
    elif kind in ("help_claimed", "help_resolved"):
        fields["instructor"] = draw(st.sampled_from(["Ms. Ito", "**Dr** <i>X</i>"]))
    elif kind == "classroom_configured":
        fields.update(student_id="-", significant_errors=draw(st.integers(1, 5)))
    return event(kind, **fields)


event_lists = st.lists(events(), max_size=40)
