"""`make demo` comes back from any earlier state: a second clone, a removed or stale run folder."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from cellmon_cli.demo import DEMO_ID, demo_classroom
from tests.e2e.deployment import Deployment, bearer
from tests.e2e.events import cell_run

pytestmark = pytest.mark.e2e


def _posts(deployment: Deployment, token: str) -> int:
    answer = httpx.post(
        f"{deployment.url}/api/v1/events",
        json=[cell_run("demo-check")],
        headers=bearer(token),
        timeout=30,
    )
    return answer.status_code


def test_the_demo_classroom_survives_a_lost_or_stale_run_folder(
    deployment: Deployment, tmp_path: Path
) -> None:
    first_clone = deployment.settings.model_copy(update={"state_dir": tmp_path / "first"})
    created = demo_classroom(first_clone)
    assert created["classroom_id"] == DEMO_ID and _posts(deployment, created["ingest_token"]) == 202
    assert demo_classroom(first_clone) == created  # the saved tokens still work: kept

    second_clone = deployment.settings.model_copy(update={"state_dir": tmp_path / "second"})
    fresh = demo_classroom(second_clone)  # no run folder at all: new tokens, same classroom
    assert fresh["classroom_id"] == DEMO_ID and fresh["ingest_token"] != created["ingest_token"]
    assert _posts(deployment, fresh["ingest_token"]) == 202
    assert (second_clone.state_dir / "demo-classroom.json").stat().st_mode & 0o777 == 0o600

    (second_clone.state_dir / "demo-classroom.json").write_text("{not json")
    mended = demo_classroom(second_clone)
    assert _posts(deployment, mended["ingest_token"]) == 202
    assert demo_classroom(first_clone)["ingest_token"] != created["ingest_token"]  # stale: new
