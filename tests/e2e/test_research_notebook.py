"""The example research notebook runs, in a kernel of its own attached to the cluster, and
answers its question on a class whose streaks are known."""

from __future__ import annotations

import json
import os
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import nbformat
import pytest
from nbclient import NotebookClient

from actors.adapters import researchers
from tests.e2e.deployment import Deployment, bearer
from tests.e2e.events import cell_run

pytestmark = pytest.mark.e2e

NOTEBOOK = Path(__file__).parents[2] / "examples" / "repeated_errors.ipynb"


def test_the_example_notebook_finds_repeated_errors_and_recovery_times(
    deployment: Deployment,
) -> None:
    import ray

    room = deployment.classroom("example")
    t0 = datetime.now(UTC) - timedelta(minutes=30)

    def run(student: str, status: str, cell: int, seconds: int) -> dict[str, object]:
        return cell_run(student, status, cell, time=(t0 + timedelta(seconds=seconds)).isoformat())

    events = [
        run("ana", "ok", 0, 0),
        run("ana", "error", 1, 10),  # two errors, recovered 90 s after the first
        run("ana", "error", 1, 40),
        run("ana", "ok", 1, 100),
        run("ben", "error", 1, 20),  # one error, recovered after 60 s
        run("ben", "ok", 1, 80),
        run("cai", "error", 2, 30),  # three errors, never recovered
        run("cai", "error", 2, 50),
        run("cai", "error", 2, 70),
    ]
    answer = httpx.post(
        f"{deployment.url}/api/v1/events",
        json=events,
        headers=bearer(room["ingest_token"]),
        timeout=30,
    )
    assert answer.status_code == 202, answer.text

    settings = deployment.settings
    token = researchers.add(
        settings.store_url, f"nb-{uuid.uuid4().hex[:6]}", [room["classroom_id"]]
    )
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    # The table, as data the test can read; the notebook itself shows it to a person.
    notebook.cells.append(nbformat.v4.new_code_cell("print(table.to_json(orient='records'))"))
    environment = {
        "CELLMON_RESEARCH_TOKEN": token,
        "CELLMON_EXAMPLE_CLASSROOM": room["classroom_id"],
        "CELLMON_RAY_ADDRESS": ray.get_runtime_context().gcs_address,
        "CELLMON_NAMESPACE": settings.namespace,
        "CELLMON_STORE_URL": settings.store_url,
    }
    saved = {key: os.environ.get(key) for key in environment}
    os.environ.update(environment)  # the kernel inherits them
    try:
        NotebookClient(notebook, timeout=300, kernel_name="python3").execute()
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value

    printed = notebook.cells[-1].outputs[-1]["text"]
    table = {row["cell_index"]: row for row in json.loads(printed)}
    assert list(table) == [1, 2]  # most repeated errors first, then most streaks
    assert (table[2]["streaks"], table[2]["repeated"], table[2]["unrecovered"]) == (1, 1, 1)
    assert table[2]["median_recovery_s"] is None
    assert (table[1]["streaks"], table[1]["repeated"], table[1]["unrecovered"]) == (2, 1, 0)
    assert table[1]["median_recovery_s"] == 75.0  # (90 + 60) / 2
