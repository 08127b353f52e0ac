"""The monitor: turns observed kernel traffic and server events into spooled contract events."""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from collections.abc import Coroutine
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from jupyter_ext import events
from jupyter_ext.answers import Inbox
from jupyter_ext.cell_index import CellIndex
from jupyter_ext.consent import Consent
from jupyter_ext.events import CodeMode, ExecuteRequest, Identity
from jupyter_ext.hand import Hand, presence_due
from jupyter_ext.sender import Sender
from jupyter_ext.spool import Spool

log = logging.getLogger(__name__)
_MAX_PENDING = 10_000  # requests whose reply never came (kernel died) must not grow memory


class Monitor:
    """Matches execute requests to replies, finds the notebook path, spools events."""

    def __init__(
        self,
        *,
        spool: Spool,
        sender: Sender,
        identity: Identity,
        code_mode: CodeMode,
        session_manager: Any,
        cell_index: CellIndex | None = None,
        enabled: bool = True,
        heartbeat_s: float = 30.0,
        poll_s: float = 2.0,
    ) -> None:
        self.spool, self.sender, self.code_mode = spool, sender, code_mode
        self.identity, self.enabled = identity, enabled
        self.sessions, self.cell_index = session_manager, cell_index
        self.heartbeat_s, self.poll_s = heartbeat_s, poll_s
        self.hand = Hand.load(spool.load_state("hand"))  # a restart keeps a raised hand up
        self.consent = Consent.load(spool.load_state("consent"))  # asked once, not per restart
        sender.on_inbox = self._answered
        self._last_spooled = time.monotonic()
        self._lab_seen: float | None = None
        self._presence: asyncio.Task[None] | None = None
        self._renamed: dict[str, str] = {}  # old path -> new path, from the contents events
        self.last_user: str | None = None  # for events without a request (saves, help)
        self._pending: OrderedDict[tuple[str, str], tuple[ExecuteRequest, Identity]] = OrderedDict()
        self._busy_at: OrderedDict[tuple[str, str], float] = OrderedDict()
        self._done: OrderedDict[tuple[str, str], None] = OrderedDict()
        self._tasks: set[asyncio.Task[None]] = set()
        self._last_cell: asyncio.Task[None] | None = None  # runs are spooled in reply order

    def identity_for(self, username: str | None) -> Identity:
        """The configured/hub identity, else the server's authenticated user."""
        if self.identity.student_id:
            return self.identity
        return replace(self.identity, student_id=username or "unknown")

    def on_request(self, kernel_id: str, msg: dict[str, Any], username: str | None) -> None:
        """Remember an execute_request (and who sent it) until its reply."""
        request = events.execute_request(msg)
        if request is None or not self.enabled:
            return
        if username:
            self.last_user = username
        key = (kernel_id, request.msg_id)
        _bounded_put(self._pending, key, (request, self.identity_for(username)))

    def knows(self, kernel_id: str, msg_id: str) -> bool:
        """Whether this request was seen on a websocket (so the iopub fallback skips it)."""
        key = (kernel_id, msg_id)
        return key in self._pending or key in self._done

    def on_status(self, kernel_id: str, parent_msg_id: str, state: str) -> float | None:
        """Track iopub busy/idle per request; returns busy->idle ms on idle."""
        key = (kernel_id, parent_msg_id)
        if state == "busy":
            _bounded_put(self._busy_at, key, time.monotonic())
        elif state == "idle" and key in self._busy_at:
            return (time.monotonic() - self._busy_at.pop(key)) * 1000.0
        return None

    def on_reply(
        self, kernel_id: str, msg: dict[str, Any], fallback_ms: float | None = None
    ) -> None:
        """Match an execute_reply to its request and emit `cell_executed`."""
        reply = events.execute_reply(msg)
        if reply is None:
            return
        found = self._pending.pop((kernel_id, reply.parent_msg_id), None)
        if found is None:
            return
        request, identity = found
        _bounded_put(self._done, (kernel_id, request.msg_id), None)
        busy = self._busy_at.get((kernel_id, request.msg_id))
        if fallback_ms is None and busy is not None:  # the reply can beat iopub's idle
            fallback_ms = (time.monotonic() - busy) * 1000.0
        previous = self._last_cell
        self._last_cell = self._spawn(
            self._emit_cell(kernel_id, request, identity, reply, fallback_ms, previous)
        )

    def add_request(self, kernel_id: str, request: ExecuteRequest) -> None:
        """Register a request seen by another path (the iopub fallback)."""
        key = (kernel_id, request.msg_id)
        _bounded_put(self._pending, key, (request, self.identity_for(self.last_user)))

    async def _emit_cell(
        self,
        kernel_id: str,
        request: ExecuteRequest,
        identity: Identity,
        reply: events.ExecuteReply,
        fallback_ms: float | None,
        previous: asyncio.Task[None] | None,
    ) -> None:
        """Look up the notebook and the cell's index, then spool the run after the run whose
        reply came before it: lookups overlap, but the spool keeps the order of the replies."""
        path, session_id = await self.path_for(kernel_id)  # at reply time: follows renames
        if request.cell_index is None and self.cell_index is not None:
            index = await self.cell_index.index_of(path, request.cell_id)  # never raises
            request = replace(request, cell_index=index)
        if previous is not None:
            await asyncio.wait([previous])  # its failure is logged by `_finished`, not ours
        self.emit(
            events.cell_executed(
                request,
                reply,
                kernel_id=kernel_id,
                identity=identity,
                notebook_path=path,
                session_id=session_id,
                code_mode=self.code_mode,
                now=datetime.now(UTC),
                fallback_duration_ms=fallback_ms,
            )
        )

    async def path_for(self, kernel_id: str) -> tuple[str | None, str | None]:
        """The notebook path and session id of a kernel, from the session manager."""
        try:
            model = await self.sessions.get_session(kernel_id=kernel_id)
        except Exception:  # no session (a bare kernel): still report the run
            return None, None
        return self.current_path(model.get("path")), model.get("id")

    def renamed(self, old: str, new: str) -> None:
        """A file was renamed; sessions that still name the old path mean the new one."""
        self._renamed[old] = new
        self._renamed.pop(new, None)  # renamed back: the new name is current again

    def current_path(self, path: str | None) -> str | None:
        """Follow renames the session manager has not seen (a rename without a session PATCH)."""
        seen: set[str] = set()
        while path in self._renamed and path not in seen:
            seen.add(path)
            path = self._renamed[path]
        return path

    def notebook_event(self, kind: str, path: str | None, session_id: str | None) -> None:
        """Emit notebook_opened / notebook_saved / notebook_closed (or a heartbeat)."""
        if self.enabled:
            self.emit(self._simple_event(kind, path, session_id))

    def _simple_event(self, kind: str, path: str | None, session_id: str | None) -> dict[str, Any]:
        return events.simple_event(
            kind,
            self.identity_for(self.last_user),
            notebook_path=path,
            session_id=session_id,
            now=datetime.now(UTC),
        )

    def raise_hand(self, on: bool, path: str | None = None) -> None:
        """Emit help (on) or help_stop (off), and send it now."""
        event = self._simple_event("help" if on else "help_stop", path, None)
        self._set_hand(self.hand.changed(on, event["event_id"]))
        if self.enabled:
            self.emit(event)
            self.sender.flush()

    def answer_consent(self, research: bool) -> None:
        """Emit the student's answer to the consent question, and send it now."""
        event = {**self._simple_event("consent", None, None), "research": research}
        self._set_consent(self.consent.answered_here(research, event["event_id"]))
        if self.enabled:
            self.emit(event)
            self.sender.flush()

    def emit(self, event: dict[str, Any]) -> None:
        """Spool an event durably, then nudge the sender."""
        if self.spool.put(event):
            log.warning("cell monitor: %d event(s) dropped so far", self.spool.dropped)
        self._last_spooled = time.monotonic()
        self.sender.notify()

    def lab_seen(self) -> None:
        """A JupyterLab asked for the status: one is open, so presence heartbeats are due."""
        self._lab_seen = time.monotonic()

    def start_presence(self) -> None:
        """Heartbeats while a JupyterLab is open; quicker polls while the hand is up."""
        if self._presence is None and self.enabled:
            self._presence = asyncio.get_running_loop().create_task(self._beat())

    async def stop_presence(self) -> None:
        """Stop the heartbeats."""
        if self._presence is not None:
            self._presence.cancel()
            await asyncio.gather(self._presence, return_exceptions=True)
            self._presence = None

    async def _beat(self) -> None:
        while True:
            await asyncio.sleep(min(1.0, self.poll_s))  # a clock tick, not a wait for a result
            now = time.monotonic()
            due = presence_due(
                idle_s=now - self._last_spooled,
                lab_seen_s=None if self._lab_seen is None else now - self._lab_seen,
                hand_up=self.hand.up,
                heartbeat_s=self.heartbeat_s,
                poll_s=self.poll_s,
            )
            if due:
                self.notebook_event("heartbeat", None, None)
                self.sender.flush()

    def _answered(self, inbox: Inbox, sent_ids: list[str]) -> None:
        self._set_hand(self.hand.answered(inbox, sent_ids))
        if inbox.consent_required is not None:
            heard = self.consent.heard(inbox.consent_required, inbox.research, sent_ids)
            self._set_consent(heard)

    def _set_consent(self, consent: Consent) -> None:
        if consent != self.consent:
            self.spool.save_state("consent", consent.dump())
        self.consent = consent

    def _set_hand(self, hand: Hand) -> None:
        if hand.dump() != self.hand.dump():
            self.spool.save_state("hand", hand.dump())
        self.hand = hand

    def status(self) -> dict[str, Any]:
        """Monitoring state for the student's status bar."""
        sent = self.sender.status
        return {
            "monitoring": self.enabled,
            "connected": sent.connected,  # None until the first send
            "unauthorized": sent.unauthorized,  # paused until a re-check is accepted
            "cause": sent.cause,  # why events wait, in words for the student
            "retry_in_s": sent.retry_in_s(),
            "refused": sent.refused,
            "waiting": self.spool.count(),
            "dropped": self.spool.dropped,
            "last_error": sent.last_error,
            "help": self.hand.up,
            "help_claimed_by": self.hand.claimed_by,  # "<name> is on the way"
            "messages": [note.as_dict() for note in self.hand.notes],
            "consent": {"required": self.consent.required, "research": self.consent.research},
            "student_id": self.identity_for(self.last_user).student_id,
            "code_capture": self.code_mode,
        }

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)  # keep a reference: the loop only holds weak ones
        task.add_done_callback(self._finished)
        return task

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("cell monitor: cannot build an event", exc_info=task.exception())


def _bounded_put(table: OrderedDict[Any, Any], key: Any, value: Any) -> None:
    table[key] = value
    while len(table) > _MAX_PENDING:
        table.popitem(last=False)
