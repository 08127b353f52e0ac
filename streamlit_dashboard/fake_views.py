"""Shape the fake class's state into the snapshot and student-detail rows the actors return."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import datetime, timedelta
from typing import Any

from streamlit_dashboard.fake_class import CELL_CODE, NOTEBOOK, FakeStudent, iso

FAILING = ("help", "significant_error", "error")


def current_cell(s: FakeStudent) -> int:
    """Index of the cell the student is working on."""
    return min(s.completed, len(CELL_CODE) - 1)


def row(s: FakeStudent) -> dict[str, Any]:
    """The snapshot's student row."""
    return {
        "student_id": s.student_id,
        "name": s.name,
        "team": s.team,
        "status": s.status,
        "executions": s.executions,
        "errors": s.errors,
        "consecutive_errors": s.consecutive_errors,
        "last_activity_at": iso(s.last_activity_at),
        "last_seen_at": iso(s.last_activity_at),
        "help_since": iso(s.help_since),
        "current_notebook": NOTEBOOK,
        "current_cell_index": current_cell(s),
        "cells_completed": s.completed,
    }


def help_entry(s: FakeStudent, now: datetime) -> dict[str, Any]:
    """One help-queue entry."""
    since = s.help_since or now
    return {
        "student_id": s.student_id,
        "name": s.name,
        "team": s.team,
        "since": iso(since),
        "waiting_s": (now - since).total_seconds(),
        "claimed_by": s.claimed_by,
        "claimed_at": iso(s.claimed_at),
    }


def teams(roster: list[FakeStudent]) -> list[dict[str, Any]]:
    """Per-team members, status counts and totals, in team order."""
    grouped: dict[str, list[FakeStudent]] = defaultdict(list)
    for s in roster:
        grouped[s.team].append(s)
    return [
        {
            "team": team,
            "members": [s.student_id for s in members],
            "by_status": dict(Counter(s.status for s in members)),
            "executions": sum(s.executions for s in members),
            "errors": sum(s.errors for s in members),
        }
        for team, members in sorted(grouped.items())
    ]


def cells(roster: list[FakeStudent]) -> list[dict[str, Any]]:
    """Per-cell attempts and who tried, succeeded or is failing, in notebook order."""
    out = []
    for i in range(len(CELL_CODE)):
        tried = [s for s in roster if current_cell(s) >= i]
        failing = [s for s in tried if current_cell(s) == i and s.status in FAILING]
        out.append(
            {
                "notebook_path": NOTEBOOK,
                "cell_id": f"cell-{i + 1:02d}",
                "cell_index": i,
                "attempts": len(tried) + 2 * len(failing) + i % 3,
                "errors": 2 * len(failing) + (i % 4 == 1) * len(tried) // 5,
                "students_tried": len(tried),
                "students_succeeded": sum(1 for s in tried if s.completed > i),
                "students_failing": len(failing),
            }
        )
    return out


def student_cell(s: FakeStudent, i: int) -> dict[str, Any]:
    """One student's history on one cell."""
    run_at = s.last_activity_at - timedelta(minutes=3 * (current_cell(s) - i))
    done = s.completed > i
    tried = current_cell(s) >= i
    return {
        "notebook_path": NOTEBOOK,
        "cell_id": f"cell-{i + 1:02d}",
        "cell_index": i,
        "attempts": (1 + (i % 3 == 2)) if tried else 0,
        "errors": (i % 3 == 2) + (0 if done else s.consecutive_errors) if tried else 0,
        "last_status": ("ok" if done else ("error" if s.status in FAILING else "ok"))
        if tried
        else None,
        "first_success_at": iso(run_at) if done else None,
        "last_run_at": iso(run_at) if tried else None,
    }


def timeline(s: FakeStudent, cur: int, failing: bool, err_name: str) -> list[dict[str, Any]]:
    """Recent runs, newest last: steady progress, then the current failures."""
    runs: list[dict[str, Any]] = []
    fails = max(s.consecutive_errors, 1) if failing else 0
    for k in range(12):
        back = 11 - k
        idx = max(0, cur - max(0, back - fails) // 2) if back >= fails else cur
        bad = back < fails
        runs.append(
            {
                "time": iso(s.last_activity_at - timedelta(seconds=75 * back)),
                "cell_index": idx,
                "status": "error" if bad else "ok",
                "error_name": err_name if bad else None,
            }
        )
    return runs
