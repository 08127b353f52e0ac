"""The dashboard's real backend on the real stack: accounts, snapshot, help queue work, Redis
alerts within a second, threshold, tokens, activity, and resolving a student's errors."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from actors.adapters import accounts
from streamlit_dashboard.backend_ray import RayBackend
from tests.e2e.deployment import Deployment, bearer
from tests.e2e.events import cell_run, help_request
from tests.e2e.jupyter_harness import stored_events
from tests.support.waiting import wait_until

pytestmark = pytest.mark.e2e


def test_instructor_works_the_help_queue(deployment: Deployment) -> None:
    classroom, other = deployment.classroom("dash"), deployment.classroom("dash-other")
    cid, store = classroom["classroom_id"], deployment.settings.store_url
    accounts.add_instructor(store, "Ms.Ito@example.edu", "Ms Ito", "correct horse")
    accounts.grant(store, "ms.ito@example.edu", cid)
    backend = RayBackend(deployment.settings)
    assert backend.login("ms.ito@example.edu", "wrong password") is None
    me = backend.login("ms.ito@example.edu", "correct horse")
    assert me is not None and me.name == "Ms Ito"
    assert [c["classroom_id"] for c in backend.classrooms(me.email)] == [cid]  # not `other`
    assert other["classroom_id"] not in str(backend.classrooms(me.email))

    events = [cell_run("hana", "error", 2, student_name="Hana Sato"), help_request("hana")]
    answer = httpx.post(
        f"{deployment.url}/api/v1/events",
        json=events,
        headers=bearer(classroom["ingest_token"]),
        timeout=30,
    )
    assert answer.status_code == 202
    # How fast is a benchmark's question (benchmarks/ingest.py, BENCHMARKS.md), not a test's.
    alerts = wait_until(lambda: backend.alerts(cid, 0), 30, "the help alert")
    assert [(a["kind"], a["name"]) for a in alerts] == [("help_raised", "Hana Sato")]

    backend.claim_help(cid, "hana", me.email)
    queue = backend.snapshot(cid)["help_queue"]
    assert [(q["student_id"], q["claimed_by"]) for q in queue] == [("hana", me.email)]
    backend.resolve_help(cid, "hana", me.email)
    snapshot = backend.snapshot(cid)
    assert snapshot["help_queue"] == [] and snapshot["help_stats"]["resolved"] == 1
    detail = backend.student(cid, "hana")
    assert detail is not None and detail["help_history"][0]["resolved_by"] == me.email
    assert detail["help_history"][0]["wait_s"] >= 0
    kinds = [
        a["kind"]
        for a in wait_until(lambda: len(backend.alerts(cid, 0)) >= 3 and backend.alerts(cid, 0))
    ]
    assert kinds == ["help_raised", "help_claimed", "help_resolved"]

    backend.set_threshold(cid, 5)
    assert backend.snapshot(cid)["significant_error_threshold"] == 5
    fresh = backend.rotate_tokens(cid)
    again = httpx.post(
        f"{deployment.url}/api/v1/events",
        json=[cell_run("hana")],
        headers=bearer(fresh["ingest_token"]),
        timeout=30,
    )
    assert again.status_code == 202
    buckets = backend.activity(cid, "1h")
    assert sum(b["executions"] for b in buckets) >= 1 and len(buckets) >= 12


def test_resolve_error_clears_the_stuck_flag_and_the_log_names_the_instructor(
    deployment: Deployment,
) -> None:
    classroom = deployment.classroom("resolve-error")
    cid = classroom["classroom_id"]
    backend = RayBackend(deployment.settings)
    errors = [cell_run("kai", "error", 1, error_name="NameError") for _ in range(3)]
    answer = httpx.post(
        f"{deployment.url}/api/v1/events",
        json=errors,
        headers=bearer(classroom["ingest_token"]),
        timeout=30,
    )
    assert answer.status_code == 202

    def kai() -> dict[str, Any] | None:
        return next(
            (s for s in backend.snapshot(cid)["students"] if s["student_id"] == "kai"), None
        )

    assert wait_until(lambda: (row := kai()) and row["status"] == "significant_error", 30)
    backend.resolve_errors(cid, "kai", "ms.ito@example.edu")
    row = kai()
    assert row is not None and row["status"] != "significant_error"
    assert row["consecutive_errors"] == 0 and row["errors"] == 3  # the history stays
    detail = backend.student(cid, "kai")
    assert detail is not None and detail["errors_resolved_by"] == "ms.ito@example.edu"
    logged = [e for e in stored_events(deployment, cid) if e["type"] == "errors_resolved"]
    assert [(e["student_id"], e["instructor"]) for e in logged] == [("kai", "ms.ito@example.edu")]
