"""JupyterHub enrollment: a `Spawner.pre_spawn_hook` that enrolls each user in a classroom and
gives their server that student's own token. It runs in the Hub's process, so it needs neither
jupyter_server nor Ray: only httpx."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import quote

import httpx

# What the hook sets in the user's server environment; the server extension reads these.
SERVER_URL, TOKEN, STUDENT_ID = "CELLMON_SERVER_URL", "CELLMON_TOKEN", "CELLMON_STUDENT_ID"
CELLMON_KEYS = (SERVER_URL, TOKEN, STUDENT_ID)
DETAIL_CHARS = 300  # of the server's answer, in the Hub's log

UserField = Callable[[str], str | None]


class _User(Protocol):
    name: str


class SpawnerLike(Protocol):
    """What the hook uses of a JupyterHub Spawner."""

    user: _User
    environment: dict[str, Any]
    log: logging.Logger


@dataclass(frozen=True)
class Enrolled:
    """Cell Monitor enrolled the user and issued their own token."""

    token: str


@dataclass(frozen=True)
class NotEnrolled:
    """Why this server starts without monitoring, in words for the Hub's log."""

    reason: str


Outcome = Enrolled | NotEnrolled


def cellmon_enroll(
    server_url: str,
    classroom_id: str,
    enrollment_token: str,
    *,
    team_of: UserField | None = None,
    name_of: UserField | None = None,
    timeout_s: float = 5.0,
    transport: httpx.AsyncBaseTransport | None = None,
) -> Callable[[SpawnerLike], Awaitable[None]]:
    """A pre_spawn_hook enrolling each Hub user (their name as the student id) in the
    classroom; a server whose user cannot be enrolled starts anyway, without monitoring."""
    url = _enroll_url(server_url, classroom_id)
    if not enrollment_token.strip():
        raise ValueError("cellmon_enroll: the enrollment token (an instructor token) is empty")

    async def hook(spawner: SpawnerLike) -> None:
        username = spawner.user.name
        try:
            body = _enrollment(username, team_of, name_of)
            async with httpx.AsyncClient(transport=transport) as client:
                outcome = await _request(client, url, enrollment_token, body, timeout_s)
        except Exception as error:  # a monitoring failure never stops a student's server
            outcome = NotEnrolled(f"enrollment failed: {error!r}")
        spawner.environment = environment_for(spawner.environment, server_url, username, outcome)
        _log(spawner.log, username, classroom_id, outcome)

    return hook


def _enroll_url(server_url: str, classroom_id: str) -> str:
    """The enrollment endpoint; a mistake in the Hub's config stops the Hub, not a spawn."""
    if not server_url.startswith(("http://", "https://")):
        raise ValueError(f"cellmon_enroll: server_url must be http(s)://..., not {server_url!r}")
    if not classroom_id:
        raise ValueError("cellmon_enroll: classroom_id is empty")
    return f"{server_url.rstrip('/')}/api/v1/classrooms/{quote(classroom_id, safe='')}/students"


def _enrollment(
    username: str, team_of: UserField | None, name_of: UserField | None
) -> dict[str, Any]:
    """The enrollment body; name and team are the roster's, so None clears what was there."""
    return {
        "student_id": username,
        "name": name_of(username) if name_of else None,
        "team": team_of(username) if team_of else None,
    }


async def _request(
    client: httpx.AsyncClient, url: str, token: str, body: dict[str, Any], timeout_s: float
) -> Outcome:
    """POST the enrollment within `timeout_s` in all (httpx's timeout is per phase)."""
    try:
        async with asyncio.timeout(timeout_s):
            answer = await client.post(
                url, json=body, headers={"Authorization": f"Bearer {token}"}, timeout=timeout_s
            )
    except TimeoutError:
        return NotEnrolled(f"Cell Monitor did not answer within {timeout_s:g} s ({url})")
    except httpx.HTTPError as error:
        return NotEnrolled(f"Cell Monitor is unreachable ({url}): {error!r}")
    return judge(body["student_id"], answer.status_code, _json(answer), answer.text)


def _json(answer: httpx.Response) -> Any:
    try:
        return answer.json()
    except ValueError:
        return None


def judge(username: str, status: int, body: Any, text: str = "") -> Outcome:
    """What an answer of the enrollment endpoint means for the user's server."""
    detail = str(body.get("detail", text) if isinstance(body, dict) else text)[:DETAIL_CHARS]
    if status == 201 and isinstance(body, dict) and isinstance(body.get("token"), str):
        return _for_the_hub_name(username, body)
    if status in (401, 403):
        return NotEnrolled(
            f"Cell Monitor refused the enrollment token (HTTP {status}: {detail}); it must be "
            "an instructor token of this classroom"
        )
    if status == 404:
        return NotEnrolled(f"no such classroom, or not Cell Monitor's URL (HTTP 404: {detail})")
    if status == 422:
        return NotEnrolled(f"the Hub username is not a valid student id (HTTP 422: {detail})")
    return NotEnrolled(f"Cell Monitor could not enroll the user (HTTP {status}: {detail})")


def _for_the_hub_name(username: str, body: dict[str, Any]) -> Outcome:
    # The server extension names the student by the Hub name (JUPYTERHUB_USER): a token bound
    # to another id (one Cell Monitor cleaned) would have every event refused as forbidden.
    if body.get("student_id") != username:
        return NotEnrolled(
            f"Cell Monitor enrolled the id {body.get('student_id')!r}, not the Hub username "
            f"{username!r}: the username is not usable as a student id as it is"
        )
    return Enrolled(body["token"])


def environment_for(
    environment: Mapping[str, Any], server_url: str, username: str, outcome: Outcome
) -> dict[str, Any]:
    """The user's server environment: the student's own settings, or none of Cell Monitor's
    (a previous spawn's token may have been replaced since)."""
    kept = {key: value for key, value in environment.items() if key not in CELLMON_KEYS}
    if isinstance(outcome, NotEnrolled):
        return kept
    return {**kept, SERVER_URL: server_url, TOKEN: outcome.token, STUDENT_ID: username}


def _log(log: logging.Logger, username: str, classroom_id: str, outcome: Outcome) -> None:
    if isinstance(outcome, Enrolled):
        log.info("Cell Monitor: %s enrolled in classroom %s", username, classroom_id)
    else:
        # The server still starts; the next start of the user's server tries again.
        log.warning(
            "Cell Monitor: %s's server starts without monitoring (tried again at its next "
            "start): %s",
            username,
            outcome.reason,
        )
