"""The instructor's answer in the student's JupyterLab (Chromium): a claimed hand shows who is
on the way, a resolved hand goes down, a class-wide message appears in two JupyterLabs."""

from __future__ import annotations

from collections.abc import Coroutine
from pathlib import Path
from typing import Any

import httpx
import pytest

from actors.runtime.client import blocking
from tests.browser.chromium import CHROMIUM, CHROMIUM_ARGS, beside_playwright
from tests.browser.lab_support import REPO, lab_args, notebook_dir
from tests.e2e.deployment import Deployment, bearer
from tests.e2e.jupyter_harness import JupyterServer, running
from tests.support.waiting import wait_until

pytestmark = pytest.mark.browser

ARTIFACTS = REPO / "test-artifacts"
TEACHER = "Ms Rivera"


def student_lab(tmp_path: Path, name: str, url: str, token: str) -> JupyterServer:
    """A student's JupyterLab with only the server URL, a token and an id: no name, no team."""
    home = tmp_path / name
    home.mkdir()
    env = {
        "CELLMON_SERVER_URL": url,
        "CELLMON_TOKEN": token,
        "CELLMON_STUDENT_ID": name,
        "CELLMON_SPOOL_PATH": str(home / "spool.sqlite"),
        "CELLMON_BATCH_INTERVAL": "0.2",
        # Idle JupyterLabs learn of a class message with their next heartbeat (30 s by
        # default): a short one keeps the test short.
        "CELLMON_HEARTBEAT_INTERVAL": "2",
    }
    root = notebook_dir(home, "lesson.ipynb", ["answer = 6 * 7\nanswer"])
    return JupyterServer(root, env, lab=True, extra_args=lab_args(home))


def act(call: Coroutine[Any, Any, Any]) -> None:
    """An instructor's action on the actors, from another thread: Playwright's sync API runs
    an event loop in this one."""
    answer = beside_playwright(blocking, call)
    assert "error" not in answer, answer


def enroll(deployment: Deployment, room: dict[str, Any], student: str) -> str:
    """The student's own token (messages to them alone need it)."""
    answer = httpx.post(
        f"{deployment.url}/api/v1/classrooms/{room['classroom_id']}/students",
        json={"student_id": student},
        headers=bearer(room["instructor_token"]),
        timeout=30,
    )
    assert answer.status_code == 201, answer.text
    return str(answer.json()["token"])


def test_claim_resolve_and_a_class_message_reach_the_students_jupyterlab(
    deployment: Deployment, tmp_path: Path
) -> None:
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail("Chromium is missing: apt-get install -y chromium")
    room = deployment.classroom("janswer")
    cid, actors = room["classroom_id"], deployment.actors
    cara = student_lab(tmp_path, "cara", deployment.url, enroll(deployment, room, "cara"))
    dan = student_lab(tmp_path, "dan", deployment.url, room["ingest_token"])

    ARTIFACTS.mkdir(exist_ok=True)
    with running(cara), running(dan), sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        pages = {}
        try:
            for name, server in (("cara", cara), ("dan", dan)):
                page = browser.new_context(viewport={"width": 1280, "height": 800}).new_page()
                page.goto(f"{server.url}/lab/tree/lesson.ipynb?token={server.token}")
                pages[name] = page
            for page in pages.values():
                page.locator("#jp-main-statusbar").get_by_text("Idle").wait_for(timeout=90_000)
            lab = pages["cara"]

            lab.get_by_role("button", name="Raise hand").click()
            assert wait_until(lambda: deployment.snapshot(room)["help_queue"], 10)
            act(actors.help_action(cid, "cara", "claim", TEACHER))
            lab.get_by_role("button", name=f"{TEACHER} is on the way").wait_for(timeout=5_000)
            lab.screenshot(path=str(ARTIFACTS / "instructor_on_the_way.png"))

            act(actors.help_action(cid, "cara", "resolve", TEACHER))
            lab.get_by_role("button", name="Raise hand").wait_for(timeout=5_000)
            lab.get_by_text(f"{TEACHER} marked your request as resolved").wait_for(timeout=5_000)

            act(actors.message(cid, TEACHER, "Pause: we look at cell 4 together"))
            for page in pages.values():
                page.get_by_text("Pause: we look at cell 4 together").first.wait_for(timeout=20_000)
            pages["dan"].screenshot(path=str(ARTIFACTS / "class_message.png"))
        except Exception:
            for name, page in pages.items():
                page.screenshot(path=str(ARTIFACTS / f"instructor_answer_failure_{name}.png"))
            raise
        finally:
            browser.close()
