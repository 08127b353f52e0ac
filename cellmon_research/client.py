"""`connect()` and what a researcher reads through it. Every read checks the researcher's
classrooms, is recorded in `research_audit`, and returns pseudonyms (actors.domain.pseudonyms),
never student ids, names, teams, instructors or code.

Live reads are the shards' in-memory state at the call: every event the ingest acknowledged,
as the instructor's dashboard sees it, at most one group commit (well under a second) behind.
They are answered between the shard's batches, so they never hold ingestion up.
"""

from __future__ import annotations

import asyncio
import os
import re
import threading
from collections.abc import Coroutine
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pandas as pd  # type: ignore[import-untyped]

from actors.adapters import researchers
from actors.adapters.influx.lines import CELL_EXECUTION, CLASSROOM_ACTIVITY, HELP
from actors.adapters.influx.query import influxql_string, query
from actors.adapters.influx.target import parse_influx_url
from actors.adapters.pg import on_connection
from actors.domain.pseudonyms import (
    ERROR_COLUMNS,
    HELP_COLUMNS,
    STUDENT_COLUMNS,
    live_view,
    metric_row,
)
from actors.runtime.client import ActorClient
from cellmon.settings import Settings
from cellmon.views import ActivityMinute, CellRow
from cellmon_cli import cluster

HISTORY_ROWS_PER_READ = 50_000  # seq range one Ray task reads: a term is many tasks
MEASUREMENTS = (CELL_EXECUTION, HELP, CLASSROOM_ACTIVITY)
_DURATION = re.compile(r"[1-9][0-9]{0,6}[smhdw]")  # InfluxQL's duration literal, bounded


class NotAllowed(PermissionError):
    """The token is no researcher's, or the classroom is not in their study."""


@dataclass(frozen=True)
class Live:
    """One classroom's live state as DataFrames, under pseudonyms."""

    classroom_id: str
    generated_at: str
    summary: dict[str, int]
    students: pd.DataFrame
    cells: pd.DataFrame
    help: pd.DataFrame
    errors: pd.DataFrame
    activity: pd.DataFrame


def connect(
    token: str | None = None, address: str | None = None, settings: Settings | None = None
) -> Research:
    """Attach to the cluster (`address`, else CELLMON_RAY_ADDRESS, else the one `cellmon up`
    recorded) as the researcher whose token this is (else CELLMON_RESEARCH_TOKEN)."""
    settings = settings or Settings()
    token = token or os.environ.get("CELLMON_RESEARCH_TOKEN")
    if not token:
        raise NotAllowed("no researcher token: pass token= or set CELLMON_RESEARCH_TOKEN")
    loop = _Loop()
    found = loop.run(on_connection(settings.store_url, lambda c: researchers.authorize(c, token)))
    if found is None:
        raise NotAllowed("this token is no researcher's (`cellmon researcher add` makes one)")
    cluster.connect(settings, address)
    return Research(settings, found, loop)


class Research:
    """A researcher's reads of their study's classrooms."""

    def __init__(self, settings: Settings, researcher: researchers.Researcher, loop: _Loop) -> None:
        self._settings = settings
        self._researcher = researcher
        self._loop = loop
        self._actors = ActorClient(settings.namespace)

    @property
    def name(self) -> str:
        return self._researcher.name

    def classrooms(self) -> pd.DataFrame:
        """The study's classrooms: id, name, shard, students and events applied."""
        self._audit("classrooms")
        rooms = [
            r
            for r in self._loop.run(self._actors.classrooms())
            if r["classroom_id"] in self._researcher.classrooms
        ]
        snapshots = self._loop.run(self._snapshots([r["classroom_id"] for r in rooms]))
        return pd.DataFrame(
            [
                {
                    "classroom_id": r["classroom_id"],
                    "name": r["name"],
                    "shard": r["shard"],
                    "students": s["summary"]["students"],
                    "events": s["events_applied"],
                }
                for r, s in zip(rooms, snapshots, strict=True)
            ],
            columns=["classroom_id", "name", "shard", "students", "events"],
        )

    def live(self, classroom_id: str) -> Live:
        """One classroom's live state."""
        self._allowed(classroom_id)
        self._audit("live", classroom_id)
        (snapshot,) = self._loop.run(self._snapshots([classroom_id]))
        return _frames(live_view(snapshot, self._researcher.study_key))

    def live_all(self) -> dict[str, Live]:
        """Every classroom of the study, read from all shards at once."""
        ids = sorted(self._researcher.classrooms)
        self._audit("live_all", None, {"classrooms": ids})
        snapshots = self._loop.run(self._snapshots(ids), timeout_s=60)
        key = self._researcher.study_key
        return {s["classroom_id"]: _frames(live_view(s, key)) for s in snapshots}

    def history(
        self, classroom_id: str, since: datetime | None = None, until: datetime | None = None
    ) -> Any:
        """The classroom's logged events with `since` <= time < `until`, as a Ray Dataset
        (pseudonymised, code and free text left out, only the students research may read as
        of this call); read by Ray tasks on the cluster, one seq range each, so a term's log
        never passes through this process. A time without a zone is taken as UTC, as the log
        stores times."""
        import ray.data
        from ray.data.context import ShuffleStrategy

        since, until = _utc(since), _utc(until)
        self._allowed(classroom_id)
        self._audit("history", classroom_id, {"since": since, "until": until})
        dsn, key = self._settings.store_url, self._researcher.study_key
        bounds = self._loop.run(
            on_connection(dsn, lambda c: researchers.seq_bounds(c, classroom_id, since, until))
        )
        consent = self._consent(classroom_id)
        ranges = (
            []
            if bounds is None
            else researchers.seq_ranges(bounds[0], bounds[1], HISTORY_ROWS_PER_READ)
        )

        def read(part: dict[str, int]) -> list[dict[str, Any]]:
            rows = asyncio.run(
                researchers.events_in_range(
                    dsn, classroom_id, part["low"], part["high"], since, until
                )
            )
            return consent.research_rows(key, rows)

        dataset = ray.data.from_items([{"low": a, "high": b} for a, b in ranges]).flat_map(read)
        # Its groupbys (and theirs of what derives from it) shuffle with tasks: on this
        # 2-core machine 5x faster than the default hash shuffle's actors (BENCHMARKS.md).
        dataset.context.shuffle_strategy = ShuffleStrategy.SORT_SHUFFLE_PULL_BASED
        return dataset

    def metrics(
        self, measurement: str, since: str | datetime = "2h", classroom_id: str | None = None
    ) -> pd.DataFrame:
        """An InfluxDB series of the study's classrooms (or one of them) as a DataFrame, one
        row per point, its `student` field as the pseudonym, points of students research may
        not read left out. `measurement`: cell_execution,
        help or classroom_activity; `since`: a duration back from now ("90m", "2h", "7d") or
        a time (without a zone: UTC)."""
        if measurement not in MEASUREMENTS:
            raise ValueError(f"measurement must be one of {', '.join(MEASUREMENTS)}")
        if classroom_id is not None:
            self._allowed(classroom_id)
        rooms = sorted(self._researcher.classrooms if classroom_id is None else {classroom_id})
        window = _since_clause(since)
        self._audit("metrics", classroom_id, {"measurement": measurement, "since": since})
        if not rooms:
            return pd.DataFrame()
        if not self._settings.influx_url:
            raise RuntimeError("metrics are off in this deployment (no CELLMON_INFLUX_URL)")
        target = parse_influx_url(self._settings.influx_url)
        which = " OR ".join(f"classroom = {influxql_string(room)}" for room in rooms)
        influxql = f'SELECT * FROM "{measurement}" WHERE ({which}) AND {window}'
        rows = self._loop.run(query(target.url, target.database, influxql), timeout_s=60)
        consent = {room: self._consent(room) for room in rooms}
        key = self._researcher.study_key
        return pd.DataFrame(
            [
                metric_row(key, row)
                for row in rows
                if row.get("student") is None or consent[row["classroom"]].readable(row["student"])
            ]
        )

    def _consent(self, classroom_id: str) -> researchers.Consent:
        dsn = self._settings.store_url
        found: researchers.Consent = self._loop.run(
            on_connection(dsn, lambda c: researchers.consent(c, classroom_id))
        )
        return found

    def _allowed(self, classroom_id: str) -> None:
        if classroom_id not in self._researcher.classrooms:
            self._audit("refused", classroom_id)
            raise NotAllowed(f"classroom {classroom_id!r} is not in {self.name}'s study")

    def _audit(
        self, action: str, classroom_id: str | None = None, detail: dict[str, Any] | None = None
    ) -> None:
        self._loop.run(
            on_connection(
                self._settings.store_url,
                lambda c: researchers.audit(c, self.name, action, classroom_id, detail),
            )
        )

    async def _snapshots(self, ids: list[str]) -> list[Any]:
        return list(await asyncio.gather(*(self._actors.snapshot(c) for c in ids)))


def _since_clause(since: str | datetime) -> str:
    """InfluxQL's time condition for `since`; ValueError for anything else."""
    if isinstance(since, datetime):
        moment = since.replace(tzinfo=UTC) if since.tzinfo is None else since.astimezone(UTC)
        return f"time >= '{moment:%Y-%m-%dT%H:%M:%S.%fZ}'"
    if not _DURATION.fullmatch(since.strip()):
        raise ValueError(f"since must be a duration such as '90m', '2h' or '7d', not {since!r}")
    return f"time > now() - {since.strip()}"


def _utc(moment: datetime | None) -> datetime | None:
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)


def _frames(view: dict[str, Any]) -> Live:
    return Live(
        classroom_id=view["classroom_id"],
        generated_at=view["generated_at"],
        summary=view["summary"],
        students=pd.DataFrame(view["students"], columns=list(STUDENT_COLUMNS)),
        cells=pd.DataFrame(view["cells"], columns=list(CellRow.__annotations__)),
        help=pd.DataFrame(view["help"], columns=list(HELP_COLUMNS)),
        errors=pd.DataFrame(view["errors"], columns=list(ERROR_COLUMNS)),
        activity=pd.DataFrame(view["activity"], columns=list(ActivityMinute.__annotations__)),
    )


class _Loop:
    """An event loop on a thread of its own: a notebook's cell already runs inside one, where
    `asyncio.run` is refused, so the client's calls run here and the cell waits for them."""

    def __init__(self) -> None:
        self._loop = asyncio.new_event_loop()
        threading.Thread(target=self._loop.run_forever, daemon=True, name="research").start()

    def run(self, call: Coroutine[Any, Any, Any], timeout_s: float = 30.0) -> Any:
        return asyncio.run_coroutine_threadsafe(call, self._loop).result(timeout_s)
