"""Event batches for the stress profile and the probes. Pure: the caller passes the clock."""

from __future__ import annotations

import itertools
import random
from datetime import datetime
from typing import Any

import orjson

# Cells of realistic size: a v1 cell_executed event with one of these is about 330 bytes.
_CODE = (
    "df = pd.read_csv('data/measurements.csv')\ndf.head()",
    "model = LinearRegression().fit(X_train, y_train)\nmodel.score(X_test, y_test)",
    "for col in df.columns:\n    print(col, df[col].isna().sum())",
    "plt.plot(history['loss'], label='train')\nplt.legend()",
)
_ERRORS = ("NameError", "KeyError", "ValueError", "TypeError")


class StressEvents:
    """cell_executed events for `students` students of one classroom, each with a fresh id."""

    def __init__(self, classroom_id: str, students: int, run_id: str, rng: random.Random) -> None:
        self.classroom_id, self.students, self.rng = classroom_id, max(students, 1), rng
        self._ids = (f"{run_id}-{classroom_id}-{n}" for n in itertools.count())

    def batch(self, size: int, now: datetime) -> list[dict[str, Any]]:
        """`size` events from random students, all stamped `now`."""
        stamp = now.isoformat()
        return [self._event(stamp) for _ in range(size)]

    def body(self, size: int, now: datetime) -> bytes:
        """The same batch as a request body."""
        return orjson.dumps(self.batch(size, now))

    def _event(self, stamp: str) -> dict[str, Any]:
        rng = self.rng
        student = rng.randrange(self.students)
        cell = rng.randrange(12)
        failed = rng.random() < 0.2
        return {
            "type": "cell_executed",
            "event_id": next(self._ids),
            "classroom_id": self.classroom_id,
            "student_id": f"student-{student:04d}",
            "time": stamp,
            "notebook_path": "lesson-03/regression.ipynb",
            "cell_id": f"cell-{cell:02d}",
            "cell_index": cell,
            "code": _CODE[cell % len(_CODE)],
            "status": "error" if failed else "ok",
            "error_name": rng.choice(_ERRORS) if failed else None,
            "duration_ms": round(rng.uniform(2.0, 400.0), 1),
        }


def probe_event(
    kind: str, classroom_id: str, student_id: str, event_id: str, now: datetime
) -> bytes:
    """One event of a probe student: `cell_executed`, `help` or `help_stop`."""
    event: dict[str, Any] = {
        "type": kind,
        "event_id": event_id,
        "classroom_id": classroom_id,
        "student_id": student_id,
        "student_name": "Load-test probe",
        "time": now.isoformat(),
    }
    if kind == "cell_executed":
        event.update(cell_id="probe", cell_index=0, code="1 + 1", status="ok", duration_ms=1.0)
    elif kind == "help":
        event["message"] = "load-test probe: please ignore"
    return orjson.dumps([event])
