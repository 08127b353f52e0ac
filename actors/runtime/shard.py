"""A shard hosts many classroom virtual actors (and so their students) in one Ray actor.

It is also the only writer of its classrooms' event log: each classroom's batches are written
and applied under that classroom's lock, so log order is apply order and a restart rebuilds the
same state from the latest checkpoint plus the log after it.

A classroom moves between shards (`release` here, `adopt` there, the directory in between):
the store lets only the classroom's registered shard append (`EventStore.append`), so the
shard it left can never log an event the new one's replay misses.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from pydantic import TypeAdapter

from actors.adapters.alerts import AlertPublisher, open_publisher
from actors.adapters.influx.sink import MetricsSink
from actors.adapters.stores import EventStore, Logged, LogUnavailable, NotOwner, open_store
from actors.domain import checkpoint
from actors.domain.alerts import alert_for, forgotten_alert
from actors.domain.classroom import ClassroomActor
from actors.domain.messages import CLASS
from actors.domain.placement import LoadMeter
from actors.domain.state import Rules
from actors.runtime.collector import tune_for_shard
from actors.runtime.group_commit import (
    Pending,
    Verdict,
    WriteQueue,
    answer_all,
    answer_counts,
    limit_verdicts,
)
from cellmon.contract import Event, urgent_batch
from cellmon.settings import Settings
from cellmon.views import ClassroomSnapshot, StudentDetail

log = logging.getLogger("cellmon.shard")
_INSTRUCTOR_EVENT: TypeAdapter[Any] = TypeAdapter(Event)
_REPLAY_CHUNK = 10_000
CheckpointRow = tuple[str, int, dict[str, Any]]
MOVED = "moved"  # an ingest answer's error: nothing was logged, ask the directory again
BUSY = "busy"  # an ingest answer's error: the classroom's queue is full, nothing was logged
STALE_DEPARTURE_S = 30.0  # longer than a move takes: a departure still not moved is undone
# Classrooms loading at once. Loading is CPU work: after a restart, 50 classrooms loading
# together all finish at the end; two at a time, in the order they were asked for, the first
# serves after a fiftieth of that and the last no later.
LOADS_AT_ONCE = 2


class ClassroomMoved(Exception):
    """This shard no longer hosts the classroom: the caller asks the directory where it is."""


@dataclass
class Hosted:
    """A loaded classroom and its bookkeeping."""

    classroom: ClassroomActor
    covered_seq: int = 0
    checkpointed_seq: int = 0
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    last_used: float = field(default_factory=time.monotonic)
    # A failed append may still have committed (the answer was lost, not the write): until the
    # log after `covered_seq` has been read back, this state may lack those events.
    behind_log: bool = False
    # Group commit: batches that arrive while a log write is in flight wait here, and the next
    # write takes them all in one round trip (one commit, one fsync) instead of one each.
    pending: WriteQueue = field(default_factory=WriteQueue)
    writer: asyncio.Task[None] | None = None
    meter: LoadMeter = field(default_factory=LoadMeter)  # this classroom's share of the load
    dumped: checkpoint.DumpCache = field(default_factory=dict)  # rows of the last checkpoint


class Shard:
    """The host. Ray makes it an async actor (see `actors.runtime.client`)."""

    def __init__(self, shard_id: int, settings: Settings) -> None:
        tune_for_shard()
        self.shard_id = shard_id
        self.settings = settings
        self.default_rules = Rules(significant_errors=settings.significant_errors)
        self.limits = settings.limits()
        self.store: EventStore = open_store(
            settings.store_url, writer=f"cellmon-shard-{settings.namespace}-{shard_id}"
        )
        self._fenced, self._fence_lock = False, asyncio.Lock()
        self.publisher: AlertPublisher = open_publisher(settings.alerts_url)
        self.metrics = MetricsSink(settings.influx_url)
        self.hosted: dict[str, Hosted] = {}
        # Classrooms handed to (or found placed on) another shard, and since when: every call
        # for them answers "moved" until the directory places them here again (`adopt`).
        self.departed: dict[str, float] = {}
        self._warm: dict[str, Hosted] = {}  # loaded by `prepare` for a move here, not hosted
        self._loading: dict[str, asyncio.Task[Hosted]] = {}
        self._load_slots = asyncio.Semaphore(LOADS_AT_ONCE)
        self._maintenance: asyncio.Task[None] | None = None
        self.meter = LoadMeter()
        self._lag_probe: asyncio.Task[None] | None = None
        self.refused_busy = 0  # bulk batches refused because their classroom's queue was full
        # A checkpoint dumped before a student is forgotten must not be saved after it.
        self._checkpointing = asyncio.Lock()

    async def ingest(self, classroom_id: str, events: list[Any]) -> dict[str, Any]:
        """Durably log the batch, then apply what was new. Answers counts, or an error."""
        try:
            hosted = await self._host(classroom_id)
        except ClassroomMoved:
            return {"error": MOVED}
        except LogUnavailable as error:
            log.warning("event log unavailable for %s: %s", classroom_id, error)
            return {"error": "log_unavailable", "detail": str(error)}
        urgent, now = urgent_batch([e.type for e in events]), time.monotonic()
        if not urgent and hosted.pending.oldest_wait_s(now) > self.settings.queue_limit_s:
            self.refused_busy += 1
            return {"error": BUSY}
        answer: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        hosted.pending.add(events, answer, urgent=urgent, now=now)
        if hosted.writer is None or hosted.writer.done():
            hosted.writer = asyncio.create_task(self._write_pending(classroom_id, hosted))
        return await asyncio.shield(answer)

    async def ingest_batches(
        self, classroom_id: str, batches: list[list[Any]]
    ) -> list[dict[str, Any]]:
        """Several requests' batches in one call (the ingest coalesces them); one answer each."""
        return list(await asyncio.gather(*(self.ingest(classroom_id, b) for b in batches)))

    async def _write_pending(self, classroom_id: str, hosted: Hosted) -> None:
        """Log and apply waiting batches, a group at a time, in arrival order."""
        while hosted.pending:
            group = hosted.pending.take()
            events = [event for batch, _ in group for event in batch]
            try:
                async with hosted.lock:
                    if hosted.behind_log:
                        await self._catch_up(classroom_id, hosted)
                    verdicts = limit_verdicts(hosted.classroom.refusals(events))
                    admitted = [(i, e) for i, e in enumerate(events) if i not in verdicts]
                    try:
                        logged, unstorable = await self._append(classroom_id, admitted)
                    except LogUnavailable:
                        hosted.behind_log = True
                        raise
                    self._apply(classroom_id, hosted, logged)
            except NotOwner as error:  # moved without us (we were unreachable): stop hosting it
                log.warning("%s; unloading it here", error)
                self._depart(classroom_id)
                answer_all([*group, *hosted.pending.take_all()], {"error": MOVED})
            except LogUnavailable as error:
                log.warning("event log unavailable for %s: %s", classroom_id, error)
                answer_all(group, {"error": "log_unavailable", "detail": str(error)})
            except Exception as error:  # a bug: fail these callers loudly, keep serving others
                log.exception("writing %d events of %s failed", len(events), classroom_id)
                for _, answer in group:
                    if not answer.done():
                        answer.set_exception(error)
            else:
                verdicts.update(unstorable)
                new_ids = {entry.event.event_id for entry in logged}
                answer_counts(group, verdicts, new_ids, self._inboxes(classroom_id, hosted, group))

    async def _append(
        self, classroom_id: str, items: list[tuple[int, Any]]
    ) -> tuple[list[Logged], dict[int, Verdict]]:
        """Log the items; an item the store refuses (a bug or an unforeseen value, since
        validation cleans what is known) is isolated by halving, and refused alone."""
        if not items:
            return [], {}
        try:
            events = [event for _, event in items]
            return await self.store.append(classroom_id, events, self.shard_id), {}
        except (LogUnavailable, NotOwner):
            raise
        except Exception as error:
            if len(items) == 1:
                position, event = items[0]
                log.exception("event %r of %s cannot be stored", event.event_id[:64], classroom_id)
                return [], {position: ("invalid", f"the event log cannot store it: {error!s:.200}")}
        half = len(items) // 2
        first, refused = await self._append(classroom_id, items[:half])
        second, more = await self._append(classroom_id, items[half:])
        return first + second, {**refused, **more}

    def _apply(self, classroom_id: str, hosted: Hosted, logged: list[Logged]) -> None:
        """Apply freshly logged events; publish their alerts and metrics. Once the log holds
        them, nothing here may fail the callers: a publishing error is logged, not answered."""
        outcome = hosted.classroom.apply_batch([entry.event for entry in logged])
        now = time.monotonic()
        self.meter.record_applied(len(logged), now)
        hosted.meter.record_applied(len(logged), now)
        if logged:
            hosted.covered_seq = max(hosted.covered_seq, logged[-1].seq)
        try:
            for effect in outcome.effects:
                student = hosted.classroom.students.get(effect.student_id)
                name = student.state.display_name if student else None
                self.publisher.publish(classroom_id, alert_for(classroom_id, effect, name))
            self.metrics.record(classroom_id, logged, outcome.effects)
        except Exception:
            log.exception(
                "publishing the effects of %d events of %s failed", len(logged), classroom_id
            )

    def _inboxes(self, classroom_id: str, hosted: Hosted, group: list[Pending]) -> list[Any]:
        """Each batch's student's inbox, for the answer; a failure here costs the inboxes
        (the student's server asks again), never the callers' answers: the log holds them."""
        now = _now()
        try:
            return [hosted.classroom.inbox_for(batch, now) for batch, _ in group]
        except Exception:
            log.exception("inboxes for %s failed", classroom_id)
            return [None] * len(group)

    async def message(
        self, classroom_id: str, instructor: str, text: str, student_id: str | None
    ) -> dict[str, Any]:
        """An instructor's message to one student, or to the class (`student_id` None)."""
        return await self._instruct(
            classroom_id,
            {
                "type": "instructor_message",
                "student_id": student_id or CLASS,
                "instructor": instructor,
                "text": text,
            },
        )

    async def _catch_up(self, classroom_id: str, hosted: Hosted) -> None:
        """Apply what the log holds after `covered_seq` (writes whose answer was lost)."""
        while batch := await self.store.read_after(classroom_id, hosted.covered_seq, _REPLAY_CHUNK):
            self._apply(classroom_id, hosted, batch)
        hosted.behind_log = False

    async def help_action(
        self, classroom_id: str, student_id: str, action: str, instructor: str
    ) -> dict[str, Any]:
        """An instructor claims ("claim") or resolves ("resolve") a student's open request.

        Logged like any event, so the help history survives restarts and replays exactly."""
        kind = {"claim": "help_claimed", "resolve": "help_resolved"}[action]
        return await self._instruct(
            classroom_id,
            {
                "type": kind,
                "student_id": student_id,
                "instructor": instructor,
            },
        )

    async def resolve_errors(
        self, classroom_id: str, student_id: str, instructor: str
    ) -> dict[str, Any]:
        """An instructor clears a student's "stuck" flag; the error streak restarts from it."""
        return await self._instruct(
            classroom_id,
            {"type": "errors_resolved", "student_id": student_id, "instructor": instructor},
        )

    async def configure(self, classroom_id: str, significant_errors: int) -> dict[str, Any]:
        """Change the classroom's consecutive-error threshold (logged, so it survives)."""
        return await self._instruct(
            classroom_id,
            {
                "type": "classroom_configured",
                "student_id": "-",
                "significant_errors": significant_errors,
            },
        )

    async def set_consent_policy(self, classroom_id: str, required: bool) -> dict[str, Any]:
        """Ask the classroom's students for research consent, or stop asking (logged)."""
        fields = {"type": "consent_policy", "student_id": "-", "required": required}
        return await self._instruct(classroom_id, fields)

    async def update_roster(
        self,
        classroom_id: str,
        student_id: str,
        enrolled: bool,
        name: str | None,
        team: str | None,
    ) -> dict[str, Any]:
        """Enroll a student with the instructor's name and team for them, or take them off the
        roster (logged, so the class shows it after any restart)."""
        fields = {"student_id": student_id, "enrolled": enrolled}
        return await self._instruct(
            classroom_id,
            {"type": "roster_updated", **fields, "roster_name": name, "roster_team": team},
        )

    async def _instruct(self, classroom_id: str, fields: dict[str, Any]) -> dict[str, Any]:
        now = _now()
        event = _INSTRUCTOR_EVENT.validate_python(
            {
                "event_id": f"instructor-{uuid.uuid4()}",
                "classroom_id": classroom_id,
                "time": now,
                "received_at": now,
                **fields,
            }
        )
        return await self.ingest(classroom_id, [event])

    async def snapshot(self, classroom_id: str, activity_minutes: int = 60) -> ClassroomSnapshot:
        """The classroom's aggregate as of now."""
        hosted = await self._host(classroom_id)
        if hosted.behind_log:
            async with hosted.lock:
                with contextlib.suppress(LogUnavailable):  # still down: serve what we have
                    if hosted.behind_log:
                        await self._catch_up(classroom_id, hosted)
        return hosted.classroom.snapshot(_now(), activity_minutes)

    async def student(self, classroom_id: str, student_id: str) -> StudentDetail | None:
        """One student's detail, or None."""
        hosted = await self._host(classroom_id)
        return hosted.classroom.student(student_id, _now())

    async def stats(self) -> dict[str, Any]:
        """What this shard holds, for `cellmon status`."""
        loaded = [h.classroom for h in self.hosted.values()]
        return {
            "shard": self.shard_id,
            **await self.load(),  # pid, node, students, events/s, loop lag, memory
            "metrics": self.metrics.counters,
            "events_applied": sum(c.events_applied for c in loaded),
            "refused_busy": self.refused_busy,
            "classrooms": {
                cid: {"covered_seq": h.covered_seq, "checkpointed_seq": h.checkpointed_seq}
                for cid, h in self.hosted.items()
            },
        }

    async def load(self) -> dict[str, Any]:
        """How busy this shard is, for placing new classrooms and for `cellmon status`."""
        self._start_maintenance()  # the lag probe runs from the first call on
        now = time.monotonic()
        return {
            "students": sum(len(h.classroom.students) for h in self.hosted.values()),
            "events_per_s": round(self.meter.events_per_s(now), 1),
            "rooms": {cid: round(h.meter.events_per_s(now), 1) for cid, h in self.hosted.items()},
            # How long each classroom's oldest waiting cell runs have waited, where any wait.
            "queued_s": {
                cid: round(h.pending.oldest_wait_s(now), 3)
                for cid, h in self.hosted.items()
                if h.pending.bulk
            },
            "loop_lag_ms": round(self.meter.loop_lag_ms(now), 1),
            "rss_mb": round(_rss_mb(), 1),
            "classrooms_loaded": len(self.hosted),
            "pid": os.getpid(),
            "node_id": _node_id(),
        }

    async def checkpoint_now(self) -> int:
        """Checkpoint every classroom changed since its last checkpoint; returns how many."""
        async with self._checkpointing:
            return await self._checkpoint_changed()

    async def _checkpoint_changed(self) -> int:
        rows = []
        for classroom_id, hosted in list(self.hosted.items()):
            if hosted.covered_seq > hosted.checkpointed_seq:
                async with hosted.lock:  # a consistent (state, covered_seq) pair
                    rows.append(
                        (
                            classroom_id,
                            hosted.covered_seq,
                            checkpoint.dump(hosted.classroom, hosted.dumped),
                        )
                    )
                # A busy classroom of 300 takes tens of ms of this loop to dump (benchmarks/
                # checkpoint_cost.py): let waiting requests run between classrooms, rather than
                # stall every one for the whole shard's dumps.
                await asyncio.sleep(0)
        saved = await self._save_checkpoints(rows)
        for classroom_id, covered, _ in saved:
            if classroom_id in self.hosted:
                self.hosted[classroom_id].checkpointed_seq = covered
        return len(saved)

    async def _save_checkpoints(self, rows: list[CheckpointRow]) -> list[CheckpointRow]:
        """Save the rows in one statement; if the store refuses one, save the others one by
        one, so a classroom it cannot checkpoint never stops the rest (it stays in the log)."""
        if not rows:
            return []
        try:
            await self.store.save_checkpoints(rows)
            return rows
        except LogUnavailable:
            raise
        except Exception:
            if len(rows) == 1:
                log.exception("checkpoint of %s refused; its log still has it", rows[0][0])
                return []
        return [row for row in rows if await self._save_checkpoints([row])]

    async def forget(self, classroom_id: str, student_id: str, requested_by: str) -> dict[str, Any]:
        """Remove the student from the classroom: the log (their events and the instructor's
        about them), the checkpoint, InfluxDB and this shard's memory, whose state is rebuilt
        from what the log still holds, so every aggregate is as if they had never been there.
        The classroom waits meanwhile; batches arriving are written after, as new events."""
        hosted = await self._host(classroom_id)
        async with self._checkpointing, hosted.lock:
            # InfluxDB first (after its buffered lines are in): if it fails, nothing else has
            # changed, and asking again finishes the job; each step is idempotent.
            await self.metrics.flush()
            points = await self.metrics.forget_student(classroom_id, student_id)
            events = await self.store.forget_student(classroom_id, student_id, requested_by)
            await self._rebuild(classroom_id, hosted)
        self.publisher.publish(classroom_id, forgotten_alert(classroom_id, student_id))
        log.info("forgot a student of %s: %d events, %d points", classroom_id, events, points)
        return {"events": events, "points": points, "students": len(hosted.classroom.students)}

    async def purge(self, classroom_id: str, before: datetime) -> dict[str, Any]:
        """Retention: the classroom's activity received before `before` leaves the log, its
        InfluxDB points timed before it go, and the state is rebuilt from what is left. A
        classroom not loaded here is not loaded for this: its next load replays the log."""
        async with self._checkpointing:
            loading = self._loading.get(classroom_id)
            if loading is not None:
                await asyncio.wait({loading})
            hosted = self.hosted.get(classroom_id)
            async with hosted.lock if hosted else contextlib.nullcontext():
                await self.metrics.flush()
                await self.metrics.purge_before(classroom_id, before)
                events = await self.store.purge_before(classroom_id, before)
                if events and hosted is not None and self.hosted.get(classroom_id) is hosted:
                    await self._rebuild(classroom_id, hosted)
        if events:
            log.info("retention: %d events of %s before %s purged", events, classroom_id, before)
        return {"events": events}

    async def _rebuild(self, classroom_id: str, hosted: Hosted) -> None:
        """Replace the classroom's state by the whole log's (its checkpoint was deleted), and
        checkpoint that. The caller holds the classroom's lock and `_checkpointing`."""
        self._warm.pop(classroom_id, None)
        rebuilt = await self._replay(classroom_id)
        hosted.classroom, hosted.covered_seq = rebuilt.classroom, rebuilt.covered_seq
        hosted.checkpointed_seq, hosted.behind_log = 0, False
        state = checkpoint.dump(hosted.classroom)
        if await self._save_checkpoints([(classroom_id, hosted.covered_seq, state)]):
            hosted.checkpointed_seq = hosted.covered_seq

    async def prepare(self, classroom_id: str) -> dict[str, Any]:
        """Before a move here: load the classroom (checkpoint + log so far) without hosting
        it, so `adopt` only has the events logged since to read."""
        warm = await self._replay(classroom_id)
        self._warm[classroom_id] = warm
        return {"covered_seq": warm.covered_seq}

    async def release(self, classroom_id: str) -> dict[str, Any]:
        """Hand the classroom over to another shard: refuse new calls for it ("moved"), finish
        the batches already taken, unload it. The directory then places it elsewhere; until
        then, callers asking again are told "moved" again. (No checkpoint: the new shard reads
        what this one logged, and checkpoints it itself.)"""
        self.departed[classroom_id] = time.monotonic()
        self._warm.pop(classroom_id, None)
        loading = self._loading.get(classroom_id)
        if loading is not None:
            await asyncio.wait({loading})
        hosted = self.hosted.get(classroom_id)
        if hosted is None:
            return {"covered_seq": None}
        while hosted.writer is not None and not hosted.writer.done():
            await asyncio.wait({hosted.writer})  # it answers everything it took; never raises
        async with hosted.lock:
            self.hosted.pop(classroom_id, None)
        return {"covered_seq": hosted.covered_seq}

    async def adopt(self, classroom_id: str) -> dict[str, Any]:
        """The directory placed the classroom here: host it now (the state `prepare` loaded,
        brought up to date from the log, or a full load), so its callers do not wait."""
        self.departed.pop(classroom_id, None)
        if classroom_id not in self.hosted and classroom_id not in self._loading:
            self._start_load(classroom_id, self._warm.pop(classroom_id, None))
        hosted = await self._host(classroom_id)
        return {"covered_seq": hosted.covered_seq, "students": len(hosted.classroom.students)}

    def _depart(self, classroom_id: str) -> None:
        self.departed[classroom_id] = time.monotonic()
        self.hosted.pop(classroom_id, None)

    async def _host(self, classroom_id: str) -> Hosted:
        """The loaded classroom; loads it (checkpoint + log replay) on first use."""
        self._start_maintenance()
        if classroom_id in self.departed:
            await self._check_departure(classroom_id)
        hosted = self.hosted.get(classroom_id)
        if hosted is not None:
            hosted.last_used = time.monotonic()
            return hosted
        task = self._loading.get(classroom_id) or self._start_load(classroom_id)
        return await asyncio.shield(task)

    def _start_load(self, classroom_id: str, warm: Hosted | None = None) -> asyncio.Task[Hosted]:
        """Load the classroom in a task every concurrent caller shares (`_host` awaits it)."""
        task = self._loading[classroom_id] = asyncio.create_task(self._load(classroom_id, warm))
        task.add_done_callback(lambda _: self._loading.pop(classroom_id, None))
        return task

    async def _fence_once(self) -> None:
        """Before this incarnation's first query: end its predecessor's sessions (a killed
        shard's INSERT could otherwise commit after we read the log). Later it would end our
        own pooled sessions too, hence once."""
        async with self._fence_lock:
            if not self._fenced:
                await self.store.fence()
                self._fenced = True

    async def _check_departure(self, classroom_id: str) -> None:
        """ClassroomMoved, unless the departure is old and the registry still places the
        classroom here (a directory that died between `release` and the move): then the
        classroom is this shard's again."""
        since = self.departed[classroom_id]
        if time.monotonic() - since < STALE_DEPARTURE_S:
            raise ClassroomMoved(classroom_id)
        if await self.store.owner(classroom_id) != self.shard_id:
            self.departed[classroom_id] = time.monotonic()
            raise ClassroomMoved(classroom_id)
        log.warning("%s was released but never moved: hosting it again", classroom_id)
        self.departed.pop(classroom_id, None)

    async def _load(self, classroom_id: str, warm: Hosted | None = None) -> Hosted:
        """Host the classroom: its state from the checkpoint (or `warm`, loaded earlier) and
        the log after it; ClassroomMoved if the registry places it elsewhere."""
        await self._fence_once()
        owner = await self.store.owner(classroom_id)
        if owner is not None and owner != self.shard_id:  # a caller that missed a move
            self.departed[classroom_id] = time.monotonic()
            raise ClassroomMoved(classroom_id)
        hosted = await self._replay(classroom_id, warm)
        self.hosted[classroom_id] = hosted
        return hosted

    async def _replay(self, classroom_id: str, hosted: Hosted | None = None) -> Hosted:
        """`hosted` (else the checkpointed state) brought up to the end of the log."""
        await self._fence_once()
        async with self._load_slots:
            if hosted is None:
                saved = await self.store.load_checkpoint(classroom_id)
                hosted = self._from_checkpoint(classroom_id, saved)
            while batch := await self.store.read_after(
                classroom_id, hosted.covered_seq, _REPLAY_CHUNK
            ):
                hosted.classroom.apply_batch([entry.event for entry in batch])
                hosted.covered_seq = batch[-1].seq
        return hosted

    def _from_checkpoint(
        self, classroom_id: str, saved: tuple[int, dict[str, Any]] | None
    ) -> Hosted:
        """The checkpointed classroom, or an empty one (to replay the whole log) when there is
        none or it cannot be read back (an older format, say)."""
        if saved is not None:
            try:
                restored = checkpoint.restore(classroom_id, saved[1], self.limits)
                return Hosted(restored, saved[0], saved[0])
            except Exception as error:
                log.warning(
                    "checkpoint of %s not used (%s): replaying its log", classroom_id, error
                )
        return Hosted(ClassroomActor(classroom_id, self.default_rules, limits=self.limits))

    def _start_maintenance(self) -> None:
        if self._maintenance is None or self._maintenance.done():
            self._maintenance = asyncio.create_task(self._maintain())
        if self._lag_probe is None or self._lag_probe.done():
            self._lag_probe = asyncio.create_task(self._probe_lag())

    async def _probe_lag(self, every_s: float = 0.5) -> None:
        """How late this event loop runs a timer: what every request here waits on top."""
        while True:
            asked = time.monotonic()
            await asyncio.sleep(every_s)
            ran = time.monotonic()
            self.meter.record_lag((ran - asked - every_s) * 1000, ran)

    async def _maintain(self) -> None:
        """Every few seconds: checkpoint what changed, unload classrooms idle for long. Nothing
        may end this loop: a failed pass is logged and the next one tries again."""
        while True:
            await asyncio.sleep(self.settings.checkpoint_interval_s)
            try:
                await self._maintenance_pass()
            except LogUnavailable as error:
                log.warning("checkpoint deferred: %s", error)
            except Exception:
                log.exception("maintenance pass of shard %d failed", self.shard_id)

    async def _maintenance_pass(self) -> None:
        now = _now()
        for hosted in list(self.hosted.values()):
            self.metrics.record_activity(hosted.classroom, now)
        await self.checkpoint_now()
        self._unload_idle()

    def _unload_idle(self) -> None:
        idle_after = self.settings.idle_unload_s
        for classroom_id, hosted in list(self.hosted.items()):
            quiet = time.monotonic() - hosted.last_used > idle_after
            idle = not hosted.lock.locked() and not hosted.pending
            if quiet and idle and hosted.checkpointed_seq == hosted.covered_seq:
                del self.hosted[classroom_id]


def _rss_mb() -> float:
    """This process's resident memory (Linux), 0 where /proc is not there."""
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    except (OSError, ValueError, IndexError):
        return 0.0


def _node_id() -> str:
    """The Ray node this shard runs on ("" outside Ray)."""
    try:
        import ray

        return str(ray.get_runtime_context().get_node_id())
    except Exception:
        return ""


def _now() -> datetime:
    return datetime.now(UTC)
