"""Hostile and messy items: each is cleaned or refused on its own, with a reason, never raising."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cellmon.limits import Limits
from cellmon.validation import ParsedBatch, Sender, clean, might_hold_unstorable, parse_batch
from tests.unit.factories import at

pytestmark = pytest.mark.unit

RECEIVED = at(5)
TEXT_FIELDS = ("notebook_path", "student_name", "team", "code", "error_name", "error_value")


def parse(items: list[Any], limits: Limits | None = None) -> ParsedBatch:
    return parse_batch(items, sender=Sender("c1"), received_at=RECEIVED, limits=limits or Limits())


def run(**fields: Any) -> dict[str, Any]:
    base = {
        "type": "cell_executed",
        "event_id": "e1",
        "student_id": "s1",
        "time": RECEIVED.isoformat(),
        "cell_id": "c",
        "status": "error",
    }
    return {**base, **fields}


@pytest.mark.parametrize("field", TEXT_FIELDS)
@pytest.mark.parametrize(
    ("raw", "stored"), [("a\x00b", "ab"), ("a\ud800b", "a\ufffdb"), ("\udfff\x00", "\ufffd")]
)
def test_unstorable_text_is_cleaned_and_flagged(field: str, raw: str, stored: str) -> None:
    [ev] = parse([run(**{field: raw})]).events
    assert getattr(ev, field) == stored
    assert ev.text_cleaned is True


def test_clean_text_is_not_flagged() -> None:
    [ev] = parse([run(student_name="Zoë 🙂", team="チームA")]).events
    assert ev.text_cleaned is False and ev.student_name == "Zoë 🙂"


def test_ids_with_nul_are_cleaned_before_they_reach_a_store() -> None:
    [ev] = parse([run(event_id="e\x00", student_id="s\ud8001")]).events
    assert (ev.event_id, ev.student_id) == ("e", "s\ufffd1")


@pytest.mark.parametrize(
    "time",
    [
        "0001-01-01T00:00:00+14:00",
        "0001-01-01T00:00:00Z",
        "9999-12-31T23:59:59-14:00",
        "9999-12-31T23:59:59Z",
        at(5 - 31 * 24 * 60).isoformat(),  # a month late: beyond the spool's window
        at(5 + 25 * 60).isoformat(),  # a clock a day fast
    ],
)
def test_times_outside_the_window_are_refused(time: str) -> None:
    batch = parse([run(time=time), run(event_id="ok")])
    assert [e.event_id for e in batch.events] == ["ok"]
    [rejection] = batch.rejected
    assert rejection.reason.startswith("time: more than") and rejection.kind == "invalid"


def test_times_inside_the_window_are_kept() -> None:
    late = at(5 - 29 * 24 * 60).isoformat()  # the offline spool, four weeks later
    fast = at(5 + 23 * 60).isoformat()
    assert (
        len(parse([run(event_id="late", time=late), run(event_id="fast", time=fast)]).events) == 2
    )


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("cell_index", 2**63),
        ("cell_index", 2**70),
        ("cell_index", "1" + "0" * 30),
        ("cell_index", float(2**70)),
        ("execution_count", 2**63),
        ("duration_ms", "inf"),
        ("duration_ms", "nan"),
        ("duration_ms", 1e300),
        ("cell_index", -1),
    ],
)
def test_numbers_beyond_what_a_kernel_makes_are_refused(field: str, value: Any) -> None:
    batch = parse([run(**{field: value}), run(event_id="ok")])
    assert [e.event_id for e in batch.events] == ["ok"]
    assert batch.rejected[0].reason.startswith(f"{field}:")


def test_huge_ids_and_paths_are_refused_and_not_echoed_whole() -> None:
    huge = "x" * 70_000
    batch = parse([run(event_id=huge), run(event_id="p", notebook_path=huge), run(student_id=huge)])
    assert batch.events == [] and len(batch.rejected) == 3
    assert all(len(r.event_id or "") <= 128 for r in batch.rejected)
    assert all(len(r.reason) < 500 for r in batch.rejected)


def test_unknown_camel_case_types_are_refused_with_the_known_ones() -> None:
    [rejection] = parse([{"eventType": "instructor_assignment\x00", "eventId": "a"}]).rejected
    assert "unknown eventType" in rejection.reason and "\x00" not in rejection.reason


def test_nested_values_in_text_fields_are_refused() -> None:
    batch = parse([run(code={"nested": ["x\x00"]}), run(student_name=[1, 2])])
    assert batch.events == [] and [r.index for r in batch.rejected] == [0, 1]


def test_clean_keeps_ordinary_text_identical() -> None:
    text = "ordinary text\twith tabs\nand lines"
    assert clean(text) is text


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)
FIELD_NAMES = [
    "type", "event_id", "student_id", "classroom_id", "time", "notebook_path", "cell_id",
    "cell_index", "status", "code", "duration_ms", "execution_count", "eventType", "eventId",
    "emailAddress", "hasError", "errorMessage", "eventTime", "received_at", "text_cleaned",
]  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(st.lists(json_values, max_size=5))
def test_any_json_value_is_accepted_or_rejected_never_raises(items: list[Any]) -> None:
    batch = parse(items)
    assert len(batch.events) + len(batch.rejected) == len(items)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.sampled_from(FIELD_NAMES), json_values, max_size=8))
def test_any_field_values_are_accepted_or_rejected_never_raise(fields: dict[str, Any]) -> None:
    for item in (run(**fields), {"eventType": "cell_executed", **fields}):
        batch = parse([item])
        assert len(batch.events) + len(batch.rejected) == 1
        for ev in batch.events:  # whatever passes can be stored: no NUL, no lone surrogate
            assert ev.model_dump_json().encode("utf-8")
            assert "\\u0000" not in ev.model_dump_json()


@pytest.mark.parametrize(
    ("body", "might"),
    [
        (b'[{"a": "plain text, \\\\u0041 and \\\\n"}]', False),
        (b'[{"a": "x\\\\u0000y"}]', True),
        (b'[{"a": "x\\\\ud800y"}]', True),
        (b'[{"a": "x\\\\uDFFFy"}]', True),
        (b'[{"a": "x\\\\ud7ffy"}]', False),  # the last code point before the surrogates
    ],
)
def test_a_body_without_escaped_nul_or_surrogates_needs_no_cleaning(
    body: bytes, might: bool
) -> None:
    assert might_hold_unstorable(body) is might


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(), max_size=5))
def test_whatever_the_fast_path_skips_has_nothing_to_clean(texts: list[str]) -> None:
    body = json.dumps([{"student_name": t} for t in texts]).encode()
    if not might_hold_unstorable(body):
        assert all(clean(t) == t for t in texts)
