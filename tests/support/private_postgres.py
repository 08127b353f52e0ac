"""A throwaway PostgreSQL cluster owned by one test, so that outage tests can stop, crash and
restart it without touching the machine's own server (127.0.0.1:5432).

`start`, `stop`, `restart` and `kill` block for up to a second or so; from async tests, call them
through `asyncio.to_thread` so that clients on the event loop keep running meanwhile.
"""

from __future__ import annotations

import asyncio
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import TracebackType
from typing import Any, Literal, Self, TypeVar

import asyncpg

from cellmon_cli.serve_tuning import free_port
from tests.support.waiting import wait_until

T = TypeVar("T")
StopMode = Literal["smart", "fast", "immediate"]

PG_ROOT = Path("/usr/lib/postgresql")
# Small and durable: fsync stays on because the outage tests check that commits survive a crash.
SERVER_SETTINGS = {
    "listen_addresses": "'127.0.0.1'",
    "fsync": "on",
    "synchronous_commit": "on",
    "full_page_writes": "on",
    "shared_buffers": "16MB",
    "max_connections": "50",
    "max_wal_size": "64MB",
    "log_min_messages": "warning",
}


class PrivatePostgresError(RuntimeError):
    """The private server failed to start or stop; the message carries its log tail."""


def run_blocking(factory: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Run a coroutine to completion on a fresh loop in a helper thread (safe inside a loop)."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(lambda: asyncio.run(factory())).result()


def find_bindir() -> Path:
    """The bin directory of the highest installed PostgreSQL major version."""
    versions = [p for p in PG_ROOT.glob("*/bin") if (p / "initdb").exists()]
    if not versions:
        raise PrivatePostgresError(f"no PostgreSQL server binaries under {PG_ROOT}/*/bin")
    return max(versions, key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else -1)


def _pid_alive(pid: int) -> bool:
    """True if the process exists and is not a zombie (an unreaped dead postmaster)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, IndexError):
        return False
    return state not in ("Z", "X")


def _children(pid: int) -> list[int]:
    """Direct children of `pid`, read from /proc."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (FileNotFoundError, IndexError, ProcessLookupError):
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


class PrivatePostgres:
    """One private PostgreSQL cluster in a temp dir, on a free 127.0.0.1 port."""

    def __init__(self, bindir: Path | None = None, timeout: float = 60.0) -> None:
        self.bindir = bindir or find_bindir()
        self.timeout = timeout
        self.port = 0
        self.root: Path | None = None
        self._started = False
        # initdb refuses to run as root, so root runs the server as the `postgres` OS user.
        self._user = "postgres" if os.geteuid() == 0 else None

    # Layout of the temp dir: data/, sock/ (unix socket, not /var/run/postgresql), server.log.
    @property
    def datadir(self) -> Path:
        """The cluster's data directory."""
        return self._root() / "data"

    @property
    def logfile(self) -> Path:
        """The server's log file."""
        return self._root() / "server.log"

    @property
    def dsn(self) -> str:
        """DSN of the `postgres` database, stable across restarts."""
        return self.dsn_for("postgres")

    def dsn_for(self, database: str) -> str:
        """DSN of `database` on this server."""
        if not self.port:
            raise PrivatePostgresError("server was never started")
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def start(self) -> None:
        """Create the cluster on first use, start it and wait until it accepts connections."""
        if self.root is None:
            self._init_cluster()
        if self.is_running():
            return
        self._clear_stale_lockfiles()
        # The port is only probed free, so another process may grab it first: the first start
        # retries on another one; later starts keep theirs so clients reconnect to the same DSN.
        attempts = 1 if self._started else 3
        for attempt in range(attempts):
            self.port = self.port if self._started else free_port()
            try:
                self._pg_ctl("start", "-l", str(self.logfile), "-o", f"-p {self.port}")
                break
            except PrivatePostgresError as error:
                if attempt + 1 == attempts or "Address already in use" not in str(error):
                    raise
        self._started = True
        self._wait_connectable()

    def stop(self, mode: StopMode = "fast") -> None:
        """Stop the server; "immediate" skips the shutdown checkpoint, like a crash."""
        if not self.is_running():
            return
        self._pg_ctl("stop", "-m", mode)

    def restart(self) -> None:
        """Stop (fast) if running, then start on the same port and data directory."""
        self.stop("fast")
        self.start()

    def kill(self) -> None:
        """SIGKILL the postmaster (by the pid in postmaster.pid) and wait for its backends."""
        pid = self.postmaster_pid()
        if pid is None or not _pid_alive(pid):
            return
        backends = _children(pid)
        os.kill(pid, signal.SIGKILL)
        # Orphaned backends exit on their own once they notice; wait, since a new postmaster
        # refuses to start while any of them still holds the old shared memory.
        self._wait_until(lambda: not any(map(_pid_alive, [pid, *backends])), "old processes exit")

    def close(self) -> None:
        """Stop the server however it can be stopped and remove its temp dir."""
        if self.root is None:
            return
        try:
            self.stop("immediate")
        except PrivatePostgresError:
            self.kill()
        finally:
            shutil.rmtree(self.root, ignore_errors=True)
            self.root, self._started = None, False

    def postmaster_pid(self) -> int | None:
        """The pid recorded in postmaster.pid, if the file is there."""
        try:
            return int((self.datadir / "postmaster.pid").read_text().split("\n", 1)[0])
        except (FileNotFoundError, ValueError):
            return None

    def is_running(self) -> bool:
        """True if the postmaster recorded in postmaster.pid is alive."""
        pid = self.postmaster_pid()
        return pid is not None and _pid_alive(pid)

    def log_tail(self, lines: int = 30) -> str:
        """The last lines of the server log."""
        try:
            return "\n".join(self.logfile.read_text(errors="replace").splitlines()[-lines:])
        except FileNotFoundError:
            return "(no server log)"

    def __enter__(self) -> Self:
        try:
            self.start()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _root(self) -> Path:
        if self.root is None:
            raise PrivatePostgresError("server was never started (or is already closed)")
        return self.root

    def _init_cluster(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="cellmon-pg-"))
        (self.root / "sock").mkdir()
        if self._user:
            owner = pwd.getpwnam(self._user)
            for path in (self.root, self.root / "sock"):
                os.chown(path, owner.pw_uid, owner.pw_gid)
        # --no-sync only skips flushing initdb's own files; the running server fsyncs as usual.
        self._run(
            "initdb", "-D", str(self.datadir), "-U", "postgres", "--auth=trust",
            "--encoding=UTF8", "--locale=C", "--no-sync",
        )  # fmt: skip
        settings = {**SERVER_SETTINGS, "unix_socket_directories": f"'{self.root / 'sock'}'"}
        with (self.datadir / "postgresql.conf").open("a") as conf:
            conf.write("\n# private test server\n")
            conf.writelines(f"{key} = {value}\n" for key, value in settings.items())

    def _clear_stale_lockfiles(self) -> None:
        # A killed postmaster stays a zombie until init reaps it (about a second here), and
        # PostgreSQL takes a zombie for a live server: drop the lock files that name it.
        pid = self.postmaster_pid()
        if pid is None or _pid_alive(pid):
            return
        (self.datadir / "postmaster.pid").unlink(missing_ok=True)
        (self._root() / "sock" / f".s.PGSQL.{self.port}.lock").unlink(missing_ok=True)

    def _pg_ctl(self, *args: str) -> None:
        self._run("pg_ctl", "-D", str(self.datadir), "-w", "-t", str(int(self.timeout)), *args)

    def _run(self, tool: str, *args: str) -> None:
        prefix = ["runuser", "-u", self._user, "--"] if self._user else []
        done = subprocess.run(
            [*prefix, str(self.bindir / tool), *args],
            cwd=self._root(),  # postgres cannot read root's cwd
            capture_output=True,
            text=True,
            timeout=self.timeout + 30,
            check=False,
        )
        if done.returncode != 0:
            raise PrivatePostgresError(
                f"{tool} {' '.join(args)} failed ({done.returncode}):\n{done.stdout}{done.stderr}"
                f"\n--- server log tail ---\n{self.log_tail()}"
            )

    def _wait_connectable(self) -> None:
        async def probe() -> None:
            conn = await asyncpg.connect(self.dsn, timeout=5)
            try:
                await conn.fetchval("SELECT 1")
            finally:
                await conn.close()

        def connectable() -> bool:
            try:
                run_blocking(probe)
            except (OSError, asyncpg.PostgresError, TimeoutError):
                return False
            return True

        self._wait_until(connectable, f"the server on port {self.port} to accept connections")

    def _wait_until(self, condition: Callable[[], bool], what: str) -> None:
        try:
            wait_until(condition, self.timeout, what)
        except AssertionError as error:
            raise PrivatePostgresError(
                f"{error}\n--- server log tail ---\n{self.log_tail()}"
            ) from None
