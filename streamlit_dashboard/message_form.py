"""Messages to the class or to one student: they appear as notifications in JupyterLab.

The student's JupyterLab receives them in the ingest's answers to its own sends (an idle one
sends a heartbeat every 30 s, one with a raised hand polls every 2 s), so a message arrives
within about 30 s, at once for an active student. Drawn outside the live fragments: a rerun
every few seconds must not fight the teacher's typing.
"""

from __future__ import annotations

import streamlit as st

from cellmon.contract import MESSAGE_CHARS
from cellmon.views import ClassroomSnapshot, SentMessage
from streamlit_dashboard import data, display, ui


def message_form(cid: str, me: str, student_id: str | None, whom: str) -> None:
    """A one-line message to `student_id`, or to the whole class when None. `whom` is shown
    in a label and a toast, which read Markdown: it is escaped here."""
    whom = display.md(whom)
    key = f"msg-{student_id}" if student_id else "msg-class"
    with st.form(key, clear_on_submit=True, border=False):
        text = st.text_input(
            f"Message {whom}",
            max_chars=MESSAGE_CHARS,
            placeholder="Shown in their JupyterLab, e.g. “Pause: we look at cell 4 together”",
            key=f"{key}-text",
        )
        sent = st.form_submit_button("Send", icon="📣")
    if not sent:
        return
    if not text.strip():
        st.warning("Write a message first.")
        return
    data.send_message(cid, me, text.strip(), student_id)
    st.toast(f"Sent to {whom}. It shows in their JupyterLab within 30 s.", icon="📣")


def class_messages(cid: str, me: str) -> None:
    """The class-wide form and the latest messages sent, in an expander under the title."""
    with st.expander("📣 Message the class"):
        message_form(cid, me, None, "the whole class")
        snap = data.snapshot(cid)  # after the form: a message just sent is listed
        for message in reversed(snap["messages"][-5:]):
            st.caption(_line(message, snap))


def _line(message: SentMessage, snap: ClassroomSnapshot) -> str:
    names = {s["student_id"]: display.name(s) for s in snap["students"]}
    if message["to"] == "*":
        to = "the class"
    elif data.projecting():
        to = "one student"
    else:
        to = names.get(message["to"], message["to"])
    text = display.md(message["text"])
    return f"{ui.ago(message['at'])} · {display.md(message['from'])} → {display.md(to)}: {text}"
