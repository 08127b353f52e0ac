"""Every dashboard page renders under AppTest, without an exception and with every student's
text escaped, for any state the actors' real pure code produces from valid events."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
import streamlit as st
from hypothesis import HealthCheck, Phase, given, settings
from pydantic import TypeAdapter
from streamlit.testing.v1 import AppTest

from cellmon.contract import Event
from streamlit_dashboard import data, display, roster, ui
from tests.unit.class_states import CID, EMAIL, FORBIDDEN, HOSTILE, NAME, NOW, ActorBackend, classes

pytestmark = pytest.mark.unit

APP = str(Path(__file__).resolve().parents[2] / "streamlit_dashboard" / "app.py")
PAGES = ("pages/overview.py", "pages/student.py", "pages/settings.py")


@contextmanager
def serving(backend: ActorBackend) -> Iterator[None]:
    """The dashboard's data module reads this backend, with empty caches."""
    st.cache_data.clear()
    with mock.patch.object(data, "backend", lambda: backend):
        yield
    st.cache_data.clear()


def shown_text(at: AppTest) -> list[str]:
    """The source of everything rendered as Markdown or HTML, and the metric labels."""
    kinds = ("markdown", "caption", "title", "subheader", "error", "warning", "info", "toast")
    return [e.value for kind in kinds for e in at.get(kind)] + [m.label for m in at.metric]


def check(at: AppTest) -> AppTest:
    """No exception on the page, and no student text that Markdown or HTML would act on."""
    assert not at.exception, at.exception
    for text in shown_text(at):
        assert not [f for f in FORBIDDEN if f in text], text
    return at


def overview() -> AppTest:
    """A signed-in tab on the class overview."""
    at = AppTest.from_file(APP, default_timeout=60)
    at.session_state["instructor"] = {"email": EMAIL, "name": NAME}
    at.session_state["session_token"] = data.backend().open_session(EMAIL)
    return check(at.run())


def render_every_page(backend: ActorBackend) -> AppTest:
    """Overview, Student detail, Settings, the overview with a student open in place, and the
    first help request claimed and resolved."""
    at = overview()
    for page in PAGES[1:]:
        check(at.switch_page(page).run())
    snap = backend.snapshot(CID)
    if snap["students"]:
        at.query_params["student"] = snap["students"][-1]["student_id"]
        check(at.switch_page(PAGES[0]).run())
        at.query_params.pop("student")
    if snap["help_queue"]:  # work the first request from the queue
        first = snap["help_queue"][0]
        check(at.switch_page(PAGES[0]).run())
        if not first["claimed_by"]:
            check(at.button(key=f"claim-{first['student_id']}").click().run())
        check(at.button(key=f"resolve-{first['student_id']}").click().run())
    return at


def alert_poll(classroom_id: str) -> None:
    """The sidebar's alert poll alone (AppTest reruns only the page under st.navigation)."""
    from streamlit_dashboard import live

    live.help_alerts(classroom_id)


@settings(
    max_examples=10,  # each example renders every page: about 3 s
    deadline=None,
    # No shrinking: at seconds per example it would outlast the tier's 300 s timeout; a
    # failure is reported with its (unshrunk) example.
    phases=(Phase.explicit, Phase.reuse, Phase.generate),
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(classes())
def test_every_page_renders_for_any_state_of_the_actors(events: tuple[list[Any], ...]) -> None:
    before, after = events
    backend = ActorBackend()
    backend.apply(before)
    with serving(backend):
        tab = AppTest.from_function(alert_poll, args=(CID,), default_timeout=30)
        tab.session_state["instructor"] = {"email": EMAIL, "name": NAME}  # a signed-in tab
        tab.session_state["session_token"] = backend.open_session(EMAIL)
        tab.run()
        backend.apply(after)  # hands raised while the tab is open: a toast names them
        check(tab.run())
        render_every_page(backend)


_EVENT: TypeAdapter[Any] = TypeAdapter(Event)


def lecture_event(i: int) -> Any:
    """Student i of a 10,000 lecture: a third without a name, half without a team or cell
    index, some hostile names, every fifth failing, one in a hundred asking for help."""
    names = (None, f"Student {i}", HOSTILE[i // 3 % len(HOSTILE)])
    common = {
        "event_id": f"e{i}",
        "classroom_id": CID,
        "student_id": f"u{i:05d}",
        "time": NOW,
        "student_name": names[i % 3],
        "team": f"Team {i % 200}" if i % 2 else None,
        "notebook_path": "lab.ipynb",
    }
    if i % 100 == 7:
        return _EVENT.validate_python({**common, "type": "help"})
    return _EVENT.validate_python(
        {
            **common,
            "type": "cell_executed",
            "cell_id": f"cell-{i % 40}",
            "cell_index": i % 40 if i % 2 else None,
            "status": "error" if i % 5 == 0 else "ok",
            "error_name": "ValueError" if i % 5 == 0 else None,
        }
    )


def test_every_page_renders_for_a_lecture_of_10000() -> None:
    backend = ActorBackend()
    for start in range(0, 10_000, 500):
        backend.apply([lecture_event(i) for i in range(start, start + 500)])
    with serving(backend):
        at = render_every_page(backend)
        at.switch_page(PAGES[0]).run()
    assert at.metric[0].value == "10.0k"
    assert len(at.dataframe[0].value) == roster.PAGE_SIZE
    (help_bar,) = [m.value for m in at.markdown if "cm-banner cm-help" in m.value]
    assert "Help needed (99)" in help_bar and "and 59 more" in help_bar  # one was resolved
    assert display.md(HOSTILE[0]) in "".join(m.value for m in at.markdown)
    cards = next(m.value for m in at.markdown if "cm-teams" in m.value)
    assert cards.count('class="cm-chip') <= 24 * (ui.CHIPS_PER_CARD + 1) + 5


def plain_lab_event(kind: str, n: int, **fields: Any) -> Any:
    """What a plain JupyterLab sends: an id, no name, no team, no cell index."""
    common = {"event_id": f"lab-{n}", "classroom_id": CID, "student_id": "jlab-7", "time": NOW}
    return _EVENT.validate_python({**common, "type": kind, **fields})


def test_a_hand_raised_without_a_name_shows_the_id_in_banner_and_toast() -> None:
    backend = ActorBackend()
    backend.apply([plain_lab_event("cell_executed", 1, cell_id="c-1", status="error")])
    with serving(backend):
        tab = AppTest.from_function(alert_poll, args=(CID,), default_timeout=30)
        tab.session_state["instructor"] = {"email": EMAIL, "name": NAME}  # a signed-in tab
        tab.session_state["session_token"] = backend.open_session(EMAIL)
        tab.run()
        backend.apply([plain_lab_event("help", 2)])
        check(tab.run())
        assert display.md("jlab-7") in tab.toast[0].value
        at = overview()
    (help_bar,) = [m.value for m in at.markdown if "cm-banner cm-help" in m.value]
    assert "<b>jlab&#45;7</b>" in help_bar
    assert at.dataframe[0].value["Name"].tolist() == ["jlab-7"]
