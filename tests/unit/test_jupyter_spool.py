"""The durable spool: bounded, restart-proof, once per event id."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest

from jupyter_ext.spool import Spool

pytestmark = pytest.mark.unit


def event(n: int) -> dict[str, Any]:
    return {"event_id": f"e{n}", "type": "help", "student_id": "ana", "time": "2026-11-27T10:00Z"}


def ids(spool: Spool) -> list[str]:
    return [e["event_id"] for _, e in spool.peek(1000)]


def test_full_spool_drops_the_oldest_counts_and_logs(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    spool = Spool(tmp_path / "s.sqlite", max_events=3)
    with caplog.at_level(logging.WARNING):
        dropped = [spool.put(event(n)) for n in range(5)]
    assert dropped == [0, 0, 0, 1, 1]
    assert ids(spool) == ["e2", "e3", "e4"]
    assert spool.dropped == 2
    assert "dropped the 1 oldest" in caplog.text


def test_spool_survives_reopen_and_ignores_resent_ids(tmp_path: Path) -> None:
    spool = Spool(tmp_path / "s.sqlite")
    for n in (1, 2, 2, 3):
        spool.put(event(n))
    spool.delete([seq for seq, _ in spool.peek(1)])
    spool.close()
    again = Spool(tmp_path / "s.sqlite")
    assert ids(again) == ["e2", "e3"] and again.count() == 2
