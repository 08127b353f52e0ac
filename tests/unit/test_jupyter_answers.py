"""`answers.judge` for any answer: it never raises, and only a judged item leaves the spool."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cellmon.backoff import MAX_RETRY_AFTER_S, retry_after_s
from jupyter_ext.answers import judge

pytestmark = pytest.mark.unit

NOTABLE = [301, 307, 400, 401, 403, 404, 405, 408, 409, 410, 413, 422, 429, 500, 502, 503]
batches = st.lists(st.text(min_size=1, max_size=8), min_size=1, max_size=6, unique=True)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=5),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)


@st.composite
def rejection_bodies(draw: st.DrawFn, batch: list[str]) -> tuple[bytes, set[int]]:
    """A `rejected` list mixing items that name the batch with junk; and the named positions."""
    items: list[Any] = []
    named: set[int] = set()
    for _ in range(draw(st.integers(0, 6))):
        position = draw(st.integers(0, len(batch) - 1))
        how = draw(st.sampled_from(["index", "id", "both", "junk", "wrong-id"]))
        if how == "junk":  # anything but an object: an object could name an item by chance
            items.append(draw(json_values.filter(lambda v: not isinstance(v, dict))))
            continue
        item: dict[str, Any] = {"kind": "invalid", "reason": "bad"}
        if how in ("index", "both", "wrong-id"):
            item["index"] = position
        if how in ("id", "both"):
            item["event_id"] = batch[position]
        if how == "wrong-id":
            item["event_id"] = "\0not-an-id"  # index and id disagree: nothing is named
        else:
            named.add(position)
        items.append(item)
    return json.dumps({"accepted": 0, "duplicates": 0, "rejected": items}).encode(), named


@given(
    code=st.integers(100, 599),
    body=st.binary(max_size=64) | json_values.map(lambda v: json.dumps(v).encode()),
    batch=batches,
    retry_after=st.none() | st.text(max_size=40),
)
def test_any_answer_is_judged_without_raising(
    code: int, body: bytes, batch: list[str], retry_after: str | None
) -> None:
    verdict = judge(code, body, batch, retry_after)
    assert set(verdict.remove) <= set(range(len(batch)))
    assert len(set(verdict.remove)) == len(verdict.remove)
    if 200 <= code < 300:
        assert verdict.action == "stored" and len(verdict.remove) == len(batch)
    elif code not in (403, 413, 422):
        assert verdict.remove == () and verdict.cause


@given(data=st.data(), batch=batches, code=st.sampled_from([403, 422]))
def test_a_refusal_removes_exactly_the_items_it_names(
    data: st.DataObject, batch: list[str], code: int
) -> None:
    body, named = data.draw(rejection_bodies(batch))
    verdict = judge(code, body, batch)
    assert set(verdict.remove) == named
    if not named:  # nothing judged: a 403 is a refused token, a 422 a bad answer
        assert verdict.action == ("pause" if code == 403 else "retry")


@given(st.text(max_size=60))
def test_retry_after_is_bounded_for_any_header(value: str) -> None:
    wait = retry_after_s(value)
    assert wait is None or 0 <= wait <= MAX_RETRY_AFTER_S


@pytest.mark.parametrize(
    ("value", "wait"),
    [("0", 0.0), ("120", 120.0), ("99999999999", MAX_RETRY_AFTER_S), ("²", None), ("", None)],
)
def test_retry_after_values(value: str, wait: float | None) -> None:
    assert retry_after_s(value) == wait


@pytest.mark.parametrize("code", NOTABLE)
@settings(max_examples=40)
@given(data=st.data(), batch=batches)
def test_only_a_403_or_422_refusal_list_removes_anything(
    data: st.DataObject, batch: list[str], code: int
) -> None:
    body, named = data.draw(rejection_bodies(batch))
    removed = set(judge(code, body, batch).remove)
    if code in (403, 422):
        assert removed == named
    elif code == 413 and len(batch) == 1:
        assert removed == {0}  # split down to one event that is still too large
    else:
        assert removed == set()


def test_retry_after_as_an_http_date() -> None:
    now = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)
    assert retry_after_s(format_datetime(now + timedelta(seconds=12), usegmt=True), now) == 12
    assert retry_after_s(format_datetime(now - timedelta(hours=1), usegmt=True), now) == 0
    assert retry_after_s("Fri, 31 Dec 9999 23:59:59 GMT", now) == MAX_RETRY_AFTER_S
