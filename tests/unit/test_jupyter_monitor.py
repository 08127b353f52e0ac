"""The monitor: request/reply matching, path at reply time (renames), identity, spooling."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import nbformat
import pytest
from jupyter_server.services.contents.filemanager import FileContentsManager
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from jupyter_ext.answers import Inbox, Note
from jupyter_ext.cell_index import CellIndex
from jupyter_ext.events import Identity
from jupyter_ext.monitor import Monitor
from jupyter_ext.sender import SenderStatus
from jupyter_ext.spool import Spool
from tests.support.waiting import async_wait_until

pytestmark = pytest.mark.unit


class Sessions:
    def __init__(self) -> None:
        self.path = "lesson.ipynb"

    async def get_session(self, **kwargs: Any) -> dict[str, Any]:
        if kwargs.get("kernel_id") != "k1":
            raise KeyError(kwargs)
        return {"id": "s1", "path": self.path}


class Sender:
    status = SenderStatus()
    on_inbox: Any = None

    def __init__(self) -> None:
        self.flushed = 0

    def notify(self) -> None:
        pass

    def flush(self) -> None:
        self.flushed += 1


FROM_LOGIN = Identity("")  # no hub user, no configured id: the server's login decides


def monitor(
    tmp_path: Path, identity: Identity = FROM_LOGIN, cell_index: CellIndex | None = None
) -> tuple[Monitor, Sessions]:
    sessions = Sessions()
    spool = Spool(tmp_path / "s.sqlite")
    m = Monitor(
        spool=spool,
        sender=Sender(),  # type: ignore[arg-type]
        identity=identity,
        code_mode="full",
        session_manager=sessions,
        cell_index=cell_index,
    )
    return m, sessions


def request(msg_id: str, cell: str, **metadata: Any) -> dict[str, Any]:
    return {
        "header": {"msg_id": msg_id, "msg_type": "execute_request", "username": "mallory"},
        "metadata": {"cellId": cell, **metadata},
        "content": {"code": "1"},
    }


def reply(msg_id: str) -> dict[str, Any]:
    return {
        "header": {"msg_type": "execute_reply", "date": "2026-11-27T10:00:00.5Z"},
        "parent_header": {"msg_id": msg_id},
        "metadata": {"started": "2026-11-27T10:00:00Z"},
        "content": {"status": "ok", "execution_count": 1},
    }


async def settle(m: Monitor) -> list[dict[str, Any]]:
    """The spooled events, once every reply the monitor saw has been turned into one."""
    await async_wait_until(lambda: not m._tasks, 5, "the monitor's pending events")
    return [event for _, event in m.spool.peek(100)]


async def test_reply_matched_to_request_uses_path_at_reply_time(tmp_path: Path) -> None:
    m, sessions = monitor(tmp_path)
    m.on_request("k1", request("r1", "c1"), username="ana")
    assert m.knows("k1", "r1")
    sessions.path = "moved.ipynb"  # renamed while the cell ran
    m.on_reply("k1", reply("r1"))
    m.on_reply("k1", reply("never-requested"))
    (event,) = await settle(m)
    assert (event["cell_id"], event["notebook_path"], event["duration_ms"]) == (
        "c1",
        "moved.ipynb",
        500.0,
    )
    assert event["student_id"] == "ana" and event["session_id"] == "s1"
    assert m.knows("k1", "r1")  # still known after the reply: the iopub fallback skips it


async def test_contents_rename_without_session_update_is_followed(tmp_path: Path) -> None:
    m, _ = monitor(tmp_path)
    m.renamed("lesson.ipynb", "a.ipynb")
    m.renamed("a.ipynb", "b.ipynb")
    m.on_request("k1", request("r1", "c1"), username="ana")
    m.on_reply("k1", reply("r1"))
    (event,) = await settle(m)
    assert event["notebook_path"] == "b.ipynb"


async def test_configured_or_hub_identity_wins_over_the_login(tmp_path: Path) -> None:
    m, _ = monitor(tmp_path, Identity("hub-ana", "Ana", "A"))
    m.on_request("k1", request("r1", "c1"), username="random-anonymous-id")
    m.on_reply("k1", reply("r1"))
    m.raise_hand(True, "lesson.ipynb")
    by_type = {event["type"]: event for event in await settle(m)}
    run, hand = by_type["cell_executed"], by_type["help"]
    assert run["student_id"] == hand["student_id"] == "hub-ana"
    assert hand["type"] == "help" and m.status()["help"] is True


async def test_a_kernel_without_session_still_reports(tmp_path: Path) -> None:
    m, _ = monitor(tmp_path)
    m.on_request("k2", request("r1", "c1"), username="ana")
    m.on_reply("k2", reply("r1"))
    (event,) = await settle(m)
    assert event["notebook_path"] is None and event["session_id"] is None


def test_status_reports_waiting_and_dropped(tmp_path: Path) -> None:
    m, _ = monitor(tmp_path)
    m.notebook_event("notebook_opened", "lesson.ipynb", "s1")
    status = m.status()
    assert (status["monitoring"], status["waiting"], status["dropped"]) == (True, 1, 0)
    assert status["connected"] is None  # nothing sent yet
    assert (status["cause"], status["retry_in_s"], status["refused"]) == (None, None, 0)


async def test_cell_index_comes_from_the_saved_notebook(tmp_path: Path) -> None:
    root = tmp_path / "root"
    root.mkdir()
    cells = [new_markdown_cell("# Lesson", id="intro"), new_code_cell("1", id="c1")]
    nbformat.write(new_notebook(cells=cells), root / "lesson.ipynb")
    m, _ = monitor(tmp_path, cell_index=CellIndex(FileContentsManager(root_dir=str(root))))
    m.on_request("k1", request("r1", "c1"), username="ana")
    m.on_request("k1", request("r2", "unsaved"), username="ana")
    m.on_request("k1", request("r3", "c1", cellIndex=7), username="ana")  # a client that sends it
    for msg_id in ("r1", "r2", "r3"):
        m.on_reply("k1", reply(msg_id))
    events = await settle(m)
    found = sorted(((e["cell_id"], e["cell_index"]) for e in events), key=str)
    assert found == [("c1", 1), ("c1", 7), ("unsaved", None)]


class SlowFirstIndex:
    """A cell index whose first notebook read takes until the test releases it."""

    def __init__(self) -> None:
        self.release, self.asked = asyncio.Event(), list[str | None]()

    async def index_of(self, path: str | None, cell_id: str | None) -> int | None:
        self.asked.append(cell_id)
        if cell_id == "slow":
            await self.release.wait()
        return 0


async def test_runs_are_spooled_in_the_order_of_their_replies(tmp_path: Path) -> None:
    index = SlowFirstIndex()
    m, _ = monitor(tmp_path, cell_index=index)  # type: ignore[arg-type]
    for msg_id, cell in (("r1", "slow"), ("r2", "fast")):
        m.on_request("k1", request(msg_id, cell), username="ana")
        m.on_reply("k1", reply(msg_id))
    await async_wait_until(lambda: "fast" in index.asked, 5, "the fast lookup")
    await async_wait_until(lambda: len(m._tasks) == 2, 5)  # both still running
    index.release.set()
    await async_wait_until(lambda: m.spool.count() == 2, 5, "both runs spooled")
    assert [e["cell_id"] for _, e in m.spool.peek(10)] == ["slow", "fast"]


def answer(up: bool, claimed_by: str | None = None, *notes: Note) -> Inbox:
    return Inbox(up, claimed_by, notes)


def test_a_raised_hand_survives_a_restart_of_jupyter(tmp_path: Path) -> None:
    m, _ = monitor(tmp_path, Identity("cara"))
    m.raise_hand(True, "lesson.ipynb")
    assert m.sender.flushed == 1  # type: ignore[attr-defined]  # a hand goes out at once
    m.spool.close()

    again, _ = monitor(tmp_path, Identity("cara"))
    assert again.status()["help"] is True


def test_the_servers_answer_moves_the_hand_once_our_change_was_answered(tmp_path: Path) -> None:
    m, _ = monitor(tmp_path, Identity("cara"))
    m.raise_hand(True)
    help_id = m.spool.peek(1)[0][1]["event_id"]
    on_inbox = m.sender.on_inbox

    on_inbox(answer(False), ["an-older-batch"])  # said before our raise reached the server
    assert m.status()["help"] is True

    on_inbox(answer(True, "Ms Rivera"), [help_id])
    assert m.status()["help_claimed_by"] == "Ms Rivera"

    on_inbox(answer(False), ["a-heartbeat"])  # resolved by the instructor
    status = m.status()
    assert status["help"] is False and status["help_claimed_by"] is None
    m.spool.close()
    assert monitor(tmp_path, Identity("cara"))[0].status()["help"] is False


def test_messages_reach_the_status_once_each(tmp_path: Path) -> None:
    m, _ = monitor(tmp_path, Identity("cara"))
    note = Note("m1", "Ms Rivera", "Pause: cell 4 together", "2026-11-30T10:00:00+00:00", True)
    m.sender.on_inbox(answer(False, None, note), ["e1"])
    m.sender.on_inbox(answer(False, None, note), ["e2"])
    assert [n["id"] for n in m.status()["messages"]] == ["m1"]
    assert m.status()["messages"][0]["to_class"] is True


def test_the_consent_answer_is_sent_at_once_kept_and_wins_until_acknowledged(
    tmp_path: Path,
) -> None:
    m, _ = monitor(tmp_path, Identity("cara"))
    asked = Inbox(False, None, consent_required=True, research=None)
    m.sender.on_inbox(asked, ["e1"])
    assert m.status()["consent"] == {"required": True, "research": None}  # JupyterLab asks

    m.answer_consent(False)
    [(_, sent)] = m.spool.peek(10)
    assert (sent["type"], sent["research"], sent["student_id"]) == ("consent", False, "cara")
    assert m.sender.flushed == 1  # type: ignore[attr-defined]
    m.sender.on_inbox(asked, ["a-batch-before-it"])  # the server has not seen it yet
    assert m.status()["consent"]["research"] is False, "not asked twice"
    m.spool.close()

    again, _ = monitor(tmp_path, Identity("cara"))  # a restart of Jupyter does not ask again
    assert again.status()["consent"] == {"required": True, "research": False}
    again.sender.on_inbox(
        Inbox(False, None, consent_required=True, research=False), [sent["event_id"]]
    )
    again.sender.on_inbox(Inbox(False, None, consent_required=False, research=None), ["e9"])
    assert again.status()["consent"] == {"required": False, "research": None}
    again.sender.on_inbox(Inbox(False, None), ["e10"])  # an older server says nothing
    assert again.status()["consent"] == {"required": False, "research": None}
