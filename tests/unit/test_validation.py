"""Per-item validation of an ingest batch: bad items are named, good items still pass."""

from __future__ import annotations

from typing import Any

import pytest

from cellmon.contract import EVENT_TYPES, CellExecuted, Heartbeat, occurred_at
from cellmon.limits import Limits
from cellmon.validation import ParsedBatch, Rejection, Sender, parse_batch
from tests.unit.factories import at

pytestmark = pytest.mark.unit

RECEIVED = at(5)


def parse(items: list[Any], limits: Limits | None = None) -> ParsedBatch:
    return parse_batch(items, sender=Sender("c1"), received_at=RECEIVED, limits=limits or Limits())


def item(event_id: str = "e1", type: str = "heartbeat", **fields: Any) -> dict[str, Any]:
    """A v1 item as a client sends it: JSON types, no classroom (the token gives it)."""
    base = {"type": type, "event_id": event_id, "student_id": "s1", "time": "2024-03-04T09:00:00Z"}
    if type == "cell_executed":
        base.update(cell_id="cell-1", status="ok")
    return {**base, **fields}


BAD_ITEMS: list[tuple[Any, str | None, str]] = [
    (42, None, "item must be a JSON object, got a number"),
    (["a"], None, "item must be a JSON object, got an array"),
    (None, None, "item must be a JSON object, got null"),
    ({"event_id": "e-notype", "student_id": "s1"}, "e-notype", "missing field 'type'"),
    (item("e-bool", "cell_executed", cell_index="third"), "e-bool", "cell_index:"),
    (item("e-naive", time="2024-03-04T09:00:00"), "e-naive", "time: Input should have timezone"),
    (item("e-status", "cell_executed", status="crashed"), "e-status", "status: Input should be"),
    (item("e-extra", colour="red"), "e-extra", "colour: Extra inputs are not permitted"),
    (item("e-nostudent", student_id=None), "e-nostudent", "student_id:"),
    ({"type": ["help"], "event_id": "e-list"}, "e-list", "unknown event type"),
]


def test_each_bad_item_is_rejected_with_index_id_and_reason() -> None:
    items = [item("good-1")]
    for bad, _, _ in BAD_ITEMS:
        items.append(bad)
    items.append(item("good-2", "cell_executed"))

    batch = parse(items)

    assert [e.event_id for e in batch.events] == ["good-1", "good-2"]
    assert [r.index for r in batch.rejected] == list(range(1, len(BAD_ITEMS) + 1))
    for rejection, (_, event_id, reason) in zip(batch.rejected, BAD_ITEMS, strict=True):
        assert rejection.kind == "invalid"
        assert rejection.event_id == event_id
        assert reason in rejection.reason


def test_unknown_type_lists_the_known_types() -> None:
    [rejection] = parse([item("e1", type="cell_run")]).rejected
    assert rejection.reason.startswith("unknown event type 'cell_run'; expected one of: ")
    for known in EVENT_TYPES:
        assert known in rejection.reason


def test_several_problems_in_one_item_are_all_named() -> None:
    bad = item("e1", "cell_executed", status="nope", execution_count=-1)
    [rejection] = parse([bad]).rejected
    assert "status:" in rejection.reason and "execution_count:" in rejection.reason


def test_an_event_for_another_classroom_is_forbidden() -> None:
    batch = parse([item("mine"), item("theirs", classroom_id="c2")])
    assert [e.event_id for e in batch.events] == ["mine"]
    assert batch.rejected == [
        Rejection(1, "event is for classroom 'c2' but the token is for 'c1'", "forbidden", "theirs")
    ]


def test_missing_classroom_is_taken_from_the_token() -> None:
    [ev] = parse([item()]).events
    assert ev.classroom_id == "c1"
    [ev] = parse([item(classroom_id="c1")]).events
    assert ev.classroom_id == "c1"


def test_good_items_become_typed_events() -> None:
    batch = parse([item("a"), item("b", "cell_executed", duration_ms=12.5)])
    assert isinstance(batch.events[0], Heartbeat)
    assert isinstance(batch.events[1], CellExecuted)
    assert batch.events[1].duration_ms == 12.5


def test_oversized_code_is_truncated_and_flagged() -> None:
    limits = Limits(max_code_chars=10)
    [long, short] = parse(
        [item("long", "cell_executed", code="y" * 25), item("short", "cell_executed", code="y=1")],
        limits,
    ).events
    assert (long.code, long.code_truncated) == ("y" * 10, True)
    assert (short.code, short.code_truncated) == ("y=1", False)


def test_code_at_the_limit_is_not_flagged() -> None:
    [ev] = parse([item("e", "cell_executed", code="z" * 10)], Limits(max_code_chars=10)).events
    assert ev.code_truncated is False


def test_oversized_error_value_is_truncated() -> None:
    bad_run = item(
        "e", "cell_executed", status="error", error_name="ValueError", error_value="v" * 50
    )
    [ev] = parse([bad_run], Limits(max_error_chars=20)).events
    assert (ev.error_name, ev.error_value) == ("ValueError", "v" * 20)


def test_received_at_is_stamped_by_the_server() -> None:
    [ev] = parse([item()]).events
    assert ev.received_at == RECEIVED


@pytest.mark.parametrize("spoofed", ["2030-01-01T00:00:00Z", "2000-01-01T00:00:00Z", None])
def test_a_client_cannot_spoof_received_at(spoofed: Any) -> None:
    far_ahead = item(time=at(5 + 12 * 60).isoformat(), received_at=spoofed)  # 12 h fast
    [ev] = parse([far_ahead]).events
    assert ev.received_at == RECEIVED
    assert occurred_at(ev) == RECEIVED  # a client clock ahead cannot push itself forward


def test_one_bad_item_never_drops_the_batch() -> None:
    odd = [{"eventType": ["help"]}, {"eventType": {"k": 1}}, {"type": {"k": 1}}]
    batch = parse([*odd, item("ok")])
    assert [e.event_id for e in batch.events] == ["ok"]
    assert [r.index for r in batch.rejected] == [0, 1, 2]


def test_rejection_json_form() -> None:
    [rejection] = parse([item("x", type="nope")]).rejected
    assert rejection.as_dict() == {
        "index": 0,
        "event_id": "x",
        "kind": "invalid",
        "reason": rejection.reason,
    }


def test_rejections_keep_input_order_and_non_string_ids_are_dropped() -> None:
    batch = parse([{"type": "nope", "event_id": 7}, item("ok"), {"type": "nope", "eventId": "s"}])
    assert [(r.index, r.event_id) for r in batch.rejected] == [(0, None), (2, "s")]
