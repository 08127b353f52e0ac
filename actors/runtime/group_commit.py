"""Group commit: batches that wait while a classroom's log write is in flight go together in
the next write (one round trip, one commit), and each caller gets its own answer. Pure.

Urgent batches (a raised or lowered hand) never wait behind bulk: they form the next group
ahead of any cell runs already waiting. And a classroom whose bulk has waited longer than its
bound takes no more bulk until the queue moves: under overload, callers are told at once to come
back later (their events stay with them) rather than joining a queue they would wait minutes in.
"""

from __future__ import annotations

import asyncio
from collections import deque
from dataclasses import dataclass, field
from typing import Any

GROUP_EVENTS = 5_000  # at most this many events in one log write
Pending = tuple[list[Any], "asyncio.Future[dict[str, Any]]"]
Verdict = tuple[str, str]  # (rejection kind, reason) of an item the shard refuses


def take_group(pending: list[Pending]) -> list[Pending]:
    """Remove and return the oldest waiting batches, up to `GROUP_EVENTS` events (always at
    least one batch)."""
    size, taken = 0, 0
    for batch, _ in pending:
        if taken and size + len(batch) > GROUP_EVENTS:
            break
        size, taken = size + len(batch), taken + 1
    group = pending[:taken]
    del pending[:taken]
    return group


@dataclass
class WriteQueue:
    """One classroom's batches waiting for the log. `now` is a monotonic clock, in seconds."""

    urgent: list[Pending] = field(default_factory=list)
    bulk: list[Pending] = field(default_factory=list)
    _bulk_arrivals: deque[float] = field(default_factory=deque)

    def add(
        self, batch: list[Any], answer: asyncio.Future[dict[str, Any]], *, urgent: bool, now: float
    ) -> None:
        if urgent:
            self.urgent.append((batch, answer))
        else:
            self.bulk.append((batch, answer))
            self._bulk_arrivals.append(now)

    def take(self) -> list[Pending]:
        """The next group to write: urgent batches first."""
        if self.urgent:
            return take_group(self.urgent)
        group = take_group(self.bulk)
        for _ in group:
            self._bulk_arrivals.popleft()
        return group

    def oldest_wait_s(self, now: float) -> float:
        """How long the oldest waiting bulk batch has waited."""
        return now - self._bulk_arrivals[0] if self._bulk_arrivals else 0.0

    def take_all(self) -> list[Pending]:
        everything = [*self.urgent, *self.bulk]
        self.urgent.clear()
        self.bulk.clear()
        self._bulk_arrivals.clear()
        return everything

    def __bool__(self) -> bool:
        return bool(self.urgent or self.bulk)


def limit_verdicts(refusals: list[str | None]) -> dict[int, Verdict]:
    """Position in the group -> ("limit", reason), for the events past a classroom bound."""
    return {i: ("limit", why) for i, why in enumerate(refusals) if why is not None}


def answer_counts(
    group: list[Pending],
    refused: dict[int, Verdict],
    new_ids: set[str],
    inboxes: list[Any] | None = None,
) -> None:
    """Each caller's own counts and refusals (by position in its batch): an id new to the log
    counts once, for its first sender. `inboxes[i]`, when given and not None, goes with the
    i-th caller's answer (the student's hand state and messages)."""
    position = 0
    for number, (batch, answer) in enumerate(group):
        applied, rejected = 0, []
        for offset, event in enumerate(batch):
            verdict = refused.get(position + offset)
            if verdict is not None:
                rejected.append([offset, *verdict])
            elif event.event_id in new_ids:
                new_ids.discard(event.event_id)
                applied += 1
        position += len(batch)
        duplicates = len(batch) - applied - len(rejected)
        result: dict[str, Any] = {
            "applied": applied,
            "duplicates": duplicates,
            "rejected": rejected,
        }
        if inboxes is not None and inboxes[number] is not None:
            result["inbox"] = inboxes[number]
        if not answer.done():
            answer.set_result(result)


def answer_all(group: list[Pending], result: dict[str, Any]) -> None:
    """The same answer (an error) for every caller of the group."""
    for _, answer in group:
        if not answer.done():
            answer.set_result(result)
