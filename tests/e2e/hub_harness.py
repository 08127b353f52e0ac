"""A real JupyterHub for tests: the README's jupyterhub_config.py block, plus DummyAuthenticator,
SimpleLocalProcessSpawner and configurable-http-proxy from npm (`make chp`), on 127.0.0.1 with
free ports and a folder of its own. Stopped by its handle; whatever it started and left running
(proxy, users' servers, kernels) is then stopped by pid."""

from __future__ import annotations

import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import closing, contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from tests.support.private_postgres import free_port
from tests.support.waiting import wait_until

ROOT = Path(__file__).resolve().parents[2]
CHP = ROOT / "tests" / "e2e" / "hub" / "node_modules" / ".bin" / "configurable-http-proxy"
SERVICE = "cellmon-test"  # the test's Hub API client: a service with an admin role


def readme_config(**values: str) -> str:
    """The README's jupyterhub_config.py block, with the named settings' values replaced."""
    readme = (ROOT / "README.md").read_text()
    block = re.search(r"```python\n(# jupyterhub_config\.py.*?)```", readme, re.S)
    assert block, "the README has no jupyterhub_config.py block"
    config = block.group(1)
    for name, value in values.items():
        config, found = re.subn(rf"^{name} = .*$", f"{name} = {value}", config, flags=re.M)
        assert found == 1, f"the README's jupyterhub_config.py sets no {name}"
    return config


@dataclass
class Hub:
    """A `jupyterhub` subprocess; `values` replace settings of the README's block."""

    root: Path
    values: dict[str, str]
    port: int = field(default_factory=free_port)
    token: str = field(default_factory=lambda: uuid.uuid4().hex)
    process: subprocess.Popen[bytes] | None = None
    pids: set[int] = field(default_factory=set)  # started for it: stopped if left running

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def settings(self) -> dict[str, Any]:
        """The test's own Hub: dummy logins, local processes, everything on 127.0.0.1."""
        return {
            "JupyterHub.authenticator_class": "dummy",
            "JupyterHub.spawner_class": "simple",
            "JupyterHub.bind_url": self.url,
            "JupyterHub.hub_bind_url": f"http://127.0.0.1:{free_port()}",
            "JupyterHub.db_url": f"sqlite:///{self.root / 'jupyterhub.sqlite'}",
            "JupyterHub.cookie_secret_file": str(self.root / "cookie_secret"),
            # The spawn API answers at once (202), so the users' servers start side by side.
            "JupyterHub.tornado_settings": {"slow_spawn_timeout": 0},
            "JupyterHub.services": [{"name": SERVICE, "api_token": self.token}],
            "JupyterHub.load_roles": [
                {
                    "name": SERVICE,
                    "services": [SERVICE],
                    "scopes": ["admin:users", "admin:servers", "tokens"],
                }
            ],
            "ConfigurableHTTPProxy.command": [str(CHP)],
            "ConfigurableHTTPProxy.api_url": f"http://127.0.0.1:{free_port()}",
            "ConfigurableHTTPProxy.pid_file": str(self.root / "proxy.pid"),
            "SimpleLocalProcessSpawner.home_dir_template": str(self.root / "home" / "{username}"),
            "Spawner.cmd": [sys.executable, "-m", "jupyterhub.singleuser"],
            "Spawner.ip": "127.0.0.1",
            "Spawner.args": ["--allow-root"],  # CI runs as root
            "Spawner.environment": {"CELLMON_BATCH_INTERVAL": "0.2"},
        }

    def start(self, timeout_s: float = 60) -> None:
        """Write the config, start the Hub and wait until its API answers through the proxy."""
        assert CHP.exists(), f"{CHP} is missing: `make chp` installs it"
        overrides = "\n".join(f"c.{key} = {value!r}" for key, value in self.settings().items())
        config = self.root / "jupyterhub_config.py"
        config.write_text(readme_config(**self.values) + "\n" + overrides + "\n")
        log = (self.root / "hub.log").open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "jupyterhub", "-f", str(config)],
            cwd=self.root,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        wait_until(self._answers, timeout_s, f"the Hub's API; log: {self.root / 'hub.log'}")
        self.pids.add(int((self.root / "proxy.pid").read_text()))

    def _answers(self) -> bool:
        assert self.process is not None and self.process.poll() is None, self.log_text()[-3000:]
        with suppress(httpx.HTTPError):
            return httpx.get(f"{self.url}/hub/api/", timeout=5).status_code == 200
        return False

    def api(self) -> httpx.Client:
        """The Hub's REST API with the test service's token."""
        headers = {"Authorization": f"token {self.token}"}
        return httpx.Client(base_url=f"{self.url}/hub/api", headers=headers, timeout=30)

    def log_text(self) -> str:
        """The Hub's log so far (its proxy's and the users' servers' too)."""
        return (self.root / "hub.log").read_text(errors="replace")

    def stop(self) -> None:
        """SIGTERM the Hub (it stops the proxy and the servers), then whatever it left."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        for pid in self.pids | self._servers_left():
            stop_pid(pid)

    def _servers_left(self) -> set[int]:
        """Users' servers the Hub still records as running (it clears a server's state once it
        has stopped it)."""
        database = self.root / "jupyterhub.sqlite"
        if not database.exists():
            return set()
        with closing(sqlite3.connect(database)) as db:
            states = [
                json.loads(row[0] or "{}") for row in db.execute("SELECT state FROM spawners")
            ]
        return {int(state["pid"]) for state in states if state.get("pid")}


def running_pid(pid: int) -> bool:
    """Whether the process runs (a zombie has stopped: its parent only has to reap it)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def stop_pid(pid: int) -> None:
    """SIGTERM a process this test started (through the Hub), SIGKILL if it lingers."""
    for sig, wait_s in ((signal.SIGTERM, 20.0), (signal.SIGKILL, 10.0)):
        if not running_pid(pid):
            return
        with suppress(ProcessLookupError):
            os.kill(pid, sig)
        with suppress(AssertionError):
            wait_until(lambda: not running_pid(pid), wait_s, f"pid {pid} to stop")


@contextmanager
def running(hub: Hub) -> Iterator[Hub]:
    """The Hub for the block's duration; stopped with all it started, even on failure."""
    try:
        hub.start()
        yield hub
    finally:
        hub.stop()


@dataclass
class HubServer:
    """A user's single-user server through the Hub's proxy, with that user's API token; has what
    jupyter_harness's helpers use of a JupyterServer."""

    hub: Hub
    name: str
    token: str

    @property
    def url(self) -> str:
        return f"{self.hub.url}/user/{self.name}"

    def api(self) -> httpx.Client:
        """The server's REST API as its user."""
        headers = {"Authorization": f"token {self.token}"}
        return httpx.Client(base_url=self.url, headers=headers, timeout=30)


def start_servers(hub: Hub, names: list[str], timeout_s: float = 120) -> dict[str, HubServer]:
    """Create the users, start each one's server through the Hub's API, wait until all are
    ready, and give each an API token of its own."""
    with hub.api() as api:
        assert api.post("/users", json={"usernames": names}).status_code == 201
        for name in names:
            started = api.post(f"/users/{name}/server")
            assert started.status_code in (201, 202), started.text

        def ready() -> bool:
            users = [api.get(f"/users/{name}").json() for name in names]
            return all(user["servers"].get("", {}).get("ready") for user in users)

        wait_until(ready, timeout_s, f"{names}' servers; log: {hub.root / 'hub.log'}")
        return {name: HubServer(hub, name, _token(api, name)) for name in names}


def _token(api: httpx.Client, name: str) -> str:
    created = api.post(f"/users/{name}/tokens", json={"note": "cellmon test", "expires_in": 3600})
    assert created.status_code == 201, created.text
    return str(created.json()["token"])
