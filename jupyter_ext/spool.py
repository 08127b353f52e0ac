"""Durable, bounded event spool in SQLite: events wait here until the ingest acknowledges them."""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS events (
    seq      INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id TEXT    NOT NULL UNIQUE,
    body     TEXT    NOT NULL
);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS state (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""


def default_spool_path() -> Path:
    """The spool file in the user's Jupyter data dir."""
    from jupyter_core.paths import jupyter_data_dir

    return Path(jupyter_data_dir()) / "cell_monitor" / "spool.sqlite"


class Spool:
    """A FIFO of events that survives restarts; when full it drops the oldest and counts them."""

    def __init__(self, path: Path | str, max_events: int = 100_000) -> None:
        self.path = Path(path)
        self.max_events = max_events
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # One connection guarded by a lock: the server's event loop and the sender share it.
        self._db = sqlite3.connect(str(self.path), check_same_thread=False, isolation_level=None)
        self._lock = threading.Lock()
        with self._lock:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.executescript(_SCHEMA)

    def put(self, event: dict[str, Any]) -> int:
        """Store an event (once per event_id); returns how many old events were dropped for it."""
        # ASCII escapes: SQLite cannot store a lone surrogate (a browser can send one) raw.
        body = json.dumps(event, separators=(",", ":"))
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                self._db.execute(
                    "INSERT OR IGNORE INTO events (event_id, body) VALUES (?, ?)",
                    (event["event_id"], body),
                )
                dropped = self._trim()
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
        if dropped:
            log.warning(
                "cell monitor spool is full (%d events): dropped the %d oldest unsent event(s)",
                self.max_events,
                dropped,
            )
        return dropped

    def _trim(self) -> int:
        (count,) = self._db.execute("SELECT COUNT(*) FROM events").fetchone()
        excess = count - self.max_events
        if excess <= 0:
            return 0
        self._db.execute(
            "DELETE FROM events WHERE seq IN (SELECT seq FROM events ORDER BY seq LIMIT ?)",
            (excess,),
        )
        self._db.execute(
            "INSERT INTO meta (key, value) VALUES ('dropped', ?) "
            "ON CONFLICT(key) DO UPDATE SET value = value + excluded.value",
            (excess,),
        )
        return int(excess)

    def peek(self, limit: int) -> list[tuple[int, dict[str, Any]]]:
        """The oldest `limit` events with their sequence numbers, oldest first."""
        with self._lock:
            rows = self._db.execute(
                "SELECT seq, body FROM events ORDER BY seq LIMIT ?", (limit,)
            ).fetchall()
        return [(int(seq), json.loads(body)) for seq, body in rows]

    def delete(self, seqs: list[int]) -> None:
        """Forget events the ingest has acknowledged (or that can never be accepted)."""
        if not seqs:
            return
        with self._lock:
            self._db.executemany("DELETE FROM events WHERE seq = ?", [(s,) for s in seqs])

    def count(self) -> int:
        """Events waiting to be sent."""
        with self._lock:
            (count,) = self._db.execute("SELECT COUNT(*) FROM events").fetchone()
        return int(count)

    @property
    def dropped(self) -> int:
        """Events dropped because the spool was full, since the spool was created."""
        with self._lock:
            row = self._db.execute("SELECT value FROM meta WHERE key = 'dropped'").fetchone()
        return int(row[0]) if row else 0

    def load_state(self, key: str) -> Any:
        """A small JSON value kept across restarts (the hand state), or None."""
        with self._lock:
            row = self._db.execute("SELECT value FROM state WHERE key = ?", (key,)).fetchone()
        try:
            return json.loads(row[0]) if row else None
        except ValueError:  # written by something else: start afresh
            return None

    def save_state(self, key: str, value: Any) -> None:
        """Keep `value` (JSON-able) under `key`, replacing what was there."""
        body = json.dumps(value, separators=(",", ":"))
        with self._lock:
            self._db.execute(
                "INSERT INTO state (key, value) VALUES (?, ?) "
                "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                (key, body),
            )

    def close(self) -> None:
        """Close the database."""
        with self._lock:
            self._db.close()
