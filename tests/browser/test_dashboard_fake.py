"""The instructor dashboard in real Chromium against simulated classes (no cluster)."""

from __future__ import annotations

import statistics
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest

from streamlit_dashboard.backend_sim import SimulatedBackend
from tests.browser.dashboard_support import (
    ARTIFACTS,
    CHROMIUM,
    CHROMIUM_ARGS,
    login,
    open_first_row,
    streamlit_server,
    wait_quiet,
    watched,
)

pytestmark = pytest.mark.browser
sync_api = pytest.importorskip("playwright.sync_api")
if not Path(CHROMIUM).exists():
    pytest.skip(f"no Chromium at {CHROMIUM}", allow_module_level=True)

HELP_QUEUE = SimulatedBackend().snapshot("ds101")["help_queue"]
HELP_NAMES = [h["name"] for h in HELP_QUEUE]
HELP_IDS = [h["student_id"] for h in HELP_QUEUE]
# Once this file exists, the fake raises one more hand: the beep test creates it when it is
# listening, so how long the earlier tests took cannot decide whether the hand is "new".
HAND_FILE = ARTIFACTS / "fake-dashboard-new-hand"
COUNT_BEEPS = """() => { window.cmBeeps = 0; new MutationObserver(() => {
  if (document.querySelector('.st-key-cm-beep audio[autoplay]')) window.cmBeeps += 1;
}).observe(document.body, {childList: true, subtree: true}); }"""


@pytest.fixture(scope="module")
def url() -> Iterator[str]:
    """A dashboard server on a free port, fake backend, one new hand after a while."""
    ARTIFACTS.mkdir(exist_ok=True)
    HAND_FILE.unlink(missing_ok=True)
    try:
        with streamlit_server({"CELLMON_DASHBOARD_FAKE_HAND_FILE": str(HAND_FILE)}) as base:
            yield base
    finally:
        HAND_FILE.unlink(missing_ok=True)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """System Chromium driven by Playwright."""
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


def new_page(browser: Any, height: int = 1000) -> Any:
    """A fresh session (Streamlit keeps login per tab) at projector width; any console error
    or page error (say, 'Bad delta path') fails the test."""
    return watched(browser.new_context(viewport={"width": 1600, "height": height}).new_page())


def shot(page: Any, name: str) -> None:
    """Save a screenshot into test-artifacts/."""
    wait_quiet(page)
    page.screenshot(path=str(ARTIFACTS / f"dashboard-{name}.png"))


def wait_for_refresh(page: Any, marker: str, timeout_ms: int = 15_000) -> None:
    """Wait until the caption holding `marker` (it shows the time) is drawn anew."""
    caption = page.locator('[data-testid="stCaptionContainer"]', has_text=marker).first
    before = caption.inner_text()
    page.wait_for_function(
        """([marker, before]) =>
            [...document.querySelectorAll('[data-testid="stCaptionContainer"]')]
            .some(c => c.innerText.includes(marker) && c.innerText !== before)""",
        arg=[marker, before],
        timeout=timeout_ms,
    )


def test_a_bookmarked_student_opens_after_sign_in(url: str, browser: Any) -> None:
    page = new_page(browser)
    page.goto(f"{url}/?classroom=ds101&student={HELP_IDS[1]}")
    login(page, url=None, wait_for="Latest code")
    page.get_by_text(HELP_NAMES[1]).first.wait_for()
    assert page.get_by_role("combobox", name="Student").count() == 1, "the picker is there"
    wait_for_refresh(page, "live, ")


def test_wrong_password_is_refused(url: str, browser: Any) -> None:
    page = new_page(browser)
    page.goto(url)
    page.get_by_role("textbox", name="Email").fill("teacher@example.edu")
    page.get_by_role("textbox", name="Password").fill("wrong")
    page.get_by_role("button", name="Sign in").click()
    page.get_by_text("Wrong email or password").wait_for()
    shot(page, "login-refused")


def test_overview_help_banner_claim_and_beep(url: str, browser: Any) -> None:
    page = new_page(browser, height=2400)
    login(page, url)
    banner = page.locator(".cm-help").first
    for name in HELP_NAMES:
        assert name in banner.inner_text()
    shot(page, "overview")

    page.get_by_role("button", name="On my way").first.click()
    page.get_by_text("claimed by Dr. Grace Teacher").first.wait_for(timeout=15_000)
    assert page.get_by_role("button", name="On my way").first.is_disabled()
    shot(page, "overview-claimed")

    # A new hand goes up: the hidden beep is mounted (for about a second) and the banner grows,
    # without a reload. A MutationObserver catches the short-lived <audio>.
    page.evaluate(COUNT_BEEPS)
    HAND_FILE.touch()
    try:
        page.wait_for_function("window.cmBeeps > 0", timeout=30_000)
    except sync_api.TimeoutError:  # keep the evidence: did the hand arrive, by which path?
        page.screenshot(path=str(ARTIFACTS / "dashboard-beep-failure.png"), full_page=True)
        grown = page.get_by_text(f"Help needed ({len(HELP_NAMES) + 1})").count()
        raise AssertionError(
            f"no beep within 30 s; the banner {'shows' if grown else 'lacks'} the new hand"
            " (the live panel's 2 s refresh draws it without the alert poll); see"
            " test-artifacts/dashboard-beep-failure.png"
        ) from None
    page.get_by_text(f"Help needed ({len(HELP_NAMES) + 1})").wait_for(timeout=10_000)
    shot(page, "overview-new-help")


def test_student_and_settings_pages(url: str, browser: Any) -> None:
    page = new_page(browser, height=1400)
    login(page, url)
    # Clicking a row of the students list opens that student. Filter to one raised hand
    # first: the 2 s refresh re-sorts the list, and the fake class changes while it runs.
    search = page.get_by_role("textbox", name="Search")
    search.fill(HELP_NAMES[0])
    search.press("Enter")
    page.get_by_text("Showing 1 to 1 of 1").wait_for(timeout=10_000)
    open_first_row(page)
    try:
        page.get_by_text(HELP_NAMES[0]).first.wait_for()
    except sync_api.TimeoutError:  # seen once under load in CI: keep the evidence
        page.screenshot(path=str(ARTIFACTS / "dashboard-failure-student-name.png"))
        raise
    page.get_by_text("Asked for help").first.wait_for()
    # Opened in place, on the overview, with the student in the URL to bookmark.
    assert urlparse(page.url).path in ("", "/")
    assert parse_qs(urlparse(page.url).query)["student"] == [HELP_IDS[0]]
    shot(page, "student")
    # The detail keeps refreshing (its 3 s fragment) on a page that stays whole: where a page
    # switch used to leave Streamlit's frontend with nothing to draw into (a white page).
    wait_for_refresh(page, "live, ")
    page.get_by_role("button", name="Back to the class").click()
    try:
        page.get_by_text("Showing 1 to 1 of 1").wait_for(timeout=10_000)  # the search was kept
    except sync_api.TimeoutError:  # once in CI (2026-11-30): was the search lost, or late?
        page.screenshot(path=str(ARTIFACTS / "dashboard-failure-back.png"), full_page=True)
        searched = page.get_by_role("textbox", name="Search")
        raise AssertionError(
            f"after Back: search box {searched.input_value() if searched.count() else None!r},"
            f" captions {page.get_by_text('Showing ').all_inner_texts()}, url {page.url}"
        ) from None
    try:
        page.get_by_role("link", name="Settings").click(timeout=10_000)
    except sync_api.TimeoutError:  # seen once under heavy load: keep the evidence
        page.screenshot(path=str(ARTIFACTS / "dashboard-failure-settings-link.png"))
        raise
    page.get_by_text("Stuck threshold").wait_for()
    sure = page.get_by_role("checkbox", name="I understand")
    sure.scroll_into_view_if_needed()  # below the roster and the seat map
    sure.check(force=True)
    page.get_by_role("button", name="Rotate tokens").click()
    page.get_by_text("shown only once").wait_for()
    shot(page, "settings")
    page.get_by_role("link", name="Log out").click()
    page.get_by_role("button", name="Sign in").wait_for()


CLIPPED_CARDS = """() => [...document.querySelectorAll('[data-testid="stMetricValue"]')]
  .map(value => value.querySelector('div, p') || value)
  .filter(text => text.scrollWidth > text.clientWidth).map(text => text.innerText)"""


def test_a_lecture_s_counts_fit_their_cards_on_a_laptop(url: str, browser: Any) -> None:
    """Four-digit counts, seven cards, a 1,280-px screen with the sidebar open: each number is
    whole (a 2.6rem "1,000" was drawn as "1,…")."""
    page = watched(browser.new_context(viewport={"width": 1280, "height": 900}).new_page())
    page.goto(f"{url}/?classroom=lecture")
    login(page, url=None, wait_for="Students")
    page.locator('[data-testid="stMetricValue"]', has_text="1,000").wait_for()
    assert page.evaluate(CLIPPED_CARDS) == []
    page.context.close()


def test_measure_1000_student_overview(url: str, browser: Any) -> None:
    """Not a gate: records sign-in -> cards and table visible for the 1,000-student class."""
    timings = []
    for _ in range(3):
        page = new_page(browser)
        page.goto(f"{url}/?classroom=lecture")
        page.get_by_role("textbox", name="Email").fill("teacher@example.edu")
        page.get_by_role("textbox", name="Password").fill("cellmon")
        start = time.perf_counter()
        page.get_by_role("button", name="Sign in").click()
        page.locator('[data-testid="stMetricValue"]', has_text="1,000").wait_for()
        page.locator('[data-testid="stDataFrame"]').first.wait_for(state="visible")
        page.locator(".cm-teams").wait_for(state="visible")
        timings.append(time.perf_counter() - start)
        shot(page, "overview-1000")
        page.context.close()
    line = f"1,000-student overview, sign-in click to cards+table visible: {timings} s"
    (ARTIFACTS / "dashboard-timing.txt").write_text(
        line + f"\nmedian {statistics.median(timings):.2f} s\n"
    )
    print(line)
