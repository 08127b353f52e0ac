"""The hand and presence rules of the student's server: pure."""

from __future__ import annotations

import pytest

from jupyter_ext.answers import Inbox, Note, inbox_of
from jupyter_ext.consent import Consent
from jupyter_ext.hand import KEPT_NOTES, LAB_OPEN_S, Hand, presence_due

pytestmark = pytest.mark.unit


def note(n: int) -> Note:
    return Note(f"m{n}", "Ms Rivera", f"message {n}", "2026-11-30T10:00:00+00:00", False)


def test_a_new_request_has_nobody_on_the_way() -> None:
    hand = Hand(up=True, claimed_by="Ms Rivera").changed(True, "e2")
    assert (hand.up, hand.claimed_by, hand.unanswered) == (True, None, "e2")


def test_only_an_answer_after_our_own_change_moves_the_hand() -> None:
    hand = Hand().changed(True, "raise")
    assert hand.answered(Inbox(False, None), ["older"]).up is True
    taken = hand.answered(Inbox(True, "Mr Okafor"), ["older", "raise"])
    assert (taken.up, taken.claimed_by, taken.unanswered) == (True, "Mr Okafor", None)
    assert taken.answered(Inbox(False, "ignored"), ["beat"]) == Hand(False, None, None)


def test_messages_are_kept_once_and_bounded() -> None:
    hand = Hand()
    for n in range(KEPT_NOTES + 5):
        hand = hand.answered(Inbox(False, None, (note(n), note(max(0, n - 1)))), [])
    assert [n.message_id for n in hand.notes] == [f"m{n}" for n in range(5, KEPT_NOTES + 5)]


@pytest.mark.parametrize("saved", [None, 3, {"up": "yes"}, {"claimed_by": "x"}, []])
def test_an_unexpected_saved_hand_is_a_lowered_hand(saved: object) -> None:
    assert Hand.load(saved) == Hand()


def test_the_saved_hand_comes_back() -> None:
    hand = Hand(True, "Ms Rivera", "e1", (note(1),))
    assert Hand.load(hand.dump()) == Hand(True, "Ms Rivera", "e1")


@pytest.mark.parametrize(
    ("idle_s", "lab_seen_s", "hand_up", "due"),
    [
        (31, 2, False, True),  # idle, JupyterLab open: presence
        (29, 2, False, False),  # something else went out within 30 s: no extra request
        (31, None, False, False),  # no JupyterLab has asked: nobody is there
        (31, LAB_OPEN_S + 1, False, False),  # the last JupyterLab closed
        (2.5, 2, True, True),  # hand up: poll for the instructor's answer
        (1.5, 2, True, False),
    ],
)
def test_heartbeats_only_when_open_and_quiet(
    idle_s: float, lab_seen_s: float | None, hand_up: bool, due: bool
) -> None:
    got = presence_due(
        idle_s=idle_s, lab_seen_s=lab_seen_s, hand_up=hand_up, heartbeat_s=30, poll_s=2
    )
    assert got is due


def test_the_inbox_is_read_from_the_answer() -> None:
    body = {
        "accepted": 1,
        "inbox": {
            "hand": {"up": True, "claimed_by": "Ms Rivera", "raised_at": "x"},
            "messages": [
                {"id": "m1", "from": "Ms Rivera", "text": "hi", "at": "t", "to": "*"},
                {"id": "m2", "from": "Ms Rivera", "text": "you", "at": "t", "to": "cara"},
            ],
        },
    }
    inbox = inbox_of(body)
    assert inbox is not None and inbox.hand_up and inbox.claimed_by == "Ms Rivera"
    assert [(n.message_id, n.to_class) for n in inbox.notes] == [("m1", True), ("m2", False)]


@pytest.mark.parametrize(
    "body",
    [
        None,
        {},
        {"inbox": []},
        {"inbox": {"hand": {"up": "yes"}}},
        {"inbox": {"messages": []}},
    ],
)
def test_a_malformed_inbox_is_ignored(body: dict[str, object] | None) -> None:
    assert inbox_of(body) is None


def test_malformed_messages_are_skipped_and_texts_bounded() -> None:
    messages = [
        "text",
        {"id": "m1"},
        {"id": "m2", "from": "A" * 5_000, "text": "B" * 5_000, "at": "t"},
        {"id": 3, "from": "x", "text": "y", "at": "t"},
    ]
    inbox = inbox_of({"inbox": {"hand": {"up": False}, "messages": messages}})
    assert inbox is not None and [n.message_id for n in inbox.notes] == ["m2"]
    assert (len(inbox.notes[0].sender), len(inbox.notes[0].text)) == (200, 500)


def test_the_inbox_carries_the_consent_question_only_when_well_formed() -> None:
    hand = {"up": False, "claimed_by": None}
    said = inbox_of({"inbox": {"hand": hand, "consent": {"required": True, "research": True}}})
    assert said is not None and (said.consent_required, said.research) == (True, True)
    for consent in ({"required": "yes"}, [], None, {"research": True}):
        odd = inbox_of({"inbox": {"hand": hand, "consent": consent}})
        assert odd is not None and (odd.consent_required, odd.research) == (None, None)


@pytest.mark.parametrize("saved", [None, [], {"required": 1}, {"research": True}])
def test_an_unexpected_saved_consent_is_nothing_known(saved: object) -> None:
    assert Consent.load(saved) == Consent()
    kept = Consent(True, False, "e1")
    assert Consent.load(kept.dump()) == kept
