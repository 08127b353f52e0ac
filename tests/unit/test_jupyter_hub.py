"""The JupyterHub enrollment hook's decisions: the student's own token in their server's
environment, or a server that starts without monitoring and a warning in the Hub's log.

An httpx MockTransport plays Cell Monitor: it validates the body with the ingest's own
`Enrollment` model, so a change to what the server accepts shows up here. The real path (a real
Hub, proxy, servers and kernels) is tests/e2e/test_jupyterhub.py."""

from __future__ import annotations

import asyncio
import json
import logging
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
from pydantic import ValidationError

from jupyter_ext.hub import cellmon_enroll
from serve_app.admin import Enrollment

pytestmark = pytest.mark.unit
ROOT = Path(__file__).resolve().parents[2]
URL, ROOM, ENROLLER = "http://cellmon.test:8000", "intro 101", "cmi_enroller"
CELLMON_KEYS = {"CELLMON_SERVER_URL", "CELLMON_TOKEN", "CELLMON_STUDENT_ID"}


@dataclass
class Spawner:
    """The part of a JupyterHub Spawner the hook uses."""

    name: str
    environment: dict[str, Any] = field(default_factory=lambda: {"LANG": "C.UTF-8"})
    log: logging.Logger = field(default_factory=lambda: logging.getLogger("hub-test"))

    @property
    def user(self) -> SimpleNamespace:
        return SimpleNamespace(name=self.name)


@dataclass
class CellMonitor:
    """Cell Monitor's enrollment endpoint as the ingest answers it."""

    requests: list[httpx.Request] = field(default_factory=list)
    issued: int = 0

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if request.url.raw_path != b"/api/v1/classrooms/intro%20101/students":
            return httpx.Response(404, json={"detail": "Not Found"})
        if request.headers.get("authorization") != f"Bearer {ENROLLER}":
            return httpx.Response(403, json={"detail": "an instructor token is required"})
        try:
            who = Enrollment.model_validate_json(request.content)
        except ValidationError as error:
            return httpx.Response(422, json={"detail": json.loads(error.json())})
        self.issued += 1  # every enrollment issues a new token
        token = f"cms_{who.student_id}_{self.issued}"
        return httpx.Response(
            201, json={"classroom_id": ROOM, "student_id": who.student_id, "token": token}
        )


def spawn(spawner: Spawner, handler: Any, **options: Any) -> None:
    hook = cellmon_enroll(URL, ROOM, ENROLLER, transport=httpx.MockTransport(handler), **options)
    asyncio.run(hook(spawner))


def test_the_user_gets_their_own_token_and_the_hub_name_as_student_id(
    caplog: pytest.LogCaptureFixture,
) -> None:
    cellmon, spawner = CellMonitor(), Spawner("alice")
    teams = {"alice": "Team A"}
    with caplog.at_level(logging.INFO):
        spawn(spawner, cellmon, team_of=teams.get, name_of=lambda user: user.title())
    assert spawner.environment == {
        "LANG": "C.UTF-8",  # the Hub's own settings stay
        "CELLMON_SERVER_URL": URL,
        "CELLMON_TOKEN": "cms_alice_1",
        "CELLMON_STUDENT_ID": "alice",
    }
    [request] = cellmon.requests
    assert json.loads(request.content) == {"student_id": "alice", "name": "Alice", "team": "Team A"}
    assert "alice enrolled in classroom intro 101" in caplog.text


def test_each_start_enrolls_again_and_the_new_token_replaces_the_old() -> None:
    cellmon, spawner = CellMonitor(), Spawner("bob")
    spawn(spawner, cellmon)
    spawn(spawner, cellmon)
    assert spawner.environment["CELLMON_TOKEN"] == "cms_bob_2"
    assert json.loads(cellmon.requests[0].content) == {
        "student_id": "bob",
        "name": None,
        "team": None,
    }


def test_the_enrollment_credential_never_reaches_the_student_or_the_log(
    caplog: pytest.LogCaptureFixture,
) -> None:
    spawner = Spawner("alice")
    with caplog.at_level(logging.DEBUG):
        spawn(spawner, CellMonitor())
        spawn(spawner, lambda request: httpx.Response(503, json={"detail": "busy"}))
    assert ENROLLER not in caplog.text and "cms_alice" not in caplog.text
    assert ENROLLER not in repr(spawner.environment)


def unreachable(request: httpx.Request) -> httpx.Response:
    raise httpx.ConnectError("connection refused", request=request)


async def silent(request: httpx.Request) -> httpx.Response:
    await asyncio.Event().wait()  # never answers
    raise AssertionError("unreachable")


def answering(status: int, detail: Any = "no") -> Any:
    return lambda request: httpx.Response(status, json={"detail": detail})


@pytest.mark.parametrize(
    ("user", "handler", "why"),
    [
        ("alice", unreachable, "Cell Monitor is unreachable (http://cellmon.test:8000/api/v1/"),
        ("alice", silent, "did not answer within 0.2 s"),
        ("alice", answering(503, "the registry cannot be written"), "HTTP 503: the registry"),
        ("alice", lambda request: httpx.Response(502, text="<html>bad gateway"), "HTTP 502: <"),
        ("alice", answering(401, "unknown token"), "refused the enrollment token (HTTP 401"),
        ("alice", answering(404, "no classroom 'x'"), "no such classroom, or not Cell Monitor"),
        ("a" * 129, CellMonitor(), "not a valid student id (HTTP 422"),
        ("a\x00b", CellMonitor(), "enrolled the id 'ab', not the Hub username 'a\\x00b'"),
        (
            "alice",
            lambda request: httpx.Response(201, text="ok"),
            "could not enroll the user (HTTP 201: ok)",
        ),
    ],
    ids=["down", "silent", "503", "502-html", "401", "404", "too-long", "cleaned", "not-json"],
)
def test_a_user_who_cannot_be_enrolled_still_gets_a_server_without_monitoring(
    user: str, handler: Any, why: str, caplog: pytest.LogCaptureFixture
) -> None:
    earlier = {key: "from an earlier start, maybe replaced since" for key in CELLMON_KEYS}
    spawner = Spawner(user, {"LANG": "C.UTF-8", **earlier})
    with caplog.at_level(logging.WARNING):
        spawn(spawner, handler, timeout_s=0.2)  # returns: the Hub goes on to start the server
    assert CELLMON_KEYS.isdisjoint(spawner.environment) and spawner.environment["LANG"]
    [warning] = [r for r in caplog.records if r.name == "hub-test" and r.levelno >= logging.WARNING]
    assert "server starts without monitoring" in warning.getMessage()
    assert why in warning.getMessage()


def test_a_team_lookup_that_fails_does_not_stop_the_server(
    caplog: pytest.LogCaptureFixture,
) -> None:
    spawner = Spawner("alice")
    with caplog.at_level(logging.WARNING):
        spawn(spawner, CellMonitor(), team_of={}.__getitem__)
    assert CELLMON_KEYS.isdisjoint(spawner.environment)
    assert "enrollment failed: KeyError('alice')" in caplog.text


def test_the_wrong_credential_for_the_classroom_is_named_in_the_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    hook = cellmon_enroll(URL, ROOM, "cmi_other", transport=httpx.MockTransport(CellMonitor()))
    with caplog.at_level(logging.WARNING):
        asyncio.run(hook(Spawner("alice")))
    assert "it must be an instructor token of this classroom" in caplog.text


@pytest.mark.parametrize(
    ("url", "room", "token", "why"),
    [
        ("cellmon.test:8000", ROOM, ENROLLER, "server_url must be http(s)"),
        (URL, "", ENROLLER, "classroom_id is empty"),
        (URL, ROOM, " \n", "enrollment token (an instructor token) is empty"),
    ],
)
def test_a_mistake_in_the_hubs_config_stops_the_hub_at_start(
    url: str, room: str, token: str, why: str
) -> None:
    with pytest.raises(ValueError, match=why.replace("(", r"\(").replace(")", r"\)")):
        cellmon_enroll(url, room, token)


def test_the_hub_imports_the_hook_without_jupyter_server_or_ray() -> None:
    refuse = (
        "import sys\n"
        "class Refuse:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.split('.')[0] in {'ray', 'jupyter_server', 'tornado', 'actors'}:\n"
        "            raise ImportError(name)\n"
        "sys.meta_path.insert(0, Refuse())\n"
        "from jupyter_ext.hub import cellmon_enroll\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", refuse], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr[-2000:]
