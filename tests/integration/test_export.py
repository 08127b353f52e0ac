"""`cellmon export` on a real PostgreSQL event log: every logged event once, under pseudonyms
(the study's, or the export's own), per-student aggregates that agree with the events, a README
of the columns, and no id, name or code in any file written."""

from __future__ import annotations

import asyncio
import csv
from pathlib import Path
from typing import Any

import asyncpg
import pyarrow.parquet as pq  # type: ignore[import-untyped]
import pytest

from actors.adapters import researchers
from actors.adapters.stores.postgres import PostgresStore
from actors.domain.pseudonyms import pseudonym
from tests.integration.test_researchers import _cellmon, _token
from tests.integration.test_sign_in_throttle import dsn
from tests.unit.factories import at, cell, event

pytestmark = pytest.mark.integration
__all__ = ["dsn"]  # the fixture: a migrated database

SECRET = "print('my secret code')"


def log_a_class(dsn: str, classroom_id: str) -> None:
    """Ana: 3 runs (1 error) and a hand; Bo: 2 runs, in two notebooks."""
    history = [
        cell("ok", student_id="ana", student_name="Ana Real", code=SECRET, time=at(1)),
        cell("error", student_id="ana", error_name="KeyError", error_value="'x'", time=at(2)),
        cell("ok", student_id="ana", cell_id="cell-2", cell_index=1, time=at(3)),
        event("help", student_id="ana", time=at(4)),
        cell("ok", student_id="bo", student_name="Bo Real", time=at(5)),
        cell("ok", student_id="bo", notebook_path="lab2.ipynb", time=at(6)),
    ]

    async def run() -> None:
        connection = await asyncpg.connect(dsn)
        try:
            await connection.execute(
                "INSERT INTO classrooms (classroom_id, name, shard) VALUES ($1, 'DS', 0)",
                classroom_id,
            )
        finally:
            await connection.close()
        await _append(dsn, classroom_id, history)

    asyncio.run(run())


async def _append(dsn: str, classroom_id: str, events: list[Any]) -> None:
    """Log the events in the classroom, as its shard would."""
    store = PostgresStore(dsn)
    await store.append(
        classroom_id, [e.model_copy(update={"classroom_id": classroom_id}) for e in events]
    )
    await store.close()


def study_key(dsn: str, name: str) -> bytes:
    async def run() -> bytes:
        connection = await asyncpg.connect(dsn)
        try:
            found = await researchers.study(connection, name)
            assert found is not None
            return found.study_key
        finally:
            await connection.close()

    return asyncio.run(run())


def test_an_export_for_a_study_has_its_pseudonyms_and_nothing_that_names_anyone(
    dsn: str, tmp_path: Path
) -> None:
    log_a_class(dsn, "exp101")
    _token(_cellmon(dsn, "researcher", "add", "rita", "--classroom", "exp101"))
    out = tmp_path / "parquet"

    done = _cellmon(dsn, "export", "exp101", "--out", str(out), "--study", "rita")

    assert done.returncode == 0, done.stderr
    assert "6 events of 2 students" in done.stdout
    key = study_key(dsn, "rita")
    events = pq.read_table(out / "events.parquet").to_pylist()
    assert [e["student"] for e in events] == [pseudonym(key, "ana")] * 4 + [
        pseudonym(key, "bo")
    ] * 2
    assert [e["status"] for e in events] == ["ok", "error", "ok", None, "ok", "ok"]
    assert events[1]["error_name"] == "KeyError" and events[2]["cell_index"] == 1
    students = {s["student"]: s for s in pq.read_table(out / "students.parquet").to_pylist()}
    ana = students[pseudonym(key, "ana")]
    assert (ana["events"], ana["cell_runs"], ana["errors"], ana["help_requests"]) == (4, 3, 1, 1)
    assert ana["error_rate"] == pytest.approx(1 / 3) and ana["cells"] == 2
    assert students[pseudonym(key, "bo")]["notebooks"] == 2
    readme = (out / "README.md").read_text()
    assert "`error_rate`" in readme and "study of rita" in readme
    for written in out.iterdir():  # no id, name, code or error message in any file
        data = written.read_bytes()
        for secret in (b"ana", b"Ana Real", b"Bo Real", b"secret code", b"'x'"):
            assert secret not in data, (written.name, secret)


def test_an_export_of_its_own_is_csv_with_pseudonyms_matching_nothing_else(
    dsn: str, tmp_path: Path
) -> None:
    log_a_class(dsn, "exp102")
    carla = [
        cell(student_id="carla", time=at(7)),
        event("consent", student_id="carla", research=False, time=at(8)),
    ]
    asyncio.run(_append(dsn, "exp102", carla))  # she said no: never in an export
    first, second = tmp_path / "a", tmp_path / "b"
    for out in (first, second):
        done = _cellmon(dsn, "export", "exp102", "--format", "csv", "--out", str(out))
        assert done.returncode == 0, done.stderr

    def pseudonyms(out: Path) -> list[str]:
        with (out / "events.csv").open() as rows:
            return [row["student"] for row in csv.DictReader(rows)]

    assert len(set(pseudonyms(first))) == 2 and len(pseudonyms(first)) == 6  # not Carla's
    assert not set(pseudonyms(first)) & set(pseudonyms(second)), "a key per export"
    with (first / "students.csv").open() as rows:
        assert sorted(int(r["events"]) for r in csv.DictReader(rows)) == [2, 4]


def test_an_export_is_refused_for_a_study_without_the_classroom(dsn: str, tmp_path: Path) -> None:
    log_a_class(dsn, "exp103")
    _token(_cellmon(dsn, "researcher", "add", "sam"))
    refused = _cellmon(dsn, "export", "exp103", "--out", str(tmp_path), "--study", "sam")
    assert refused.returncode == 1 and "not in sam's study" in refused.stderr
    missing = _cellmon(dsn, "export", "nosuch", "--out", str(tmp_path))
    assert missing.returncode == 1 and "no classroom" in missing.stderr
    assert not list(tmp_path.iterdir()), "nothing written"
