"""The dashboard on the real stack (Ray + Serve + actors + PostgreSQL + Redis + Streamlit) in
Chromium: a help event posted through the ingest shows on the page within 2 s and is worked
from the page; a plain JupyterLab student without a name raises a hand and is named by their
id; a student's hostile name, team and notebook path render as text."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
import ray

from actors.adapters import accounts, seat_maps
from streamlit_dashboard import display
from streamlit_dashboard.backend import STATUS_COLORS
from tests.browser.chromium import beside_playwright
from tests.browser.dashboard_support import (
    ARTIFACTS,
    CHROMIUM,
    CHROMIUM_ARGS,
    login,
    open_first_row,
    streamlit_process,
    streamlit_server,
    wait_quiet,
    watched,
)
from tests.browser.lab_support import lab_args, notebook_dir
from tests.e2e.deployment import Deployment, bearer
from tests.e2e.events import cell_run, help_request
from tests.e2e.jupyter_harness import JupyterServer, running, stored_events
from tests.support.waiting import wait_until

pytestmark = pytest.mark.browser
sync_api = pytest.importorskip("playwright.sync_api")
if not Path(CHROMIUM).exists():
    pytest.skip(f"no Chromium at {CHROMIUM}", allow_module_level=True)

EMAIL, PASSWORD = "ms.ito@example.edu", "correct horse battery"
HOSTILE_NAME = "x\n\n[Session expired, sign in](https://evil.example) **b** <script>x()</script>"
HOSTILE_TEAM = ":red[red] $x^2$ _t_ `c` <img src=x onerror=alert(1)>"
# What the hostile text would make if it were read as Markdown or HTML.
ESCAPE_HATCHES = (
    'a[href*="evil.example"], [data-testid="stMarkdownContainer"] :is(script, img, .katex, em)'
)


@pytest.fixture(scope="module")
def live(deployment: Deployment) -> Iterator[tuple[str, dict[str, Any]]]:
    """A classroom with an instructor, and the dashboard attached to the test's cluster."""
    classroom = deployment.classroom("live")
    store = deployment.settings.store_url
    accounts.add_instructor(store, EMAIL, "Ms Ito", PASSWORD)
    accounts.grant(store, EMAIL, classroom["classroom_id"])
    env = {
        "CELLMON_DASHBOARD_FAKE": "",
        "CELLMON_RAY_ADDRESS": ray.get_runtime_context().gcs_address,
        "CELLMON_NAMESPACE": deployment.settings.namespace,
        "CELLMON_STORE_URL": store,
        "RAY_AUTH_MODE": "token",
    }
    with streamlit_server(env) as url:
        yield url, classroom


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """System Chromium driven by Playwright."""
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


def instructor(browser: Any, url: str) -> Any:
    """A signed-in overview whose first render is over (charts drawn, the alert poll ticking),
    as when a hand goes up in a real class; console errors fail the test."""
    page = watched(browser.new_context(viewport={"width": 1600, "height": 1800}).new_page())
    login(page, url, EMAIL, PASSWORD, wait_for="Students")
    wait_quiet(page, charts=1)  # the activity chart at least
    return page


def _post(deployment: Deployment, token: str, events: list[dict[str, Any]]) -> None:
    answer = httpx.post(
        f"{deployment.url}/api/v1/events", json=events, headers=bearer(token), timeout=30
    )
    assert answer.status_code == 202, answer.text


def _row(deployment: Deployment, classroom: dict[str, Any], sid: str) -> dict[str, Any] | None:
    rows = deployment.snapshot(classroom)["students"]
    return next((r for r in rows if r["student_id"] == sid), None)


def test_help_shows_within_two_seconds_and_is_worked_from_the_page(
    deployment: Deployment, live: tuple[str, dict[str, Any]], browser: Any
) -> None:
    url, classroom = live
    token = classroom["ingest_token"]
    _post(deployment, token, [cell_run("kai", "ok", 0, student_name="Kai Tanaka", team="Team 1")])
    page = instructor(browser, url)
    posted = time.monotonic()
    _post(deployment, token, [help_request("kai")])
    page.locator(".cm-help", has_text="Kai Tanaka").first.wait_for(timeout=10_000)
    seen_after = time.monotonic() - posted
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "dashboard-live-timing.txt").write_text(
        f"help request POST to red banner in Chromium: {seen_after:.2f} s\n"
    )
    page.screenshot(path=str(ARTIFACTS / "dashboard-live-help.png"))

    page.get_by_role("button", name="On my way").first.click()
    page.get_by_text("claimed by Ms Ito").first.wait_for(timeout=10_000)
    queue = deployment.snapshot(classroom)["help_queue"]
    assert [(h["student_id"], h["claimed_by"]) for h in queue] == [("kai", "Ms Ito")]
    page.get_by_role("button", name="Resolved").first.click()
    page.locator(".cm-help").first.wait_for(state="detached", timeout=10_000)
    page.screenshot(path=str(ARTIFACTS / "dashboard-live-resolved.png"))
    page.context.close()

    snapshot = deployment.snapshot(classroom)
    assert snapshot["help_queue"] == [] and snapshot["help_stats"]["resolved"] == 1
    assert snapshot["help_stats"]["mean_wait_s"] > 0
    detail = httpx.get(
        f"{deployment.url}/api/v1/classrooms/{classroom['classroom_id']}/students/kai",
        headers=bearer(classroom["instructor_token"]),
        timeout=30,
    ).json()
    assert detail["help_history"][0]["resolved_by"] == "Ms Ito"  # the page claims by name
    assert seen_after < 2.0


def test_a_plain_jupyterlab_student_without_a_name_is_named_by_id(
    deployment: Deployment,
    live: tuple[str, dict[str, Any]],
    browser: Any,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    url, classroom = live
    for name in ("CELLMON_STUDENT_NAME", "CELLMON_TEAM", "JUPYTERHUB_USER", "CELLMON_SPOOL_PATH"):
        monkeypatch.delenv(name, raising=False)  # the README's plain setup, nothing more
    sid = f"lab-{uuid.uuid4().hex[:8]}"
    env = {
        "CELLMON_SERVER_URL": deployment.url,
        "CELLMON_TOKEN": classroom["ingest_token"],
        "CELLMON_STUDENT_ID": sid,
        "JUPYTER_DATA_DIR": str(tmp_path / "jupyter-data"),  # a fresh user: an empty spool
    }
    root = notebook_dir(tmp_path, "lesson.ipynb", ['raise ValueError("not yet")'])
    page = instructor(browser, url)
    with running(JupyterServer(root, env, lab=True, extra_args=lab_args(tmp_path))) as lab:
        student = browser.new_page(viewport={"width": 1280, "height": 800})
        student.goto(f"{lab.url}/lab/tree/lesson.ipynb?token={lab.token}")
        student.locator("#jp-main-statusbar").get_by_text("Idle").wait_for(timeout=90_000)
        student.locator(".jp-Cell .jp-InputArea-editor").first.click()
        student.keyboard.press("Shift+Enter")
        ran = wait_until(lambda: (r := _row(deployment, classroom, sid)) and r["errors"] == 1 and r)
        assert ran and ran["name"] is None and ran["team"] is None, ran
        student.get_by_role("button", name="Raise hand").click()
        banner = page.locator(".cm-help", has_text=sid).first
        banner.wait_for(timeout=15_000)
        wait_quiet(page)
        page.screenshot(path=str(ARTIFACTS / "dashboard-noname-help.png"), full_page=True)
        student.close()
    assert page.locator('[data-testid="stException"]').count() == 0
    body = page.inner_text("body")
    assert "Traceback" not in body and "NoneType" not in body
    assert page.locator(".cm-team", has_text=display.NO_TEAM).count() == 1
    page.context.close()


def shown(locator: Any) -> str:
    """A locator's text as a reader sees it (the escape's invisible word joiners dropped)."""
    return str(locator.inner_text()).replace(display.JOINER, "")


def test_student_text_renders_as_text_not_markdown_or_html(
    deployment: Deployment, live: tuple[str, dict[str, Any]], browser: Any
) -> None:
    url, classroom = live
    sid = f"mallory-{uuid.uuid4().hex[:6]}"
    nb = "[lab](https://evil.example).ipynb"
    run = cell_run(sid, "error", 0, student_name=HOSTILE_NAME, team=HOSTILE_TEAM, notebook_path=nb)
    _post(deployment, classroom["ingest_token"], [run, help_request(sid)])
    page = instructor(browser, url)
    name, team = display.clean(HOSTILE_NAME), display.clean(HOSTILE_TEAM)
    page.locator(".cm-help", has_text="Session expired").first.wait_for(timeout=10_000)
    assert name in shown(page.locator(".cm-help").first)  # the banner (HTML)
    request = page.locator('[class*="st-key-cm-req-mallory"]').first
    assert f"{name} · {team}" in shown(request)  # the help queue (Markdown)
    assert team in shown(page.locator(".cm-teams"))  # the team cards (HTML)
    assert page.locator(ESCAPE_HATCHES).count() == 0
    search = page.get_by_role("textbox", name="Search")
    search.fill(sid)
    search.press("Enter")
    page.get_by_text("Showing 1 to 1 of 1").wait_for(timeout=10_000)
    open_first_row(page)
    page.get_by_text("cell id").first.wait_for()
    assert name in shown(page.locator("h2").first)  # the student's header (Markdown)
    assert f"📓 {nb} · cell 1" in shown(page.get_by_text("cell id").first)
    assert team in shown(page.get_by_text(f"id {sid}").first)  # the caption
    page.screenshot(path=str(ARTIFACTS / "dashboard-hostile-student.png"), full_page=True)
    assert page.locator(ESCAPE_HATCHES).count() == 0
    page.context.close()


def test_errors_grouped_per_cell_open_a_student_whose_error_is_resolved(
    deployment: Deployment, live: tuple[str, dict[str, Any]], browser: Any
) -> None:
    url, _ = live
    classroom = beside_playwright(deployment.classroom, "stuck")  # the others' banners stay
    cid = classroom["classroom_id"]
    beside_playwright(accounts.grant, deployment.settings.store_url, EMAIL, cid)
    wrong = {"error_name": "ValueError", "error_value": "could not convert 'abc'"}
    runs = [cell_run("ada", "error", 2, student_name="Ada") for _ in range(3)]  # stuck
    runs += [cell_run(s, "error", 2, student_name=s.title()) for s in ("ben", "cy")]
    runs += [cell_run(s, "error", 2, student_name=s.title(), **wrong) for s in ("dee", "eve")]
    _post(deployment, classroom["ingest_token"], runs)
    page = watched(browser.new_context(viewport={"width": 1600, "height": 1800}).new_page())
    login(page, f"{url}/?classroom={cid}", EMAIL, PASSWORD, wait_for="Where the class is stuck")
    cell = page.locator('[class*="st-key-cm-stuck-"]')
    cell.get_by_text("5 failing").wait_for(timeout=15_000)
    groups = cell.locator('[data-testid="stMarkdownContainer"]', has_text="students:")
    assert [shown(group) for group in groups.all()] == [
        "3 students: NameError: name 'x' is not defined",
        "2 students: ValueError: could not convert 'abc'",
    ]
    stuck = page.locator(".cm-stuck", has_text="1 stuck")
    stuck.wait_for()
    page.screenshot(path=str(ARTIFACTS / "dashboard-live-error-groups.png"))

    cell.get_by_text("Code and students").first.click()  # the NameError group's
    cell.get_by_role("button", name="Ada", exact=True).click()
    page.get_by_text("3 errors in a row").wait_for(timeout=15_000)
    page.get_by_role("button", name="Resolve error").click()
    page.get_by_text("Errors last resolved by Ms Ito").wait_for(timeout=15_000)
    assert page.get_by_text("errors in a row.").count() == 0
    page.get_by_role("button", name="Back to the class").click()
    page.locator(".cm-calm").wait_for(timeout=15_000)  # "Nobody is waiting for help."
    assert stuck.count() == 0
    page.context.close()
    log = beside_playwright(stored_events, deployment, cid)
    logged = [e for e in log if e["type"] == "errors_resolved"]
    assert [(e["student_id"], e["instructor"]) for e in logged] == [("ada", "Ms Ito")]


def test_a_sign_in_survives_a_reload_and_signing_out_ends_it_in_every_tab(
    live: tuple[str, dict[str, Any]], browser: Any
) -> None:
    url, _ = live
    context = browser.new_context(viewport={"width": 1600, "height": 1000})
    page = watched(context.new_page())
    login(page, url, EMAIL, PASSWORD, wait_for="Students")
    wait_until(lambda: "cellmon_session" in {c["name"] for c in context.cookies()}, 10)
    page.reload()
    page.get_by_text("Students").first.wait_for(timeout=30_000)
    assert not page.get_by_role("textbox", name="Email").count(), "still signed in"

    other = watched(context.new_page())  # a second tab of the same browser
    other.goto(url)
    other.get_by_text("Students").first.wait_for(timeout=30_000)
    page.get_by_role("link", name="Log out").click()
    try:
        page.get_by_role("textbox", name="Email").wait_for(timeout=30_000)
    except sync_api.TimeoutError:  # keep the evidence
        page.screenshot(path=str(ARTIFACTS / "dashboard-live-logout-failure.png"))
        raise
    try:  # its next action, unless its alert poll (every 2 s) has signed it out already
        other.get_by_text("Projector mode").click(timeout=3_000)
    except sync_api.TimeoutError:
        pass
    other.get_by_role("textbox", name="Email").wait_for(timeout=30_000)
    page.reload()
    page.get_by_role("textbox", name="Email").wait_for(timeout=30_000)
    assert "cellmon_session" not in {c["name"] for c in context.cookies()}
    context.close()


@contextmanager
def school_identity_provider(users: dict[str, dict[str, Any]]) -> Iterator[str]:
    """A real OpenID Connect provider on 127.0.0.1 (oidc-provider-mock: discovery, signed ID
    tokens, its own authorization page); `users` are subject -> claims. Yields its issuer URL."""
    import threading

    import werkzeug.serving
    from oidc_provider_mock import User, app

    provider = app(user_claims=[User(sub=sub, claims=claims) for sub, claims in users.items()])
    server = werkzeug.serving.make_server("127.0.0.1", 0, provider, threaded=True)
    thread = threading.Thread(target=server.serve_forever, args=(0.1,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(10)


def school_sign_in(page: Any, subject: str) -> None:
    """The sign-in form's single sign-on button, then the provider's page as that subject."""
    page.get_by_role("button", name="Sign in with your school account").click()
    page.get_by_placeholder("sub").fill(subject)
    page.get_by_role("button", name="Authorize").click()


def signed_out(tab: Any, step: str) -> None:
    """The tab shows the sign-in form; if not within 30 s, its screenshot is kept."""
    try:
        tab.get_by_role("button", name="Sign in with your school account").wait_for(timeout=30_000)
    except sync_api.TimeoutError:
        tab.screenshot(path=str(ARTIFACTS / f"dashboard-school-{step}-failure.png"))
        raise


def test_a_school_account_signs_in_and_a_sign_out_ends_it_in_every_tab(
    deployment: Deployment, live: tuple[str, dict[str, Any]], browser: Any, tmp_path: Path
) -> None:
    users = {
        "ito": {"email": EMAIL.upper(), "email_verified": True, "name": "Ms Ito"},
        "guest": {"email": "guest@school.example", "email_verified": True},
        "spoof": {"email": EMAIL, "email_verified": False},  # Ms Ito's address, unverified
    }
    with school_identity_provider(users) as issuer:
        secrets = tmp_path / "secrets.toml"
        secrets.write_text(
            "[auth]\n"
            'redirect_uri = "http://127.0.0.1:{port}/oauth2callback"\n'
            f'cookie_secret = "{uuid.uuid4().hex}{uuid.uuid4().hex}"\n'
            'client_id = "cellmon-dashboard"\n'
            'client_secret = "school-secret"\n'
            f'server_metadata_url = "{issuer}/.well-known/openid-configuration"\n'
        )
        env = {
            "CELLMON_DASHBOARD_FAKE": "",
            "CELLMON_RAY_ADDRESS": ray.get_runtime_context().gcs_address,
            "CELLMON_NAMESPACE": deployment.settings.namespace,
            "CELLMON_STORE_URL": deployment.settings.store_url,
            "RAY_AUTH_MODE": "token",
        }
        with streamlit_process(env, overrides=(f"--secrets.files={secrets}",)) as (url, _):
            context = browser.new_context(viewport={"width": 1600, "height": 1000})
            page = watched(context.new_page(), elsewhere=issuer)  # its page wants a CDN
            page.goto(url)
            school_sign_in(page, "guest")
            page.get_by_text("which has no instructor account here").wait_for(timeout=30_000)
            school_sign_in(page, "spoof")
            page.get_by_text("has not verified that address").wait_for(timeout=30_000)

            school_sign_in(page, "ito")
            page.get_by_text("Students").first.wait_for(timeout=30_000)
            assert page.get_by_test_id("stSidebar").get_by_text("Ms Ito").count() == 1
            page.reload()
            page.get_by_text("Students").first.wait_for(timeout=30_000)
            other = watched(context.new_page(), elsewhere=issuer)  # a second tab
            other.goto(url)
            other.get_by_text("Students").first.wait_for(timeout=30_000)

            page.get_by_role("link", name="Log out").click()
            signed_out(page, "logout")
            signed_out(other, "other-tab")  # its alert poll checks the session every 2 s
            other.reload()  # the browser still holds the provider's identity: void now
            signed_out(other, "reload")
            school_sign_in(other, "ito")  # a new trip through the provider
            other.get_by_text("Students").first.wait_for(timeout=30_000)
            context.close()


MARKER_PIXEL = """([x, y]) => {
  const img = document.querySelector('[data-testid="stImage"] img');
  if (!img || !img.complete || !img.naturalWidth) return null;
  const canvas = document.createElement('canvas');
  canvas.width = img.naturalWidth;
  canvas.height = img.naturalHeight;
  const g = canvas.getContext('2d');
  g.drawImage(img, 0, 0);
  const px = g.getImageData(
    Math.round(x * (img.naturalWidth - 1)), Math.round(y * (img.naturalHeight - 1)), 1, 1
  ).data;
  return [px[0], px[1], px[2]];
}"""


def marker_is(page: Any, where: tuple[float, float], colour: str) -> bool:
    """Whether the marker at `where` (0..1) shows `colour` (the browser's colour management
    may move a channel by a unit or two)."""
    shown = page.evaluate(MARKER_PIXEL, list(where))
    want = bytes.fromhex(colour.lstrip("#"))
    return shown is not None and all(abs(a - b) <= 4 for a, b in zip(shown, want, strict=True))


def test_teams_placed_on_the_room_picture_stay_and_turn_red_when_a_hand_goes_up(
    deployment: Deployment, live: tuple[str, dict[str, Any]], browser: Any, tmp_path: Path
) -> None:
    from PIL import Image
    from playwright.sync_api import expect

    url, classroom = live
    token = classroom["ingest_token"]
    window, door, first_try = (0.25, 0.3), (0.75, 0.6), (0.5, 0.85)
    _post(deployment, token, [cell_run("win", team="Window row"), cell_run("dor", team="Door row")])
    room = tmp_path / "room.png"
    Image.new("RGB", (1600, 1000), "#e8e4d8").save(room)
    page = instructor(browser, url)
    page.get_by_role("link", name="Settings").click()
    uploader = page.get_by_role("region", name="Room picture")
    uploader.get_by_test_id("stFileUploaderDropzoneInput").set_input_files(str(room))
    page.get_by_role("button", name="Use this picture").click()
    picture = page.frame_locator('iframe[title*="room_click"]').locator("img")
    for team, (x, y) in (("Window row", window), ("Door row", first_try)):
        picker = page.get_by_test_id("stSelectbox").filter(has_text="Team to place")
        picker.get_by_role("button", name="Open").click()  # Streamlit's select: open, pick
        page.get_by_role("option", name=team, exact=True).click()
        expect(picker.get_by_role("combobox")).to_have_value(team)
        box = picture.bounding_box()
        assert box is not None
        picture.click(position={"x": box["width"] * x, "y": box["height"] * y})
        page.get_by_text("Placed: ").filter(has_text=team).wait_for(timeout=15_000)
    # Then the door row is dragged to where it really sits.
    marker = page.frame_locator('iframe[title*="room_click"]').locator(".marker", has_text="Door")
    start, box = marker.bounding_box(), picture.bounding_box()
    assert start is not None and box is not None
    page.mouse.move(start["x"] + start["width"] / 2, start["y"] + start["height"] / 2)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] * door[0], box["y"] + box["height"] * door[1], steps=8)
    page.mouse.up()
    store, cid = deployment.settings.store_url, classroom["classroom_id"]

    def dragged() -> bool:
        seat = beside_playwright(seat_maps.load, store, cid)
        x, y = seat.places.get("Door row", first_try) if seat else first_try
        return abs(x - door[0]) < 0.02 and abs(y - door[1]) < 0.02

    assert wait_until(dragged, 15), "the dragged place is stored"

    page.goto(url)  # a new load of the dashboard: still signed in (the session cookie)
    active, asking = STATUS_COLORS["active"], STATUS_COLORS["help"]
    assert wait_until(lambda: marker_is(page, window, active), 30)
    assert marker_is(page, door, active)
    _post(deployment, token, [help_request("win")])
    assert wait_until(lambda: marker_is(page, window, asking), 15)
    assert marker_is(page, door, active)
    page.get_by_text("Window row:").first.wait_for(timeout=5_000)  # who is asking, as text
    page.screenshot(path=str(ARTIFACTS / "dashboard-live-seat-map.png"))
    _post(deployment, token, [{**help_request("win"), "type": "help_stop"}])
    page.context.close()
