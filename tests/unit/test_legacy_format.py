"""The existing system's camelCase payloads map onto contract v1 unchanged."""

from __future__ import annotations

from typing import Any

import pytest

from cellmon.legacy_format import SEED_TYPES, from_seed, is_seed_event, split_error_message
from cellmon.validation import Sender, parse_batch
from tests.unit.factories import T0, at

pytestmark = pytest.mark.unit


def seed(event_type: str = "cell_executed", **fields: Any) -> dict[str, Any]:
    """A payload as the legacy extension sends it (`toISOString()` time)."""
    return {
        "eventId": "legacy-1",
        "eventType": event_type,
        "eventTime": "2024-03-04T09:00:00.000Z",
        "emailAddress": "ada@example.org",
        "notebookPath": "lab1.ipynb",
        **fields,
    }


def accept(*items: dict[str, Any]) -> list[Any]:
    batch = parse_batch(list(items), sender=Sender("c1"), received_at=at(1))
    assert batch.rejected == []
    return batch.events


def reject(payload: dict[str, Any]) -> str:
    batch = parse_batch([payload], sender=Sender("c1"), received_at=at(1))
    assert batch.events == []
    [rejection] = batch.rejected
    return rejection.reason


def test_a_seed_run_is_the_same_event_as_its_v1_form() -> None:
    legacy = seed(
        cellId="abc",
        cellIndex=3,
        cellType="code",
        code="x = 1",
        executionCount=7,
        executionDurationMs=41.5,
        hasError=False,
        userName="Ada",
        teamName="red",
        sessionId="sess-1",
    )
    v1 = {
        "type": "cell_executed",
        "event_id": "legacy-1",
        "time": "2024-03-04T09:00:00Z",
        "student_id": "ada@example.org",
        "notebook_path": "lab1.ipynb",
        "cell_id": "abc",
        "cell_index": 3,
        "cell_type": "code",
        "code": "x = 1",
        "execution_count": 7,
        "duration_ms": 41.5,
        "status": "ok",
        "student_name": "Ada",
        "team": "red",
        "session_id": "sess-1",
    }
    assert accept(legacy) == accept(v1)


MAPPING = {
    "cell_executed": "cell_executed",
    "notebook_opened": "notebook_opened",
    "notebook_saved": "notebook_saved",
    "notebook_save": "notebook_saved",
    "notebook_closed": "notebook_closed",
    "help": "help",
    "help_stop": "help_stop",
    "student_session_start": "heartbeat",
    "progress_update": "heartbeat",
}


@pytest.mark.parametrize(("legacy_type", "ours"), MAPPING.items())
def test_event_type_mapping(legacy_type: str, ours: str) -> None:
    [ev] = accept(seed(legacy_type))
    assert ev.type == ours


def test_no_other_legacy_type_is_accepted() -> None:
    assert SEED_TYPES == MAPPING


@pytest.mark.parametrize("legacy_type", ["instructor_assignment", "error_occurred", None])
def test_unknown_legacy_types_are_rejected_clearly(legacy_type: str | None) -> None:
    reason = reject(seed(legacy_type))  # type: ignore[arg-type]
    assert reason.startswith(f"unknown eventType {legacy_type!r}; expected one of: ")
    assert "notebook_save," in reason and "progress_update" in reason


def test_email_address_is_the_student_id() -> None:
    [ev] = accept(seed("help"))
    assert ev.student_id == "ada@example.org"


def test_older_user_id_is_the_student_id() -> None:
    payload = seed("help", userId="u-42")
    del payload["emailAddress"]
    [ev] = accept(payload)
    assert ev.student_id == "u-42"


def test_email_address_wins_over_user_id() -> None:
    [ev] = accept(seed("help", userId="u-42"))
    assert ev.student_id == "ada@example.org"


def test_no_student_at_all_is_rejected() -> None:
    payload = seed("help")
    del payload["emailAddress"]
    assert "student_id: Field required" in reject(payload)


def test_has_error_splits_the_error_message() -> None:
    [ev] = accept(seed(hasError=True, errorMessage="NameError: name 'x' is not defined"))
    assert ev.status == "error"
    assert (ev.error_name, ev.error_value) == ("NameError", "name 'x' is not defined")


@pytest.mark.parametrize(
    "message", ["Kernel died", "Error in cell 3: oops", "a:b", ": nothing named"]
)
def test_a_message_without_a_name_prefix_is_all_value(message: str) -> None:
    [ev] = accept(seed(hasError=True, errorMessage=message))
    assert (ev.status, ev.error_name, ev.error_value) == ("error", None, message)


def test_has_error_without_a_message_is_still_an_error() -> None:
    [ev] = accept(seed(hasError=True))
    assert (ev.status, ev.error_name, ev.error_value) == ("error", None, None)


@pytest.mark.parametrize("flag", [False, None])
def test_no_error_flag_is_ok_and_ignores_a_stale_message(flag: bool | None) -> None:
    [ev] = accept(seed(hasError=flag, errorMessage="NameError: old"))
    assert (ev.status, ev.error_name, ev.error_value) == ("ok", None, None)


def test_split_error_message_edge_cases() -> None:
    assert split_error_message("ValueError: a: b") == ("ValueError", "a: b")
    assert split_error_message("") == (None, None)
    assert split_error_message(None) == (None, None)


def test_execution_duration_becomes_duration_ms() -> None:
    [ev] = accept(seed(executionDurationMs=250))
    assert ev.duration_ms == 250.0


def test_cell_output_is_never_kept() -> None:
    payload = seed(result="secret output\n" * 100, hasError=False)
    assert "result" not in from_seed(payload)
    [ev] = accept(payload)
    assert "secret output" not in ev.model_dump_json()


@pytest.mark.parametrize(
    "time",
    [
        "2024-03-04T09:00:00.000",
        "2024-03-04T09:00:00",
        "2024-03-04T09:00:00.000Z",
        "2024-03-04T11:00:00+02:00",
    ],
)
def test_event_time_is_read_as_utc_when_it_has_no_offset(time: str) -> None:
    [ev] = accept(seed("help", eventTime=time))
    assert ev.time == T0
    assert ev.time.utcoffset() is not None


def test_an_unreadable_event_time_is_rejected() -> None:
    assert reject(seed("help", eventTime="last tuesday")).startswith("time:")


def test_cell_fields_are_dropped_for_non_cell_events() -> None:
    payload = seed(
        "notebook_save",
        cellId="abc",
        cellIndex=2,
        cellType="code",
        code="x",
        executionCount=3,
        executionDurationMs=10,
        hasError=True,
        errorMessage="NameError: x",
    )
    mapped = from_seed(payload)
    assert mapped == {
        "type": "notebook_saved",
        "event_id": "legacy-1",
        "time": T0,
        "notebook_path": "lab1.ipynb",
        "student_id": "ada@example.org",
    }
    [ev] = accept(payload)
    assert ev.type == "notebook_saved"


def test_seed_payloads_get_the_tokens_classroom() -> None:
    [ev] = accept(seed("help"))
    assert ev.classroom_id == "c1"


def test_seed_detection() -> None:
    assert is_seed_event({"eventType": "help"})
    assert is_seed_event({"eventId": "x"})
    assert not is_seed_event({"type": "help", "event_id": "x"})
