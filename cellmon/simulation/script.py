"""One simulated student: the v1 events they produce and when. Pure: no clock, no I/O."""

from __future__ import annotations

import hashlib
import random
import uuid
import zlib
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from cellmon.simulation.habits import (
    ERROR_RATE,
    FIRST_HELP_AFTER,
    FIX_RATE,
    HARD_ERROR_RATE,
    HELP_MESSAGE_RATE,
    RUN_ALL_RATE,
    SAVE_EVERY,
    STRUGGLE_ERRORS,
    Pace,
    kernel_ms,
)
from cellmon.simulation.lessons import HELP_MESSAGES, Mistake
from cellmon.simulation.notebook import Cell, Notebook
from cellmon.simulation.roster import Identity

WireEvent = dict[str, Any]  # one v1 event, JSON-ready (snake_case, ISO time)


class SimulatedStudent:
    """One student working through a course of notebooks; every event is stamped with `now`.

    Drive it with `start(now)`, then `step(now)` whenever `next_due()` has come, then `leave(now)`.
    """

    def __init__(
        self,
        who: Identity,
        classroom_id: str,
        course: Sequence[Notebook],
        rng: random.Random,
        *,
        pace: Pace | None = None,
        struggler: bool = False,
        asks_for_help: bool = False,
    ) -> None:
        if not course:
            raise ValueError("a student needs at least one notebook")
        self.who, self.classroom_id, self.course = who, classroom_id, tuple(course)
        self.rng, self.pace = rng, pace or Pace()
        self.struggler, self.asks_for_help = struggler, asks_for_help
        self._lesson = self._cursor = self._kernel_runs = self._stuck_for = 0
        self._session: str | None = None
        self._struggled: set[int] = set()  # hard cells already struggled with in this session
        self._last_error: tuple[Cell, Mistake] | None = None
        self._runs_to_save = self._save_interval()
        self._due: dict[str, datetime] = {}
        self._actions: dict[str, Callable[[datetime], list[WireEvent]]] = {
            "run": self._run,
            "heartbeat": self._heartbeat,
            "help": self._help,
            "help_stop": self._help_stop,
        }

    @property
    def notebook(self) -> Notebook:
        """The notebook the student has open (or last had open)."""
        return self.course[self._lesson % len(self.course)]

    @property
    def joined(self) -> bool:
        """True once `start` has run."""
        return self._session is not None

    @property
    def help_open(self) -> bool:
        """True while the student's help request is up."""
        return "help_stop" in self._due

    def start(self, now: datetime) -> list[WireEvent]:
        """Join the class: open the first notebook and plan the first actions."""
        if self.joined:
            raise RuntimeError(f"{self.who.student_id} has already joined")
        now = _utc(now)
        self._due["run"] = now + self.pace.between(self.rng, self.pace.run_every)
        self._due["heartbeat"] = now + self.pace.seconds(self.pace.heartbeat_every)
        if self.asks_for_help:
            first = (FIRST_HELP_AFTER, self.pace.help_every[1])
            self._due["help"] = now + self.pace.between(self.rng, first)
        return [self._open(now), self._consent(now)]

    def next_due(self) -> datetime | None:
        """When the next action is due; None before `start` and after `leave`."""
        return min(self._due.values(), default=None)

    def step(self, now: datetime) -> list[WireEvent]:
        """The events of every action due by `now`, in the order they fell due."""
        now = _utc(now)
        events: list[WireEvent] = []
        for kind, due in sorted(self._due.items(), key=lambda item: item[1]):
            if due <= now and kind in self._due:  # an earlier action may have cancelled it
                events += self._actions[kind](now)
        return events

    def leave(self, now: datetime) -> list[WireEvent]:
        """End of class: withdraw any help request, save and close the notebook."""
        if not self._due:  # never joined, or already left
            return []
        now = _utc(now)
        events = [self._event("help_stop", now)] if self.help_open else []
        self._due.clear()
        return [*events, self._event("notebook_saved", now), self._event("notebook_closed", now)]

    # Cell runs.

    def _run(self, now: datetime) -> list[WireEvent]:
        self._due["run"] = now + self.pace.between(self.rng, self.pace.run_every)
        cell = self.notebook.cells[self._cursor]
        mistake = self._attempt(cell)
        if mistake is not None and self._runs_all(cell):
            events = self._run_all(cell, mistake, now)
        else:
            events = [self._execute(cell, mistake, now)]
        return events + self._after_run(cell, mistake, now)

    def _attempt(self, cell: Cell) -> Mistake | None:
        """What goes wrong this time, if anything."""
        if self._stuck_on(cell) and cell.index not in self._struggled:
            self._struggled.add(cell.index)
            self._stuck_for = self.rng.randint(*STRUGGLE_ERRORS)
        if self._stuck_for > 0:
            self._stuck_for -= 1
            return self.rng.choice(cell.snippet.mistakes)
        rate = HARD_ERROR_RATE if cell.snippet.hard else ERROR_RATE
        return self.rng.choice(cell.snippet.mistakes) if self.rng.random() < rate else None

    def _stuck_on(self, cell: Cell) -> bool:
        return self.struggler and cell.snippet.hard

    def _runs_all(self, cell: Cell) -> bool:
        # A struggler fixing one cell never runs everything: it would reset their error streak.
        return cell.index > 0 and not self._stuck_on(cell) and self.rng.random() < RUN_ALL_RATE

    def _run_all(self, cell: Cell, mistake: Mistake, now: datetime) -> list[WireEvent]:
        """Run All: the cells above run fine, this one fails, the ones below are aborted."""
        cells = self.notebook.cells
        return [
            *(self._execute(above, None, now) for above in cells[: cell.index]),
            self._execute(cell, mistake, now),
            *(self._aborted(below, now) for below in cells[cell.index + 1 :]),
        ]

    def _after_run(self, cell: Cell, mistake: Mistake | None, now: datetime) -> list[WireEvent]:
        """Usually stay on a failed cell to fix it, else move on; the last cell ends the lesson."""
        self._last_error = (cell, mistake) if mistake is not None else None
        if mistake is not None and (self._stuck_on(cell) or self.rng.random() < FIX_RATE):
            return self._maybe_save(now)
        self._cursor += 1
        if self._cursor < len(self.notebook.cells):
            return self._maybe_save(now)
        return self._next_lesson(now)

    def _execute(self, cell: Cell, mistake: Mistake | None, now: datetime) -> WireEvent:
        self._kernel_runs += 1
        failed = mistake is not None
        fields: dict[str, Any] = {
            "code": mistake.code if mistake is not None else cell.snippet.code,
            "execution_count": self._kernel_runs,
            "status": "error" if failed else "ok",
            "duration_ms": kernel_ms(self.rng, cell.snippet, failed=failed),
        }
        if mistake is not None:
            fields |= {"error_name": mistake.error_name, "error_value": mistake.error_value}
        return self._cell_event(cell, now, fields)

    def _aborted(self, cell: Cell, now: datetime) -> WireEvent:
        # Never reached the kernel: no execution count, no run time.
        return self._cell_event(cell, now, {"code": cell.snippet.code, "status": "aborted"})

    def _cell_event(self, cell: Cell, now: datetime, fields: dict[str, Any]) -> WireEvent:
        where = {"cell_id": cell.cell_id, "cell_index": cell.index, "cell_type": "code"}
        return self._event("cell_executed", now, **where, **fields)

    # Notebook lifecycle.

    def _open(self, now: datetime) -> WireEvent:
        """A fresh kernel session on the current notebook, from its first cell."""
        self._session = self._uuid()
        self._cursor = self._kernel_runs = self._stuck_for = 0
        self._struggled = set()
        return self._event("notebook_opened", now)

    def _consent(self, now: datetime) -> WireEvent:
        """The answer to the consent question, which JupyterLab asks once: most agree. Drawn
        from the student's id, not their rng, so a seed's class is what it was before."""
        student = self.who.student_id
        agrees = zlib.crc32(student.encode()) % 5 != 0
        digest = hashlib.sha256(f"{self.classroom_id}/{student}/consent".encode()).digest()
        named = uuid.UUID(bytes=digest[:16], version=4)
        return self._event("consent", now, event_id=str(named), research=agrees)

    def _maybe_save(self, now: datetime) -> list[WireEvent]:
        self._runs_to_save -= 1
        if self._runs_to_save > 0:
            return []
        self._runs_to_save = self._save_interval()
        return [self._event("notebook_saved", now)]

    def _next_lesson(self, now: datetime) -> list[WireEvent]:
        """Finished: save and close this notebook, open the next lesson (or this one again)."""
        done = [self._event("notebook_saved", now), self._event("notebook_closed", now)]
        self._lesson += 1
        self._runs_to_save = self._save_interval()
        return [*done, self._open(now)]

    def _save_interval(self) -> int:
        return self.rng.randint(*SAVE_EVERY)

    # Presence and help.

    def _heartbeat(self, now: datetime) -> list[WireEvent]:
        self._due["heartbeat"] = now + self.pace.seconds(self.pace.heartbeat_every)
        return [self._event("heartbeat", now)]

    def _help(self, now: datetime) -> list[WireEvent]:
        # Start-to-start gaps of 90-150 s; each request stays up 20-90 s, so never overlaps.
        self._due["help"] = now + self.pace.between(self.rng, self.pace.help_every)
        self._due["help_stop"] = now + self.pace.between(self.rng, self.pace.help_lasts)
        return [self._event("help", now, **self._help_message())]

    def _help_message(self) -> dict[str, str]:
        if self.rng.random() >= HELP_MESSAGE_RATE:
            return {}
        if self._last_error is not None:
            cell, mistake = self._last_error
            return {"message": f"{mistake.error_name} in cell {cell.index + 1}, any idea why?"}
        return {"message": self.rng.choice(HELP_MESSAGES)}

    def _help_stop(self, now: datetime) -> list[WireEvent]:
        del self._due["help_stop"]
        return [self._event("help_stop", now)]

    # Wire format.

    def _event(self, kind: str, now: datetime, **fields: Any) -> WireEvent:
        return {
            "type": kind,
            "event_id": fields.pop("event_id", None) or self._uuid(),
            "classroom_id": self.classroom_id,
            "student_id": self.who.student_id,
            "student_name": self.who.name,
            "team": self.who.team,
            "time": now.isoformat(),
            "notebook_path": self.notebook.path,
            "session_id": self._session,
            **fields,
        }

    def _uuid(self) -> str:
        """A version-4 UUID drawn from the student's rng, so a seed replays the same ids."""
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))


def _utc(now: datetime) -> datetime:
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("the simulation needs timezone-aware times")
    return now.astimezone(UTC)
