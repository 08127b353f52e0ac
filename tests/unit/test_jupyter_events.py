"""The pure event builder: kernel messages in, contract events out."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import TypeAdapter

from cellmon.contract import Event
from jupyter_ext import events
from jupyter_ext.events import Identity

pytestmark = pytest.mark.unit

NOW = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)
ANA = Identity("ana", "Ana", "A")
VALID = TypeAdapter(Event)


def request(code: str = "x = 1", **metadata: Any) -> dict[str, Any]:
    return {
        "header": {"msg_id": "req-1", "msg_type": "execute_request", "username": "mallory"},
        "metadata": {"cellId": "cell-7", "deletedCells": [], "recordTiming": False, **metadata},
        "content": {"code": code, "silent": False, "stop_on_error": True},
    }


def reply(status: str, **content: Any) -> dict[str, Any]:
    return {
        "header": {"msg_type": "execute_reply", "date": "2026-11-27T10:00:01.250000Z"},
        "parent_header": {"msg_id": "req-1", "username": "mallory"},
        "metadata": {"started": "2026-11-27T10:00:01.000000Z"},
        "content": {"status": status, "execution_count": 4, **content},
    }


def build(req: dict[str, Any], rep: dict[str, Any], mode: str = "full") -> dict[str, Any]:
    parsed_request = events.execute_request(req)
    parsed_reply = events.execute_reply(rep)
    assert parsed_request is not None and parsed_reply is not None
    event = events.cell_executed(
        parsed_request,
        parsed_reply,
        kernel_id="k1",
        identity=ANA,
        notebook_path="lesson.ipynb",
        session_id="s1",
        code_mode=mode,  # type: ignore[arg-type]
        now=NOW,
    )
    VALID.validate_python({**event, "classroom_id": "c1"})  # the ingest would accept it
    return event


def test_ok_reply_gives_status_count_and_kernel_run_time() -> None:
    event = build(request(), reply("ok"))
    assert (event["status"], event["execution_count"], event["duration_ms"]) == ("ok", 4, 250.0)
    assert (event["cell_id"], event["code"], event["notebook_path"]) == (
        "cell-7",
        "x = 1",
        "lesson.ipynb",
    )
    assert event["error_name"] is None


def test_error_reply_carries_name_and_bounded_message() -> None:
    event = build(request("1/0"), reply("error", ename="ValueError", evalue="v" * 5000))
    assert event["status"] == "error" and event["error_name"] == "ValueError"
    assert len(event["error_value"]) == events.MAX_ERROR_CHARS
    assert event["error_value"].endswith("…")


def test_aborted_reply_has_no_run_time() -> None:
    aborted = reply("aborted")
    aborted["metadata"] = {}
    aborted["content"] = {"status": "aborted"}
    event = build(request(), aborted)
    assert (event["status"], event["duration_ms"], event["execution_count"]) == (
        "aborted",
        None,
        None,
    )


@pytest.mark.parametrize(
    ("mode", "expected"),
    [
        ("full", "secret = 42"),
        ("hash", "sha256:" + hashlib.sha256(b"secret = 42").hexdigest()),
        ("none", ""),
    ],
)
def test_code_capture_modes(mode: str, expected: str) -> None:
    assert build(request("secret = 42"), reply("ok"), mode)["code"] == expected


def test_long_code_is_truncated_and_flagged() -> None:
    event = build(request("a" * (events.MAX_CODE_CHARS + 10)), reply("ok"))
    assert len(event["code"]) == events.MAX_CODE_CHARS and event["code_truncated"] is True


def test_cell_index_used_when_the_frontend_sends_it() -> None:
    assert build(request(cellIndex=3), reply("ok"))["cell_index"] == 3
    assert build(request(), reply("ok"))["cell_index"] is None


def test_identity_comes_from_the_server_never_from_headers() -> None:
    event = build(request(), reply("ok"))
    assert (event["student_id"], event["student_name"], event["team"]) == ("ana", "Ana", "A")
    assert "mallory" not in str(event)


def test_event_id_is_stable_per_kernel_request() -> None:
    first, again = build(request(), reply("ok")), build(request(), reply("ok"))
    assert first["event_id"] == again["event_id"] == events.event_id_for("k1", "req-1")
    assert events.event_id_for("k2", "req-1") != first["event_id"]


def test_silent_requests_and_other_messages_are_not_cell_runs() -> None:
    silent = request()
    silent["content"]["silent"] = True
    assert events.execute_request(silent) is None
    assert events.execute_request({"header": {"msg_type": "kernel_info_request"}}) is None
    assert events.execute_reply({"header": {"msg_type": "status"}}) is None


def test_run_time_accepts_datetimes_and_rejects_negative() -> None:
    rep = reply("ok")
    rep["header"]["date"] = datetime(2026, 11, 27, 10, 0, 2, tzinfo=UTC)
    assert events.kernel_run_ms(rep) == 1000.0
    rep["metadata"]["started"] = "2026-11-27T10:00:03Z"
    assert events.kernel_run_ms(rep) is None


def test_notebook_and_help_events_validate() -> None:
    for kind in ("notebook_opened", "notebook_saved", "notebook_closed", "help", "help_stop"):
        event = events.simple_event(kind, ANA, notebook_path="a.ipynb", session_id=None, now=NOW)
        assert VALID.validate_python({**event, "classroom_id": "c1"}).type == kind


def test_naive_time_is_refused() -> None:
    naive = datetime(2026, 1, 1)  # noqa: DTZ001 - the point of the test
    with pytest.raises(ValueError, match="timezone"):
        events.simple_event("help", ANA, notebook_path=None, session_id=None, now=naive)
