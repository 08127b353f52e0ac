"""`cellmon export CLASSROOM --format parquet|csv --out DIR`: a classroom's event log as files a
researcher can take away, pseudonymous like every research read, with per-student aggregates
and a README of the columns.

Pseudonyms: with `--study NAME`, that researcher's study key (the same pseudonyms as their live
reads; the classroom must be in their study, and the export is audited under their name);
without it, a key made for this export and then thrown away, so its pseudonyms match nothing
else, not even another export of the same class. The log is read in chunks of seq ranges and
written as it is read: a term of events never has to fit in memory.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import secrets
import sys
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from actors.adapters import researchers
from actors.adapters.pg import on_connection
from cellmon.settings import Settings

CHUNK = 50_000  # events per read
OPERATOR = "(operator export)"  # the audit's name for an export made for no study

EVENT_COLUMNS = {
    "seq": "position in the classroom's event log (increasing; gaps are other classrooms')",
    "classroom_id": "the classroom",
    "student": "the student's pseudonym (HMAC-SHA256 of their id under the export's key); "
    "empty for the classroom's own events (a setting changed, a message to everyone)",
    "type": "cell_executed, notebook_opened/saved/closed, help, help_stop, heartbeat, ...; "
    "instructor_message, help_claimed, help_resolved, roster_updated: the instructor's, about "
    "this student",
    "time": "when it happened, by the student's clock (UTC)",
    "received_at": "when the server received it (UTC)",
    "notebook_path": "the notebook, relative to the student's Jupyter root",
    "cell_id": "the cell's id in the notebook",
    "cell_index": "the cell's position in the notebook, from 0",
    "status": "a cell run's outcome: ok, error or aborted",
    "error_name": "the exception's class, for a run that failed (KeyError, ...)",
    "duration_ms": "the kernel's run time in milliseconds",
}
STUDENT_COLUMNS = {
    "student": "the student's pseudonym, as in events",
    "events": "events of any type",
    "cell_runs": "cells run",
    "errors": "runs that failed",
    "error_rate": "errors / cell_runs",
    "help_requests": "hands raised",
    "notebooks": "distinct notebooks touched",
    "cells": "distinct cells run (notebook, cell id)",
    "first_event_at": "their first event (student's clock, UTC)",
    "last_event_at": "their last event (student's clock, UTC)",
}


@dataclass
class StudentTally:
    """One student's aggregate, built one event at a time."""

    events: int = 0
    cell_runs: int = 0
    errors: int = 0
    help_requests: int = 0
    notebooks: set[str] = field(default_factory=set)
    cells: set[tuple[str, str]] = field(default_factory=set)
    first: datetime | None = None
    last: datetime | None = None

    def add(self, row: dict[str, Any]) -> None:
        self.events += 1
        if row["type"] == "cell_executed":
            self.cell_runs += 1
            self.errors += row["status"] == "error"
            self.cells.add((str(row["notebook_path"]), str(row["cell_id"])))
        self.help_requests += row["type"] == "help"
        if row["notebook_path"]:
            self.notebooks.add(str(row["notebook_path"]))
        at = row["time"]
        self.first = at if self.first is None else min(self.first, at)
        self.last = at if self.last is None else max(self.last, at)

    def row(self, student: str) -> dict[str, Any]:
        return {
            "student": student,
            "events": self.events,
            "cell_runs": self.cell_runs,
            "errors": self.errors,
            "error_rate": self.errors / self.cell_runs if self.cell_runs else None,
            "help_requests": self.help_requests,
            "notebooks": len(self.notebooks),
            "cells": len(self.cells),
            "first_event_at": self.first,
            "last_event_at": self.last,
        }


def typed(row: dict[str, Any]) -> dict[str, Any]:
    """A research row with each column of one type (a stray value becomes None)."""
    out = dict(row)
    out["cell_index"] = row["cell_index"] if type(row["cell_index"]) is int else None
    duration = row["duration_ms"]
    out["duration_ms"] = float(duration) if isinstance(duration, (int, float)) else None
    for name in ("notebook_path", "cell_id", "status", "error_name"):
        out[name] = None if row[name] is None else str(row[name])
    return out


def add_arguments(sub: Any) -> None:
    """Register `cellmon export`."""
    export = sub.add_parser(
        "export", help="a classroom's events and per-student aggregates, pseudonymous, as files"
    )
    export.add_argument("classroom")
    export.add_argument("--format", choices=("parquet", "csv"), default="parquet")
    export.add_argument("--out", type=Path, required=True, help="directory to write into")
    export.add_argument(
        "--study", help="a researcher's name: their study's pseudonyms (default: this export's)"
    )
    export.set_defaults(run=cmd_export)


def cmd_export(args: argparse.Namespace, settings: Settings) -> int:
    """Write events.*, students.* and README.md into the directory."""
    try:
        import pyarrow  # type: ignore[import-untyped]  # noqa: F401  (the research extra)
    except ImportError:
        print("error: export needs pyarrow: pip install 'cellmon[research]'", file=sys.stderr)
        return 1
    try:
        written = export(settings.store_url, args.classroom, args.format, args.out, args.study)
    except LookupError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(
        f"{args.classroom}: {written['events']:,} events of {written['students']:,} students"
        f" written to {args.out} ({args.format}, pseudonyms of {written['study']})"
    )
    return 0


def export(
    dsn: str, classroom_id: str, file_format: str, out: Path, study: str | None
) -> dict[str, Any]:
    """The export itself; LookupError for an unknown classroom or study, or one not granted."""
    out.mkdir(parents=True, exist_ok=True)
    written = asyncio.run(_export(dsn, classroom_id, file_format, out, study))
    readme = _readme(
        classroom_id, file_format, written["study"], written["events"], written["consent_required"]
    )
    (out / "README.md").write_text(readme)
    return written


async def _export(
    dsn: str, classroom_id: str, file_format: str, out: Path, study: str | None
) -> dict[str, Any]:
    async def run(connection: Any) -> dict[str, Any]:
        key, who = await _key(connection, classroom_id, study)
        if not await connection.fetchval(
            "SELECT 1 FROM classrooms WHERE classroom_id = $1", classroom_id
        ):
            raise LookupError(f"no classroom {classroom_id!r}")
        await researchers.audit(connection, who, "export", classroom_id, {"format": file_format})
        consent = await researchers.consent(connection, classroom_id)
        tallies: dict[str, StudentTally] = {}
        written = 0
        with _TableWriter(out / f"events.{file_format}", file_format, _event_schema()) as events:
            bounds = await researchers.seq_bounds(connection, classroom_id, None, None)
            low, high = bounds or (1, 0)
            for start, end in researchers.seq_ranges(low, high, CHUNK):
                raw = await researchers.events_in_range(dsn, classroom_id, start, end, None, None)
                rows = [typed(row) for row in consent.research_rows(key, raw)]
                for row in rows:
                    if row["student"] is not None:  # not the classroom's own events
                        tallies.setdefault(row["student"], StudentTally()).add(row)
                events.write(rows)
                written += len(rows)
        students = [tally.row(student) for student, tally in sorted(tallies.items())]
        with _TableWriter(out / f"students.{file_format}", file_format, _student_schema()) as table:
            table.write(students)
        return {
            "events": written,
            "students": len(students),
            "study": who,
            "consent_required": consent.required,
        }

    return await on_connection(dsn, run)


async def _key(connection: Any, classroom_id: str, study: str | None) -> tuple[bytes, str]:
    """The pseudonym key and whose it is."""
    if study is None:
        return secrets.token_bytes(32), OPERATOR
    found = await researchers.study(connection, study)
    if found is None:
        raise LookupError(f"no researcher {study!r}")
    if classroom_id not in found.classrooms:
        raise LookupError(f"{classroom_id!r} is not in {study}'s study: cellmon researcher grant")
    return found.study_key, found.name


def _event_schema() -> Any:
    import pyarrow as pa

    utc = pa.timestamp("us", tz="UTC")
    text = pa.string()
    return pa.schema(
        [
            ("seq", pa.int64()),
            ("classroom_id", text),
            ("student", text),
            ("type", text),
            ("time", utc),
            ("received_at", utc),
            ("notebook_path", text),
            ("cell_id", text),
            ("cell_index", pa.int64()),
            ("status", text),
            ("error_name", text),
            ("duration_ms", pa.float64()),
        ]
    )


def _student_schema() -> Any:
    import pyarrow as pa

    utc = pa.timestamp("us", tz="UTC")
    count = pa.int64()
    return pa.schema(
        [
            ("student", pa.string()),
            ("events", count),
            ("cell_runs", count),
            ("errors", count),
            ("error_rate", pa.float64()),
            ("help_requests", count),
            ("notebooks", count),
            ("cells", count),
            ("first_event_at", utc),
            ("last_event_at", utc),
        ]
    )


class _TableWriter:
    """Parquet or CSV, one chunk of rows at a time, with a fixed schema."""

    def __init__(self, path: Path, file_format: str, schema: Any) -> None:
        self.path, self.format, self.schema = path, file_format, schema
        self._writer: Any = None

    def __enter__(self) -> _TableWriter:
        import pyarrow.csv as pcsv  # type: ignore[import-untyped]
        import pyarrow.parquet as pq  # type: ignore[import-untyped]

        if self.format == "parquet":
            self._writer = pq.ParquetWriter(self.path, self.schema)
        else:
            self._writer = pcsv.CSVWriter(self.path, self.schema)
        return self

    def write(self, rows: list[dict[str, Any]]) -> None:
        import pyarrow as pa

        self._writer.write_table(pa.Table.from_pylist(rows, schema=self.schema))

    def __exit__(self, *_: object) -> None:
        self._writer.close()


def _readme(classroom_id: str, file_format: str, who: str, events: int, asked: bool) -> str:
    def table(columns: dict[str, str]) -> str:
        return "\n".join(f"| `{name}` | {meaning} |" for name, meaning in columns.items())

    pseudonyms = (
        f"the study of {who}: the same pseudonyms as its live reads and other exports"
        if who != OPERATOR
        else "a key made for this export and discarded: they match nothing outside it"
    )
    consent = (
        "The classroom asks for research consent: only the students who agreed are here."
        if asked
        else "The classroom does not ask for research consent: everyone is here but a student"
        " who said no."
    )
    return f"""# Cell Monitor export: {classroom_id}

{events:,} logged events, written {datetime.now().astimezone():%Y-%m-%d %H:%M %Z}, as {file_format}.
Students appear only as pseudonyms, keyed by {pseudonyms}. No names, teams, code, error
messages or instructors' messages are included. {consent}

## events.{file_format}: one row per logged event

| column | meaning |
|---|---|
{table(EVENT_COLUMNS)}

## students.{file_format}: one row per student

| column | meaning |
|---|---|
{table(STUDENT_COLUMNS)}

Details: {json.dumps({"classroom": classroom_id, "format": file_format, "study": who})}
"""
