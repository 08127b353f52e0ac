"""A student in JupyterLab (Chromium) runs a cell, raises a hand and withdraws it; the
instructor's classroom snapshot shows each step. In a class that asks for research consent,
JupyterLab asks once, and the answer can be changed from the command palette."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from actors.runtime.client import blocking
from tests.browser.chromium import CHROMIUM, CHROMIUM_ARGS
from tests.browser.lab_support import REPO, lab_args, notebook_dir
from tests.e2e.deployment import Deployment
from tests.e2e.jupyter_harness import JupyterServer, running
from tests.support.waiting import wait_until

pytestmark = pytest.mark.browser

ARTIFACTS = REPO / "test-artifacts"


def test_raise_hand_shows_in_help_queue_and_withdraws(
    deployment: Deployment, tmp_path: Path
) -> None:
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail("Chromium is missing: apt-get install -y chromium")
    classroom = deployment.classroom("jhand")
    root = notebook_dir(tmp_path, "lesson.ipynb", ["answer = 6 * 7\nanswer"])
    env = {
        "CELLMON_SERVER_URL": deployment.url,
        "CELLMON_TOKEN": classroom["ingest_token"],
        "CELLMON_SPOOL_PATH": str(tmp_path / "spool.sqlite"),
        "CELLMON_BATCH_INTERVAL": "0.2",
        "JUPYTERHUB_USER": "cara",
        "CELLMON_STUDENT_NAME": "Cara",
    }
    server = JupyterServer(root, env, lab=True, extra_args=lab_args(tmp_path))

    def snapshot() -> dict[str, Any]:
        return deployment.snapshot(classroom)

    ARTIFACTS.mkdir(exist_ok=True)
    with running(server), sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 800})
        try:
            page.goto(f"{server.url}/lab/tree/lesson.ipynb?token={server.token}")
            page.locator("#jp-main-statusbar").get_by_text("Idle").wait_for(timeout=90_000)
            assert page.get_by_text("monitored for your class").first.is_visible()

            page.locator(".jp-Cell .jp-InputArea-editor").first.click()
            page.keyboard.press("Shift+Enter")
            ran = wait_until(lambda: [r for r in snapshot()["students"] if r["executions"] == 1])
            assert ran and ran[0]["student_id"] == "cara", snapshot()

            page.get_by_role("button", name="Raise hand").click()
            queue = wait_until(lambda: snapshot()["help_queue"], 10)
            assert [row["student_id"] for row in queue] == ["cara"]
            page.get_by_role("button", name="Lower hand").wait_for(timeout=5_000)
            page.get_by_text("Cell Monitor: on · connected").wait_for(timeout=10_000)
            page.screenshot(path=str(ARTIFACTS / "raise_hand.png"))

            page.get_by_role("button", name="Lower hand").click()
            assert wait_until(lambda: not snapshot()["help_queue"], 10)
            page.get_by_role("button", name="Raise hand").wait_for(timeout=5_000)
        except Exception:
            page.screenshot(path=str(ARTIFACTS / "raise_hand_failure.png"))
            raise
        finally:
            browser.close()


def test_a_class_that_asks_for_consent_asks_once_and_the_answer_can_change(
    deployment: Deployment, tmp_path: Path
) -> None:
    from playwright.sync_api import sync_playwright

    classroom = deployment.classroom("jconsent")
    cid = classroom["classroom_id"]
    assert "error" not in blocking(deployment.actors.set_consent_policy(cid, True))
    root = notebook_dir(tmp_path, "lesson.ipynb", ["1 + 1"])
    env = {
        "CELLMON_SERVER_URL": deployment.url,
        "CELLMON_TOKEN": classroom["ingest_token"],
        "CELLMON_SPOOL_PATH": str(tmp_path / "spool.sqlite"),
        "CELLMON_BATCH_INTERVAL": "0.2",
        "JUPYTERHUB_USER": "dara",
    }
    server = JupyterServer(root, env, lab=True, extra_args=lab_args(tmp_path))

    def answer() -> bool | None:  # as the instructor's view shows it
        rows = deployment.snapshot(classroom)["students"]
        return next((r["research_consent"] for r in rows if r["student_id"] == "dara"), None)

    ARTIFACTS.mkdir(exist_ok=True)
    with running(server), sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 800})
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        try:
            page.goto(f"{server.url}/lab/tree/lesson.ipynb?token={server.token}")
            page.locator("#jp-main-statusbar").get_by_text("Idle").wait_for(timeout=90_000)
            page.locator(".jp-Cell .jp-InputArea-editor").first.click()
            page.keyboard.press("Shift+Enter")  # a send: its answer says the class asks

            dialog = page.get_by_role("dialog")
            dialog.get_by_text("Research consent for this class").wait_for(timeout=30_000)
            assert dialog.get_by_text("never with your name or id").is_visible()
            page.screenshot(path=str(ARTIFACTS / "consent_dialog.png"))
            dialog.get_by_role("button", name="I agree").click()
            assert wait_until(lambda: answer() is True, 30, "the yes, logged and applied")

            page.reload()  # asked once: the next polls find the answer and do not ask
            page.locator(".jp-Cell").first.wait_for(timeout=60_000)
            page.get_by_text("Cell Monitor: on · connected").wait_for(timeout=60_000)
            assert not page.get_by_text("Research consent for this class").is_visible()

            # The command palette changes the answer (focus off the editor, which keeps keys).
            page.locator(".jp-DirListing-content").click()
            page.keyboard.press("Control+Shift+C")
            search = page.locator(".lm-CommandPalette-input")
            search.fill("research consent")
            page.locator(".lm-CommandPalette-item", has_text="Cell Monitor: research").click()
            dialog.get_by_role("button", name="No, thanks").click()
            assert wait_until(lambda: answer() is False, 30, "the withdrawal")
        except Exception:
            page.screenshot(path=str(ARTIFACTS / "consent_failure.png"))
            raise
        finally:
            browser.close()
    assert not errors, errors
