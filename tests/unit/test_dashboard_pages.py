"""Every dashboard page, driven through AppTest against simulated classes (the real pure
actors, fed by the class simulator)."""

from __future__ import annotations

import io
import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import streamlit as st
from PIL import Image
from streamlit.testing.v1 import AppTest

from actors.adapters.accounts import NoInstructorAccount
from streamlit_dashboard import data, display, projection, roster, seat_picture, stuck_cells
from streamlit_dashboard.alert_watch import BEEP_MOUNTED_S
from streamlit_dashboard.backend_sim import SimulatedBackend, SimulatedRoom
from tests.support.waiting import wait_until

pytestmark = pytest.mark.unit

APP = str(Path(__file__).resolve().parents[2] / "streamlit_dashboard" / "app.py")
EMAIL, PASSWORD, NAME = "teacher@example.edu", "cellmon", "Dr. Grace Teacher"
PAGES = ["pages/overview.py", "pages/student.py", "pages/settings.py"]


@pytest.fixture(autouse=True)
def fake(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """A fresh fake backend and empty caches for each test."""
    monkeypatch.setenv("CELLMON_DASHBOARD_FAKE", "1")
    monkeypatch.delenv("CELLMON_DASHBOARD_FAKE_HAND_FILE", raising=False)
    st.cache_resource.clear()
    st.cache_data.clear()
    yield
    st.cache_resource.clear()
    st.cache_data.clear()


def fake_backend() -> SimulatedBackend:
    """The backend instance the app under test is using."""
    backend = data.backend()
    assert isinstance(backend, SimulatedBackend)
    return backend


def calm_student() -> dict[str, str]:
    """A student of ds101 who is not asking for help."""
    rows = fake_backend().snapshot("ds101")["students"]
    row = next(r for r in rows if r["status"] != "help")
    return {"student_id": row["student_id"], "name": display.name(row)}


def sign_in(email: str = EMAIL, password: str = PASSWORD, classroom: str = "") -> AppTest:
    """Open the app (optionally at ?classroom=) and submit the login form."""
    at = AppTest.from_file(APP, default_timeout=30)
    if classroom:
        at.query_params["classroom"] = classroom
    at.run()
    at.text_input(key="login_email").input(email)
    at.text_input(key="login_password").input(password)
    return at.button[0].click().run()


def banners(at: AppTest, kind: str) -> list[str]:
    """Text of the coloured bars of one kind (help, stuck, calm)."""
    return [m.value for m in at.markdown if f"cm-banner cm-{kind}" in m.value]


def test_login_rejects_wrong_password() -> None:
    at = sign_in(password="nope")
    assert not at.exception
    assert "Wrong email or password" in at.error[0].value
    assert "instructor" not in at.session_state


def test_login_accepts_the_fake_instructor() -> None:
    at = sign_in()
    assert not at.exception
    assert at.session_state["instructor"]["name"] == NAME
    assert at.title[0].value.endswith("Data Science 101")


@pytest.mark.parametrize("page", PAGES)
def test_every_page_renders_after_login(page: str) -> None:
    at = sign_in().switch_page(page).run()
    assert not at.exception, at.exception
    assert "Data Science 101" in at.title[0].value


def test_picker_lists_only_the_instructors_classrooms() -> None:
    at = sign_in("ta@example.edu")
    assert at.selectbox(key="classroom_id").options == ["Data Science 101"]
    at = sign_in()
    assert "Someone else's class" not in at.selectbox(key="classroom_id").options


def test_overview_banner_names_every_help_requester() -> None:
    at = sign_in()
    expected = [h["name"] for h in SimulatedBackend().snapshot("ds101")["help_queue"]]
    assert len(expected) >= 2
    (banner,) = banners(at, "help")
    assert all(display.md(name) in banner for name in expected)
    assert banners(at, "stuck"), "the fake has students over the error threshold"
    assert at.metric[0].value == "30"


def test_claim_calls_backend_and_shows_claimed_by() -> None:
    at = sign_in()
    first = fake_backend().snapshot("ds101")["help_queue"][0]["student_id"]
    at.button(key=f"claim-{first}").click().run()
    assert ("claim_help", "ds101", first, NAME) in fake_backend().calls
    assert at.button(key=f"claim-{first}").disabled
    assert any(f"claimed by **{display.md(NAME)}**" in m.value for m in at.markdown)


def test_resolve_removes_the_request_from_banner_and_queue() -> None:
    at = sign_in()
    entry = fake_backend().snapshot("ds101")["help_queue"][0]
    at.button(key=f"resolve-{entry['student_id']}").click().run()
    assert ("resolve_help", "ds101", entry["student_id"], NAME) in fake_backend().calls
    assert display.md(entry["name"]) not in banners(at, "help")[0]
    assert not [b for b in at.button if b.key == f"claim-{entry['student_id']}"]


def _alert_poll() -> None:
    # The sidebar's alert poll on its own: AppTest reruns only the page under st.navigation,
    # never app.py's sidebar, so the poll is driven here and the page in the browser tests.
    from streamlit_dashboard import live

    live.help_alerts("ds101")


def test_new_help_request_is_named_at_once_then_beeps_with_the_redraw() -> None:
    at = AppTest.from_function(_alert_poll, default_timeout=30)
    at.session_state["instructor"] = {"email": EMAIL, "name": NAME}  # a signed-in tab
    at.session_state["session_token"] = fake_backend().open_session(EMAIL)
    at.run()
    assert not at.get("audio"), "requests that were already open must not beep"
    calm = calm_student()
    fake_backend().raise_help("ds101", calm["student_id"])
    at.run()
    assert display.md(calm["name"]) in at.toast[0].value, "named by the tick that finds it"
    assert not at.get("audio"), "the beep comes with the redraw"
    at.run()  # the next tick redraws the page; the redraw's run beeps and names the hand again
    assert len(at.get("audio")) == 1 and display.md(calm["name"]) in at.toast[0].value
    assert not at.run().toast, "no more toasts for that hand"
    # The beep stays mounted BEEP_MOUNTED_S, then unmounts, and the same alert never beeps again.
    wait_until(lambda: not at.run().get("audio"), BEEP_MOUNTED_S + 10, "the beep to unmount")
    assert not at.run().get("audio")


def test_a_raised_hand_is_in_the_banner_on_the_next_render() -> None:
    at = sign_in()
    calm = calm_student()
    fake_backend().raise_help("ds101", calm["student_id"])
    newest = max(a["id"] for a in fake_backend().alerts("ds101", 0))
    data.hands_seen_up_to("ds101", newest)  # what the alert poll does before it redraws the page
    assert display.md(calm["name"]) in banners(at.run(), "help")[0]


def test_tabs_that_see_the_same_hand_share_one_read_of_the_class(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    reads: list[str] = []
    backend = fake_backend()
    read = backend.snapshot
    monkeypatch.setattr(backend, "snapshot", lambda cid: reads.append(cid) or read(cid))
    data.snapshot("ds101"), data.snapshot("ds101")
    assert len(reads) == 1, "within the TTL, one read for every tab"
    for _tab in range(10):  # ten tabs see hand 7, each then redraws
        data.hands_seen_up_to("ds101", 7)
        data.snapshot("ds101")
    assert len(reads) == 2, "the first tab to see the hand reads afresh; the others share it"
    data.hands_seen_up_to("ds101", 5)  # a tab still behind the others
    data.snapshot("ds101")
    assert len(reads) == 2


def test_big_class_shows_at_most_one_page_of_students() -> None:
    at = sign_in(classroom="lecture")
    assert not at.exception
    assert at.metric[0].value == "1,000"
    table = at.dataframe[0].value
    assert len(table) == roster.PAGE_SIZE
    assert any("of 1,000" in c.value for c in at.caption)


def test_students_filter_by_status_and_name() -> None:
    at = sign_in()
    at.multiselect(key="f_status").select("help").run()
    assert set(at.dataframe[0].value["Status"]) == {"Help"}
    at.multiselect(key="f_status").unselect("help").run()
    at.text_input(key="f_name").input("okafor").run()
    assert list(at.dataframe[0].value["Name"]) == ["Amara Okafor"]


def test_student_detail_shows_code_error_and_history() -> None:
    at = sign_in().switch_page("pages/student.py").run()
    helper = fake_backend().snapshot("ds101")["help_queue"][0]
    at.selectbox(key="detail_student").select(helper["student_id"]).run()
    assert not at.exception
    assert helper["name"] in at.markdown[1].value or any(
        helper["name"] in m.value for m in at.markdown
    )
    assert at.code[0].value, "latest code"
    assert "Error" in at.code[1].value, "latest error"
    assert at.button(key="d-claim")


def test_student_page_opens_the_student_named_in_the_url() -> None:
    helper = fake_backend().snapshot("ds101")["help_queue"][0]
    at = sign_in()
    at.query_params["student"] = helper["student_id"]  # a clicked row, or a bookmark
    at.switch_page("pages/student.py").run()
    assert at.selectbox(key="detail_student").value == helper["student_id"]
    assert any(helper["name"] in m.value for m in at.markdown)


def test_overview_opens_the_student_in_the_url_in_place_and_goes_back() -> None:
    helper = fake_backend().snapshot("ds101")["help_queue"][0]
    at = sign_in()
    at.text_input(key="f_name").input("okafor").run()
    at.query_params["student"] = helper["student_id"]  # what a clicked row sets, or a bookmark
    at.run()
    assert not at.exception
    assert at.title[0].value.startswith("🧑‍🎓 Student detail")
    assert at.selectbox(key="detail_student").value == helper["student_id"]
    assert at.code[0].value and not at.metric[0].label.endswith("Students")
    at.button(key="back_to_class").click().run()
    assert "student" not in at.query_params
    assert at.metric[0].value == "30", "the class again"
    assert list(at.dataframe[0].value["Name"]) == ["Amara Okafor"], "the search was kept"


def test_the_search_comes_back_even_when_streamlit_dropped_it_meanwhile() -> None:
    # A late tick of the live panel's timer, run after a student opened in place of the class,
    # drops the panel's undrawn widgets: here, as that cleanup leaves the state.
    helper = fake_backend().snapshot("ds101")["help_queue"][0]
    at = sign_in()
    at.text_input(key="f_name").input("okafor").run()
    at.query_params["student"] = helper["student_id"]
    at.run()
    del at.session_state["f_name"]
    at.button(key="back_to_class").click().run()
    assert not at.exception, at.exception
    assert list(at.dataframe[0].value["Name"]) == ["Amara Okafor"], "the search came back"


def test_settings_saves_threshold_and_rotates_tokens() -> None:
    at = sign_in().switch_page("pages/settings.py").run()
    at.number_input(key="threshold_value").set_value(5)
    next(b for b in at.button if b.label == "Save").click().run()
    assert fake_backend().snapshot("ds101")["significant_error_threshold"] == 5
    at.checkbox(key="rotate_sure").check().run()
    at.button(key="rotate").click().run()
    tokens = [c.value for c in at.code]
    assert any(t.startswith("cmi_") for t in tokens) and any(t.startswith("cmr_") for t in tokens)
    assert "shown only once" in at.warning[0].value
    assert len(at.run().code) == 2, "a redraw (say, for a help alert) keeps them on screen"
    at.button(key="rotated_done").click().run()
    assert not at.code, "gone once the instructor says they are copied"


def _sign_out_page() -> None:
    # What app.py does first on every run; AppTest reruns only the page under st.navigation,
    # never app.py itself, so the sign-out is driven here (the browser tests click the link).
    import streamlit as st

    from streamlit_dashboard import session

    session.sign_out_if_asked()
    st.write(f"signed in: {session.instructor_in_tab() is not None}")


def log_out(at: AppTest) -> AppTest:
    """Follow the sidebar's "Log out" link (?logout=1) with this tab's state."""
    assert any("?logout=1" in m.value and "Log out" in m.value for m in at.sidebar.markdown)
    tab = AppTest.from_function(_sign_out_page, default_timeout=30)
    for key in at.session_state:
        tab.session_state[key] = at.session_state[key]
    tab.query_params["logout"] = "1"
    tab.run()
    assert not tab.exception, tab.exception
    assert tab.markdown[0].value == "signed in: False"
    assert "logout" not in tab.query_params, "a bookmark of the sign-in page does not sign out"
    return tab


def test_logout_forgets_the_tab_and_ends_the_session() -> None:
    at = sign_in()
    token = at.session_state["session_token"]
    assert token.startswith("cmd_") and fake_backend().resume_session(token) is not None
    at.session_state["rotated_tokens:ds101"] = {"ingest_token": "ing_x"}  # as Settings keeps them
    tab = log_out(at)
    assert "instructor" not in tab.session_state
    assert "rotated_tokens:ds101" not in tab.session_state, "the next person must not see them"
    assert fake_backend().resume_session(token) is None, "the session ends on the server"
    # The cookie is cleared by a script in the browser: tests/browser/test_dashboard_live.py.


def test_fake_path_does_not_import_ray() -> None:
    # In a fresh interpreter: other tiers of the same pytest run import the Ray backend.
    import subprocess
    import sys

    probe = (
        "import sys; from streamlit_dashboard import data; data.backend.__wrapped__()"
        " if hasattr(data.backend, '__wrapped__') else data.backend();"
        " print('ray' in sys.modules, 'streamlit_dashboard.backend_ray' in sys.modules)"
    )
    env = {**os.environ, "CELLMON_DASHBOARD_FAKE": "1"}
    result = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=True,
    )
    assert result.stdout.split()[-2:] == ["False", "False"]


def test_settings_enrolls_a_student_and_offers_their_token_for_download() -> None:
    at = sign_in().switch_page("pages/settings.py").run()
    at.text_input(key="enroll_id").input("new.student@example.edu")
    at.text_input(key="enroll_name").input("New *Student*")
    next(b for b in at.button if b.label == "Add and issue a token").click().run()
    assert ("enroll", "ds101", "new.student@example.edu") in fake_backend().calls
    issued = at.dataframe[-1].value
    assert list(issued["student_id"]) == ["new.student@example.edu"]
    assert issued["token"][0].startswith("cms_")
    assert at.get("download_button"), "the tokens can be downloaded as CSV"
    assert len(at.run().dataframe[-1].value) == 1, "a redraw keeps them until confirmed"
    roster = at.dataframe[0].value  # the enrolled students, with the roster's name
    assert "New *Student*" in list(roster["Name"])
    at.button(key="issued_done").click().run()
    assert "issued_tokens:ds101" not in at.session_state


def test_settings_turns_on_students_own_tokens_and_removes_a_student() -> None:
    fake_backend().enroll("ds101", "ana@example.edu", "Ana", None)
    at = sign_in().switch_page("pages/settings.py").run()
    at.toggle(key="own_tokens_only:ds101").set_value(True).run()
    assert fake_backend().requires_student_tokens("ds101")
    at.selectbox(key="roster_pick").select("ana@example.edu").run()
    at.button(key="roster_remove").click().run()
    assert ("remove_student", "ds101", "ana@example.edu") in fake_backend().calls
    rows = {r["student_id"]: r for r in fake_backend().snapshot("ds101")["students"]}
    assert rows["ana@example.edu"]["enrolled"] is False


def test_settings_keeps_events_for_a_period_and_forgets_a_student_once_confirmed() -> None:
    at = sign_in().switch_page("pages/settings.py").run()
    at.number_input(key="retention_days").set_value(180)
    next(b for b in at.button if b.label == "Save retention").click().run()
    assert fake_backend().retention_days("ds101") == 180
    assert "Kept:** 180 days" in " ".join(m.value for m in at.markdown)

    victim = fake_backend().snapshot("ds101")["students"][0]["student_id"]
    forget = next(b for b in at.button if b.label == "Forget this student")
    at.selectbox(key="forget_pick").select(victim)
    at.text_input(key="forget_confirm").input("not-their-id")
    forget.click().run()
    assert "does not match" in at.error[0].value
    assert ("forget_student", "ds101", victim) not in fake_backend().calls
    at.selectbox(key="forget_pick").select(victim)
    at.text_input(key="forget_confirm").input(victim)
    next(b for b in at.button if b.label == "Forget this student").click().run()
    assert not at.exception, at.exception
    assert ("forget_student", "ds101", victim) in fake_backend().calls
    assert "Forgotten:" in at.success[-1].value
    left = fake_backend().snapshot("ds101")["students"]
    assert victim not in {row["student_id"] for row in left} and len(left) == 29


def test_the_students_list_says_whose_events_are_unverified() -> None:
    at = sign_in()
    identity = set(at.dataframe[0].value["Identity"])
    assert identity == {"unverified"}, "the simulated class sends under the classroom's token"


def stuck_class() -> None:
    """ds101 as five nameless, teamless JupyterLab students (no cell index) failing one cell
    two ways."""
    backend = fake_backend()
    room = backend._rooms["ds101"] = SimulatedRoom("ds101", backend.t0)
    errors = {"NameError": "name 'df' is not defined", "ValueError": "<b>bad</b> [x](http://e)"}
    for i, name in enumerate(["NameError"] * 3 + ["ValueError"] * 2):
        room.instruct(
            {
                "type": "cell_executed",
                "student_id": f"jovyan-{i}",
                "notebook_path": "lab1.ipynb",
                "cell_id": "load-data",
                "status": "error",
                "error_name": name,
                "error_value": errors[name],
                "code": f"{name.lower()}_code()",
            }
        )


def test_the_overview_groups_the_students_failing_a_cell_by_error() -> None:
    stuck_class()
    at = sign_in()
    assert not at.exception, at.exception
    assert "Where the class is stuck" in [s.value for s in at.subheader]
    [cell] = fake_backend().snapshot("ds101")["error_groups"]
    assert stuck_cells.heading(cell).startswith("**Cell —** · lab1")  # JupyterLab sent no index
    assert stuck_cells.heading(cell) in [m.value for m in at.markdown]
    lines = [m.value for m in at.markdown if "student" in m.value and ":**" in m.value]
    assert lines == [stuck_cells.error_line(g) for g in cell["groups"]]
    assert lines[0].startswith("**3 students:** NameError") and lines[1].startswith("**2 students:")
    assert "<b>" not in lines[1] and "](" not in lines[1], "the student's text stays literal"
    assert not at.code and not stuck_buttons(at), "drawn only once its group is opened"
    open_error_groups(at)
    assert [c.value for c in at.code][:2] == ["nameerror_code()", "valueerror_code()"]
    assert len(stuck_buttons(at)) == 5


def stuck_buttons(at: AppTest) -> list[Any]:
    return [b for b in at.button if b.key and b.key.startswith("stuck-")]


def open_error_groups(at: AppTest) -> None:
    """Open every group of the overview's first stuck cell, as a click on each expander does."""
    [cell] = fake_backend().snapshot("ds101")["error_groups"]
    for group in cell["groups"]:
        at.session_state[stuck_cells.details_key(cell, group)] = True
    at.run()
    assert not at.exception, at.exception


def test_a_student_in_an_error_group_opens_in_place() -> None:
    stuck_class()
    at = sign_in()
    open_error_groups(at)
    button = next(b for b in at.button if b.key and b.key.endswith("-jovyan-4"))
    assert button.label == display.md("jovyan-4"), "no name: the id, escaped"
    button.click().run()
    assert not at.exception, at.exception
    assert at.query_params["student"] == "jovyan-4"
    assert at.selectbox(key="detail_student").value == "jovyan-4"


def test_resolve_error_on_a_stuck_student_clears_the_flag() -> None:
    rows = fake_backend().snapshot("ds101")["students"]
    stuck = [s for s in rows if s["status"] == "significant_error"]
    at = sign_in()
    at.query_params["student"] = stuck[0]["student_id"]
    at.run()
    assert any("errors in a row" in w.value for w in at.warning)
    at.button(key="d-resolve-errors").click().run()
    assert not at.exception, at.exception
    assert ("resolve_errors", "ds101", stuck[0]["student_id"], NAME) in fake_backend().calls
    assert not any("errors in a row" in w.value for w in at.warning)
    assert any(f"resolved by {display.md(NAME)}" in c.value for c in at.caption)
    at.button(key="back_to_class").click().run()
    assert [b for b in banners(at, "stuck") if f"{len(stuck) - 1:,} stuck" in b] or (
        len(stuck) == 1 and not banners(at, "stuck")
    )


def test_projector_mode_shows_pseudonyms_and_no_code_anywhere() -> None:
    stuck_class()
    backend = fake_backend()
    backend.room("ds101").instruct(
        {
            "type": "roster_updated",
            "student_id": "jovyan-0",
            "enrolled": True,
            "roster_name": "Ada Lovelace",
        }
    )
    backend.raise_help("ds101", "jovyan-0")
    at = sign_in()
    assert any("Ada Lovelace" in m.value for m in at.markdown), "named while not projecting"
    at.toggle(key="projection_toggle").set_value(True).run()
    assert not at.exception, at.exception
    open_error_groups(at)
    assert stuck_buttons(at) and not [b for b in stuck_buttons(at) if "jovyan" in b.label]
    alias = projection.pseudonym("ds101", "jovyan-0")
    shown = [m.value for m in at.markdown] + [c.value for c in at.caption]
    table = at.dataframe[0].value
    assert not [t for t in shown if "Ada Lovelace" in t or "jovyan" in t]
    assert not [n for n in table["Name"] if "Ada" in n or "jovyan" in n]
    assert alias in table["Name"].tolist() and any(alias in b for b in banners(at, "help"))
    assert not at.code, "no student's code on the projector"
    at.query_params["student"] = "jovyan-0"
    at.run()
    assert not at.exception, at.exception
    assert not at.code, [c.value for c in at.code]
    assert any("Hidden in projector mode" in c.value for c in at.caption)
    assert not [m.value for m in at.markdown if "Ada" in m.value or "jovyan" in m.value]


def send(at: AppTest, key: str, text: str) -> AppTest:
    """Type a message in the form `key` and press its Send button."""
    at.text_input(key=f"{key}-text").input(text)
    return next(b for b in at.button if b.label == "Send" and key in str(b.form_id)).click().run()


def test_a_message_to_the_class_is_sent_and_listed() -> None:
    stuck_class()  # nameless, teamless students
    at = send(sign_in(), "msg-class", "  Pause: we look at cell 4 together  ")
    assert not at.exception, at.exception
    sent = ("send_message", "ds101", "*", NAME, "Pause: we look at cell 4 together")
    assert sent in fake_backend().calls
    listed = f"→ the class: {display.md('Pause: we look at cell 4 together')}"
    assert any(listed in c.value for c in at.caption), [c.value for c in at.caption]


def test_an_empty_message_is_not_sent() -> None:
    at = send(sign_in(), "msg-class", "   ")
    assert any("Write a message first" in w.value for w in at.warning)
    assert not [c for c in fake_backend().calls if c[0] == "send_message"]


def test_a_message_to_one_student_from_their_detail() -> None:
    stuck_class()
    at = sign_in()
    at.query_params["student"] = "jovyan-1"
    at.run()
    at = send(at, "msg-jovyan-1", "Check line 3 of load-data")
    assert not at.exception, at.exception
    sent = ("send_message", "ds101", "jovyan-1", NAME, "Check line 3 of load-data")
    assert sent in fake_backend().calls
    at.button(key="back_to_class").click().run()
    text = display.md("Check line 3 of load-data")
    assert any(f"→ {display.md('jovyan-1')}: {text}" in c.value for c in at.caption)


def test_projector_mode_hides_private_messages_and_their_form() -> None:
    stuck_class()
    fake_backend().send_message("ds101", NAME, "Check line 3", "jovyan-1")
    at = sign_in()
    at.toggle(key="projection_toggle").set_value(True).run()
    assert any(f"→ one student: {display.md('Check line 3')}" in c.value for c in at.caption)
    assert not [c.value for c in at.caption if "jovyan" in c.value]
    at.query_params["student"] = "jovyan-1"
    at.run()
    assert not at.exception, at.exception
    assert not [t for t in at.text_input if t.key == "msg-jovyan-1-text"], "not on a projector"


def _session_check() -> None:
    import streamlit as st

    from streamlit_dashboard import session

    st.write(f"signed in: {session.still_signed_in()}")


def test_signing_out_in_one_tab_signs_out_the_others_on_their_next_check() -> None:
    # AppTest reruns only the page, never app.py, which checks on every run: the check alone
    # here; tests/browser/test_dashboard_fake.py signs out one tab and acts in another.
    first = sign_in()
    other = AppTest.from_function(_session_check, default_timeout=30)
    other.session_state["instructor"] = first.session_state["instructor"]
    other.session_state["session_token"] = first.session_state["session_token"]
    assert other.run().markdown[0].value == "signed in: True"
    log_out(first)
    assert other.run().markdown[0].value == "signed in: True", "checked under 2 s ago"
    other.session_state["session_checked_at"] = 0.0  # its next check is due
    assert other.run().markdown[0].value == "signed in: False"
    assert "instructor" not in other.session_state and "session_token" not in other.session_state


def test_a_page_drawn_as_the_session_ends_keeps_the_tab_for_the_app_to_sign_out() -> None:
    # app.py checks the session at the start of a run; a page that checked again could clear
    # the tab's state halfway through drawing the class, which stranded the tab (CI, twice).
    at = sign_in()
    fake_backend().end_session(at.session_state["session_token"])
    at.session_state["session_checked_at"] = 0.0  # a check would be due now
    at.run()
    assert not at.exception, at.exception
    assert "instructor" in at.session_state, "left for app.py and the alert poll to decide"


def test_the_alert_poll_of_a_tab_signed_out_elsewhere_reloads_it_on_every_tick() -> None:
    first = sign_in()
    tab = AppTest.from_function(_alert_poll, default_timeout=30)
    tab.session_state["instructor"] = first.session_state["instructor"]
    tab.session_state["session_token"] = first.session_state["session_token"]
    assert not reloads(tab.run()), "signed in: the poll watches for hands"
    log_out(first)
    tab.session_state["session_checked_at"] = 0.0
    assert reloads(tab.run()), "the tick that finds the session ended"
    assert "instructor" not in tab.session_state
    # The next tick draws it again: a tick that drew nothing could replace the reload before
    # the browser ran it, and the tab would show a dead class with nobody signed in.
    assert reloads(tab.run())


def reloads(at: AppTest) -> bool:
    """Whether this run drew the script that has the browser load the app afresh."""
    assert not at.exception, at.exception
    return any("location.replace" in str(e.proto) for e in at.get("html"))


def room_picture() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (800, 500), "#e8e4d8").save(out, format="PNG")
    return seat_picture.prepare(out.getvalue())


def test_placed_teams_show_on_the_room_picture_with_who_is_asking() -> None:
    backend = fake_backend()
    asking = next(s for s in backend.snapshot("ds101")["students"] if s["status"] == "help")
    backend.save_seat_picture("ds101", room_picture())
    backend.place_team("ds101", asking["team"], 0.2, 0.3)
    at = sign_in()
    assert not at.exception, at.exception
    assert len(at.get("image")) == 1, "the room picture replaces the team cards"
    assert not [m for m in at.markdown if '<div class="cm-teams">' in m.value]
    line = next(m.value for m in at.markdown if m.value.startswith("🙋 **"))
    assert f"**{display.md(asking['team'])}**" in line and display.md(asking["name"]) in line


def test_a_picture_without_placed_teams_keeps_the_team_cards() -> None:
    fake_backend().save_seat_picture("ds101", room_picture())
    at = sign_in()
    assert [m for m in at.markdown if '<div class="cm-teams">' in m.value]
    assert not at.get("image")


def test_settings_places_teams_on_the_picture_and_removes_it() -> None:
    at = sign_in()
    at.switch_page("pages/settings.py").run()
    assert "Seat map" in [s.value for s in at.subheader]
    assert not [s for s in at.selectbox if s.key == "seat_team"], "nothing to place on yet"
    fake_backend().save_seat_picture("ds101", room_picture())
    data.seat_map.clear()
    at.run()
    assert not at.exception, at.exception
    teams = at.selectbox(key="seat_team").options
    assert "Team A" in teams
    at.button(key="seat_remove").click().run()
    assert ("remove_seat_map", "ds101") in fake_backend().calls
    assert fake_backend().seat_map("ds101") is None


def test_the_message_form_names_a_hostile_student_as_literal_text() -> None:
    hostile = "**b** <script>x()</script> [x](http://e)"
    fake_backend().room("ds101").instruct(
        {"type": "cell_executed", "student_id": "mallory", "student_name": hostile, "status": "ok"}
    )
    at = sign_in()
    at.query_params["student"] = "mallory"
    at.run()
    assert not at.exception, at.exception
    assert at.text_input(key="msg-mallory-text").label == f"Message {display.md(hostile)}"


def test_an_accounts_store_outage_does_not_sign_anyone_out(monkeypatch: pytest.MonkeyPatch) -> None:
    first = sign_in()
    tab = AppTest.from_function(_session_check, default_timeout=30)
    tab.session_state["instructor"] = first.session_state["instructor"]
    tab.session_state["session_token"] = first.session_state["session_token"]

    def store_down(token: str) -> None:
        raise ConnectionRefusedError("PostgreSQL is down")

    monkeypatch.setattr(fake_backend(), "resume_session", store_down)
    assert tab.run().markdown[0].value == "signed in: True"
    assert not tab.exception, tab.exception


def test_the_sign_in_form_offers_the_school_account_only_when_one_is_configured() -> None:
    plain = AppTest.from_file(APP, default_timeout=30).run()
    assert [b.label for b in plain.button] == ["Sign in"]
    school = AppTest.from_file(APP, default_timeout=30)
    school.secrets["auth"] = {"client_id": "cellmon", "redirect_uri": "http://x/oauth2callback"}
    school.run()
    assert not school.exception, school.exception
    assert [b.label for b in school.button] == ["Sign in", "Sign in with your school account"]


def test_a_school_identity_signs_in_until_the_sign_out_voids_it() -> None:
    backend = fake_backend()
    issued = datetime.now(UTC) - timedelta(minutes=1)
    opened = backend.sso_session(EMAIL.upper(), issued)
    assert opened is not None and opened[1].email == EMAIL
    backend.end_session(opened[0])
    assert backend.sso_session(EMAIL, issued) is None
    assert backend.sso_session(EMAIL, datetime.now(UTC) + timedelta(seconds=1)) is not None
    with pytest.raises(NoInstructorAccount):
        backend.sso_session("stranger@school.example", issued)


def test_a_class_granted_since_the_last_look_shows_at_the_next_sign_in(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    before = sign_in()
    rooms = before.selectbox(key="classroom_id").options
    granted = [*fake_backend().classrooms(EMAIL), {"classroom_id": "new", "name": "New class"}]
    monkeypatch.setattr(fake_backend(), "classrooms", lambda email: granted)
    after = sign_in()  # within the list's cache time (60 s)
    assert after.selectbox(key="classroom_id").options == [*rooms, "New class"]
