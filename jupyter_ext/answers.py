"""What the ingest's answer to one batch means for the spool: pure, no I/O.

The rule: the spool forgets only what the server has judged. A 2xx stores the batch (its
per-item rejections are final too); a 422/403 that names its rejected items refuses those items;
a 413 for a single event refuses that event. Everything else keeps the batch and waits.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Literal

from cellmon.backoff import retry_after_s
from cellmon.contract import MESSAGE_CHARS

TOKEN_REFUSED = "token refused: ask your instructor"

Action = Literal["stored", "refused", "split", "retry", "pause"]


@dataclass(frozen=True)
class Rejection:
    """One item the server refused, matched to its place in the batch."""

    position: int
    event_id: str | None
    kind: str
    reason: str


@dataclass(frozen=True)
class Note:
    """An instructor's message, as the student's JupyterLab shows it."""

    message_id: str
    sender: str
    text: str
    at: str
    to_class: bool

    def as_dict(self) -> dict[str, Any]:
        """For the frontend's status poll."""
        return {
            "id": self.message_id,
            "from": self.sender,
            "text": self.text,
            "at": self.at,
            "to_class": self.to_class,
        }


@dataclass(frozen=True)
class Inbox:
    """What the server said about this student: the hand, who is coming, messages."""

    hand_up: bool
    claimed_by: str | None
    notes: tuple[Note, ...] = ()
    # The classroom's consent question: whether it asks, the student's answer; None for
    # both when the server did not say (an older one).
    consent_required: bool | None = None
    research: bool | None = None


@dataclass(frozen=True)
class Verdict:
    """What to do after one answer: which batch positions leave the spool, and why."""

    action: Action
    remove: tuple[int, ...] = ()
    rejections: tuple[Rejection, ...] = ()
    cause: str | None = None  # short, for the student's status bar
    detail: str | None = None  # longer, for the log and the status tooltip
    retry_after_s: float | None = None
    unexpected_body: bool = field(default=False)
    inbox: Inbox | None = None


def judge(code: int, body: bytes, batch_ids: list[str], retry_after: str | None = None) -> Verdict:
    """The verdict for answer `code` with `body` to a batch whose event ids are `batch_ids`."""
    wait = retry_after_s(retry_after)
    snippet = f"{code}: {_snippet(body)}".rstrip(": ")
    if 200 <= code < 300:
        return _stored(code, body, batch_ids)
    found = rejections(body, batch_ids)
    if code in (403, 422) and found:
        return Verdict("refused", tuple(r.position for r in found), found, detail=snippet)
    if code == 413:
        return _too_large(snippet, batch_ids)
    if code in (401, 403):
        return Verdict("pause", cause=TOKEN_REFUSED, detail=snippet)
    return Verdict("retry", cause=_cause(code), detail=snippet, retry_after_s=wait)


def rejections(body: bytes, batch_ids: list[str]) -> tuple[Rejection, ...]:
    """The body's `rejected` items that name an event of this batch (others are ignored)."""
    parsed = _json_object(body)
    items = parsed.get("rejected") if parsed is not None else None
    if not isinstance(items, list):
        return ()
    where = {event_id: position for position, event_id in enumerate(batch_ids)}
    found: dict[int, Rejection] = {}
    for item in items:
        position = _position(item, batch_ids, where)
        if position is not None and position not in found:
            found[position] = _rejection(item, position, batch_ids[position])
    return tuple(found[p] for p in sorted(found))


def _stored(code: int, body: bytes, batch_ids: list[str]) -> Verdict:
    # A 2xx is the server's word that the batch is stored (the ingest says 2xx only after its
    # durable write), whatever the body: keeping the batch would resend it forever.
    parsed = _json_object(body)
    expected = parsed is not None and isinstance(parsed.get("rejected", []), list)
    detail = None if expected else f"{code} with an unexpected body: {_snippet(body)}"
    cause = None if expected else f"unexpected answer from the server ({code}): check the URL"
    everything = tuple(range(len(batch_ids)))
    found = rejections(body, batch_ids)
    return Verdict(
        "stored",
        everything,
        found,
        cause,
        detail,
        unexpected_body=not expected,
        inbox=inbox_of(parsed),
    )


def inbox_of(answer: dict[str, Any] | None) -> Inbox | None:
    """The answer's `inbox`, if it is well formed; texts are bounded, whatever the server says
    (a wrong URL can answer anything)."""
    raw = answer.get("inbox") if answer is not None else None
    hand = raw.get("hand") if isinstance(raw, dict) else None
    if not isinstance(raw, dict) or not isinstance(hand, dict) or type(hand.get("up")) is not bool:
        return None
    claimed = hand.get("claimed_by")
    messages = raw.get("messages")
    notes = [_note(m) for m in messages[:_NOTES]] if isinstance(messages, list) else []
    consent = raw.get("consent")
    asked = consent.get("required") if isinstance(consent, dict) else None
    research = consent.get("research") if isinstance(consent, dict) else None
    return Inbox(
        hand["up"],
        claimed[:_NAME_CHARS] if isinstance(claimed, str) and claimed else None,
        tuple(n for n in notes if n is not None),
        asked if type(asked) is bool else None,
        research if type(research) is bool and type(asked) is bool else None,
    )


_NOTES, _NAME_CHARS = 20, 200


def _note(item: Any) -> Note | None:
    if not isinstance(item, dict):
        return None
    message_id, sender, text, at = (item.get(key) for key in ("id", "from", "text", "at"))
    if not all(isinstance(f, str) and f for f in (message_id, sender, text, at)):
        return None
    return Note(
        str(message_id)[:128],
        str(sender)[:_NAME_CHARS],
        str(text)[:MESSAGE_CHARS],
        str(at)[:64],
        item.get("to") == "*",
    )


def _too_large(snippet: str, batch_ids: list[str]) -> Verdict:
    if len(batch_ids) != 1:
        return Verdict("split", detail=snippet)
    alone = Rejection(0, batch_ids[0], "too_large", f"too large for the server ({snippet})")
    return Verdict("refused", (0,), (alone,), detail=snippet)


def _cause(code: int) -> str:
    if code in (404, 405):
        return f"server URL looks wrong: {code}"
    if 300 <= code < 400:
        return f"server URL redirects ({code}): check the URL"
    if code in (408, 429) or code >= 500:
        return f"server busy or down: {code}"
    return f"server refused the batch: {code}"


def _position(item: Any, batch_ids: list[str], where: dict[str, int]) -> int | None:
    """Where a rejection points in the batch: its index if its event id agrees, else its id."""
    if not isinstance(item, dict):
        return None
    index, event_id = item.get("index"), item.get("event_id")
    named = event_id if isinstance(event_id, str) else None
    if type(index) is int and 0 <= index < len(batch_ids) and named in (None, batch_ids[index]):
        return index
    return where.get(named) if named is not None else None


def _rejection(item: dict[str, Any], position: int, event_id: str) -> Rejection:
    kind, reason = item.get("kind"), item.get("reason")
    return Rejection(
        position,
        event_id,
        kind if isinstance(kind, str) else "invalid",
        reason if isinstance(reason, str) else "no reason given",
    )


def _json_object(body: bytes) -> dict[str, Any] | None:
    try:
        parsed = json.loads(body)
    except (ValueError, RecursionError):
        return None
    return parsed if isinstance(parsed, dict) else None


def _snippet(body: bytes, limit: int = 200) -> str:
    text = body[: limit * 4].decode("utf-8", "replace")
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
