"""Research consent on the real stack: a classroom asks (the CLI), a real Jupyter server learns
it from the ingest's answers and posts the student's answer, which is logged; research reads
(live, history) and exports then hold only whom they may, and a withdrawal takes effect on
everything already logged."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import httpx
import pyarrow.parquet as pq  # type: ignore[import-untyped]
import pytest

import cellmon_research as research
from actors.adapters import researchers
from actors.adapters.pg import on_connection
from actors.domain.pseudonyms import pseudonym
from tests.e2e.deployment import Deployment, bearer
from tests.e2e.events import cell_run, help_request
from tests.e2e.jupyter_harness import KernelSocket, new_notebook, running, stored_events
from tests.e2e.test_jupyter_capture import monitored
from tests.e2e.test_student_cli import cellmon
from tests.e2e.test_student_data import influx_rows
from tests.support.waiting import wait_until

pytestmark = pytest.mark.e2e


def post(deployment: Deployment, token: str, events: list[dict[str, Any]]) -> None:
    answer = httpx.post(
        f"{deployment.url}/api/v1/events", json=events, headers=bearer(token), timeout=30
    )
    assert answer.status_code == 202, answer.text


def consent_event(student: str, research: bool) -> dict[str, Any]:
    return {**help_request(student, "consent"), "research": research}


def answers(deployment: Deployment, classroom_id: str) -> list[tuple[str, bool]]:
    events = stored_events(deployment, classroom_id)
    return [(e["student_id"], e["research"]) for e in events if e["type"] == "consent"]


def study_key(deployment: Deployment, name: str) -> bytes:
    async def read(connection: Any) -> bytes:
        found = await researchers.study(connection, name)
        assert found is not None
        return found.study_key

    return asyncio.run(on_connection(deployment.settings.store_url, read))


def students_in(r: Any, classroom_id: str) -> set[str]:
    live = set(r.live(classroom_id).students["student"])
    rows = r.history(classroom_id).take_all()
    history = {row["student"] for row in rows if row["student"] is not None}
    assert {row["type"] for row in rows if row["student"] is None} <= {"consent_policy"}
    assert live == history, "live and history read the same students"
    return live


def test_a_class_that_asks_reads_only_whom_research_may(
    deployment: Deployment, tmp_path: Path
) -> None:
    room = deployment.classroom("consent")
    cid, token = room["classroom_id"], room["ingest_token"]
    asked = cellmon(deployment, "classroom", "consent", cid, "on")
    assert asked.returncode == 0 and "asked for research consent" in asked.stdout, asked.stderr

    with running(monitored(tmp_path, deployment, room)) as server:  # Ana's own Jupyter
        session = new_notebook(server, "lesson.ipynb")
        kernel = KernelSocket(server, session["kernel"]["id"])
        assert kernel.run("1 + 1", "cell-1")["status"] == "ok"
        kernel.close()
        with server.api() as api:

            def consent_state() -> dict[str, Any] | None:
                state = api.get("/cell-monitor/status").json()["consent"]
                return state if state["required"] else None

            # What makes JupyterLab ask: the class asks, and no answer is known.
            assert wait_until(consent_state, 30, "the question") == {
                "required": True,
                "research": None,
            }
            refused = api.post("/cell-monitor/consent", json={"research": "yes"})
            assert refused.status_code == 400
            agreed = api.post("/cell-monitor/consent", json={"research": True})
            assert agreed.status_code == 200 and agreed.json()["consent"]["research"] is True
            wait_until(lambda: answers(deployment, cid) == [("ana", True)], 30, "Ana's yes")

            post(deployment, token, [cell_run("bo"), consent_event("bo", False)])
            post(deployment, token, [cell_run("cy", "error")])  # never answers

            tag = cid.rsplit("-", 1)[-1]
            researcher_token = researchers.add(deployment.settings.store_url, f"rose-{tag}", [cid])
            r = research.connect(researcher_token, settings=deployment.settings)
            key = study_key(deployment, f"rose-{tag}")
            alias = {pseudonym(key, s): s for s in ("ana", "bo", "cy")}
            snapshot = deployment.snapshot(room)
            assert {s["student_id"] for s in snapshot["students"]} == {"ana", "bo", "cy"}
            assert {alias[p] for p in students_in(r, cid)} == {"ana"}  # asked: only a yes
            wait_until(lambda: len(influx_rows(deployment, cid)) == 3, 30, "3 runs in InfluxDB")
            series = r.metrics("cell_execution", since="1h", classroom_id=cid)
            assert [alias[p] for p in series["student"]] == ["ana"]

            out = tmp_path / "export"
            exported = cellmon(
                deployment, "export", cid, "--out", str(out), "--study", f"rose-{tag}"
            )
            assert exported.returncode == 0, exported.stderr
            rows = pq.read_table(out / "events.parquet").to_pylist()
            assert {alias[row["student"]] for row in rows if row["student"]} == {"ana"}
            assert [row["type"] for row in rows if not row["student"]] == ["consent_policy"]
            assert "only the students who agreed" in (out / "README.md").read_text()

            withdrawn = api.post("/cell-monitor/consent", json={"research": False})
            assert withdrawn.status_code == 200
            wait_until(
                lambda: answers(deployment, cid)[-1] == ("ana", False), 30, "Ana's withdrawal"
            )
            assert students_in(r, cid) == set(), "everything of hers, already logged too"

    not_asked = cellmon(deployment, "classroom", "consent", cid, "off")
    assert not_asked.returncode == 0, not_asked.stderr
    # Not asked: everyone but a no.
    assert {alias[p] for p in students_in(r, cid)} == {"cy"}
    assert deployment.snapshot(room)["consent_required"] is False


def test_a_student_cannot_set_the_classrooms_policy(deployment: Deployment) -> None:
    room = deployment.classroom("consent-policy")
    policy = {**help_request("mallory", "consent_policy"), "required": False}
    answer = httpx.post(
        f"{deployment.url}/api/v1/events",
        json=[policy],
        headers=bearer(room["ingest_token"]),
        timeout=30,
    )
    assert answer.status_code == 422
    assert answer.json()["rejected"][0]["kind"] == "invalid"
