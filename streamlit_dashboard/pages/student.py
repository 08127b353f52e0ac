"""Student detail: pick any student of the class by name (a ?student= URL opens one)."""

from __future__ import annotations

from streamlit_dashboard import session, student_view

room = session.classroom()
me = session.instructor_in_tab() or {"name": "?"}
student_view.show(room, me["name"], back=False)
