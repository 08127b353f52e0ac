"""Where the class is stuck: each failing cell's students grouped by their error.

This is where a teacher decides what to explain to the whole room: "12 students: NameError:
name 'df' is not defined" on cell 4 is one explanation, not twelve visits. Cells come most
students first; each group shows the code most of them ran and a button per student.

A group's code and buttons are drawn only while its expander is open: drawn collapsed, the
syntax highlighting and ~150 buttons of a 1,000-student lecture were a third of the browser's
work before the overview first showed (BENCHMARKS.md, "Class overview render").
"""

from __future__ import annotations

import hashlib

import streamlit as st

from cellmon.views import CellErrors, ClassroomSnapshot, ErrorGroup, StudentRow
from streamlit_dashboard import display

CELLS_SHOWN = 5  # the rest are a caption: this is a glance, the heat map has every cell
NAMED = 12  # student buttons per group; more are counted


def where_stuck(snap: ClassroomSnapshot) -> None:
    """The overview's section: the cells most students are failing now."""
    st.subheader("Where the class is stuck")
    cells = snap.get("error_groups") or []
    if not cells:
        st.caption("No cell is failing for anyone right now.")
        return
    students = {s["student_id"]: s for s in snap["students"]}
    for cell in cells[:CELLS_SHOWN]:
        _cell(cell, students)
    if len(cells) > CELLS_SHOWN:
        st.caption(f"… and {len(cells) - CELLS_SHOWN} more cells with errors.")


def heading(cell: CellErrors) -> str:
    """`Cell 4 · lab1.ipynb · 12 failing`, with the path escaped."""
    where = display.md(display.text(cell["notebook_path"], "unsaved notebook"))
    n = cell["failing"]
    return f"**Cell {display.cell_number(cell['cell_index'])}** · {where} · :red[{n} failing]"


def error_line(group: ErrorGroup) -> str:
    """`12 students: NameError: name 'df' is not defined`, escaped."""
    n = len(group["students"])
    error = ": ".join(p for p in (group["error_name"], group["message"]) if p) or "an error"
    return f"**{n} student{'s' if n != 1 else ''}:** {display.md(error)}"


def details_key(cell: CellErrors, group: ErrorGroup) -> str:
    """The key of a group's expander, which holds whether it is open. Made of the cell and the
    error, not their positions: an open group stays open as groups and cells reorder."""
    error = f"{group['error_name']}::{group['message']}"
    return f"cm-stuck-open-{_tag(cell)[:16]}-{_digest(error)[:16]}"


def _tag(cell: CellErrors) -> str:
    return _digest(f"{cell['notebook_path']}::{cell['cell_id']}")


def _digest(text: str) -> str:
    return hashlib.blake2b(text.encode("utf-8", "replace")).hexdigest()


def _cell(cell: CellErrors, students: dict[str, StudentRow]) -> None:
    tag = _tag(cell)
    with st.container(border=True, key=f"cm-stuck-{tag[:16]}"):
        st.markdown(heading(cell))
        for number, group in enumerate(cell["groups"]):
            st.markdown(error_line(group))
            details = st.expander(
                "Code and students", key=details_key(cell, group), on_change="rerun"
            )
            if details.open:
                with details:
                    if group["code"]:
                        st.code(group["code"], language="python")
                    _student_buttons(group["students"], students, f"{tag[:16]}-{number}")


def _student_buttons(ids: list[str], students: dict[str, StudentRow], tag: str) -> None:
    """A button per student that opens them in place (see pages/overview.py for why)."""
    with st.container(horizontal=True):
        for sid in ids[:NAMED]:
            row = students.get(sid) or {"student_id": sid}
            if st.button(display.md(display.name(row)), key=f"stuck-{tag}-{sid}"):
                st.query_params["student"] = sid
                st.rerun(scope="app")
    if len(ids) > NAMED:
        st.caption(f"… and {len(ids) - NAMED} more.")
