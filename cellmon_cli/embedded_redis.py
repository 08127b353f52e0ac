"""A Redis of the demo's own, for when none answers at the configured alerts URL.

A laptop with no Redis still gets help alerts (the red banner and the beep within a second)
from `make demo`. Debian's `redis-server` binary, bound to 127.0.0.1 on a free port, with a
generated password in a config file only its owner can read (never on the command line, where
any user of a shared teaching host could see it), nothing saved to disk.
"""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import time
from pathlib import Path
from urllib.parse import quote

import redis

from cellmon_cli.embedded import locked, owner_only_secret

SUBDIR = "embedded-redis"  # under the state dir: redis.conf, redis.log, server.json, .lock
SECRET_FILE = "embedded-redis.secret"  # beside SUBDIR
START_TIMEOUT_S = 20.0


class EmbeddedRedisError(RuntimeError):
    """The embedded Redis could not be started; says what to install or where to look."""


def redis_reachable(url: str, timeout_s: float = 2.0) -> bool:
    """True if a Redis answers at `url`, even one that refuses our password (it is there)."""
    client = redis.Redis.from_url(url, socket_timeout=timeout_s, socket_connect_timeout=timeout_s)
    try:
        return bool(client.ping())
    except redis.AuthenticationError:
        return True
    except (redis.RedisError, OSError):
        return False
    finally:
        client.close()


def start_embedded_redis(state_dir: Path) -> str:
    """Start (or reuse) the demo's Redis under state_dir/embedded-redis/; returns its URL."""
    binary = shutil.which("redis-server")
    if binary is None:
        raise EmbeddedRedisError(
            "no Redis answers and redis-server is not installed: "
            "`apt-get install redis-server`, or set CELLMON_ALERTS_URL"
        )
    root = (state_dir / SUBDIR).resolve()
    root.mkdir(parents=True, exist_ok=True)
    secret = owner_only_secret(state_dir.resolve() / SECRET_FILE)
    with locked(root):
        port = _running_port(root, secret) or _start(binary, root, secret)
    return f"redis://:{quote(secret, safe='')}@127.0.0.1:{port}/0"


def stop_embedded_redis(state_dir: Path) -> bool:
    """Stop the demo's Redis; True if one was running."""
    root = (state_dir / SUBDIR).resolve()
    if not root.is_dir():
        return False
    secret = owner_only_secret(state_dir.resolve() / SECRET_FILE)
    with locked(root):
        port = _running_port(root, secret)
        if port is None:
            return False
        client = redis.Redis(host="127.0.0.1", port=port, password=secret, socket_timeout=5)
        try:
            client.shutdown(nosave=True)
        except redis.ConnectionError:
            pass  # the server closes the connection as it exits
        finally:
            client.close()
    return True


def _running_port(root: Path, secret: str) -> int | None:
    """The recorded port, if our Redis (it knows our password) still answers there."""
    record = root / "server.json"
    if not record.exists():
        return None
    port = int(json.loads(record.read_text())["port"])
    client = redis.Redis(host="127.0.0.1", port=port, password=secret, socket_timeout=2)
    try:
        return port if client.ping() else None
    except (redis.RedisError, OSError):
        return None  # gone, or another server took the port: not ours
    finally:
        client.close()


def _start(binary: str, root: Path, secret: str) -> int:
    port = _free_port()
    config = root / "redis.conf"
    config.touch(mode=0o600)
    config.chmod(0o600)
    config.write_text(
        "\n".join(
            [
                "bind 127.0.0.1",
                f"port {port}",
                f"requirepass {secret}",
                'save ""',
                "appendonly no",
                "daemonize yes",
                f"dir {root}",
                f"pidfile {root / 'redis.pid'}",
                f"logfile {root / 'redis.log'}",
            ]
        )
        + "\n"
    )
    subprocess.run([binary, str(config)], check=True, capture_output=True, timeout=30)
    deadline = time.monotonic() + START_TIMEOUT_S
    (root / "server.json").write_text(json.dumps({"port": port}))
    while _running_port(root, secret) is None:
        if time.monotonic() > deadline:
            raise EmbeddedRedisError(f"the embedded Redis did not start; see {root}/redis.log")
        time.sleep(0.1)
    return port


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
