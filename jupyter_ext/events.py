"""Pure event building: kernel messages and context in, wire-contract event dicts out."""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from cellmon.limits import DEFAULT_LIMITS

CodeMode = Literal["full", "hash", "none"]
CODE_MODES: tuple[str, ...] = ("full", "hash", "none")
# The ingest's own bounds (cellmon.limits): a run is cut here exactly as the server would cut it.
MAX_CODE_CHARS = DEFAULT_LIMITS.max_code_chars
MAX_ERROR_CHARS = DEFAULT_LIMITS.max_error_chars
# Event ids derive from the kernel request id, so the websocket path and the iopub fallback
# (and any re-send) produce the same id and the ingest stores the run once.
_ID_NAMESPACE = uuid.UUID("5b0c7e3e-4d8a-4c55-9c33-1f0a7c2b9e61")


@dataclass(frozen=True)
class Identity:
    """Who the student is, as the Jupyter server knows them (never from a message header)."""

    student_id: str
    student_name: str | None = None
    team: str | None = None


@dataclass(frozen=True)
class ExecuteRequest:
    """What we keep of an `execute_request` until its reply arrives."""

    msg_id: str
    code: str
    cell_id: str | None = None
    cell_index: int | None = None


@dataclass(frozen=True)
class ExecuteReply:
    """What we read from an `execute_reply`."""

    parent_msg_id: str
    status: str
    execution_count: int | None
    error_name: str | None
    error_value: str | None
    duration_ms: float | None


def parse_time(value: Any) -> datetime | None:
    """A tz-aware datetime from a Jupyter message date (string or datetime), else None."""
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, str) and value:
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
    else:
        return None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def execute_request(msg: dict[str, Any]) -> ExecuteRequest | None:
    """The request's code and cell (JupyterLab sends `metadata.cellId`), or None if not one."""
    header = msg.get("header") or {}
    if header.get("msg_type") != "execute_request":
        return None
    content = msg.get("content") or {}
    metadata = msg.get("metadata") or {}
    if content.get("silent"):  # widget/comm housekeeping, not a student's cell run
        return None
    index = metadata.get("cellIndex")
    return ExecuteRequest(
        msg_id=str(header.get("msg_id", "")),
        code=str(content.get("code", "")),
        cell_id=_text(metadata.get("cellId")),
        cell_index=index if isinstance(index, int) and index >= 0 else None,
    )


def execute_reply(msg: dict[str, Any]) -> ExecuteReply | None:
    """Status, error and kernel run time from an `execute_reply`, or None if not one."""
    header = msg.get("header") or {}
    if header.get("msg_type") != "execute_reply":
        return None
    content = msg.get("content") or {}
    status = content.get("status")
    if status not in ("ok", "error", "aborted"):
        status = "error"
    count = content.get("execution_count")
    return ExecuteReply(
        parent_msg_id=str((msg.get("parent_header") or {}).get("msg_id", "")),
        status=status,
        execution_count=count if isinstance(count, int) and count >= 0 else None,
        error_name=_bounded(content.get("ename"), 200) if status == "error" else None,
        error_value=_bounded(content.get("evalue"), MAX_ERROR_CHARS) if status == "error" else None,
        duration_ms=kernel_run_ms(msg),
    )


def kernel_run_ms(reply: dict[str, Any]) -> float | None:
    """The kernel's own run time: reply `metadata.started` to the reply header's date."""
    started = parse_time((reply.get("metadata") or {}).get("started"))
    finished = parse_time((reply.get("header") or {}).get("date"))
    if started is None or finished is None:
        return None
    elapsed = (finished - started).total_seconds() * 1000.0
    return round(elapsed, 3) if elapsed >= 0 else None


def captured_code(code: str, mode: CodeMode) -> tuple[str, bool]:
    """The code as the privacy mode allows: full (bounded), a SHA-256 digest, or nothing."""
    if mode == "none":
        return "", False
    if mode == "hash":
        return "sha256:" + hashlib.sha256(code.encode("utf-8")).hexdigest(), False
    if len(code) > MAX_CODE_CHARS:
        return code[:MAX_CODE_CHARS], True
    return code, False


def event_id_for(kernel_id: str, msg_id: str) -> str:
    """A stable event id for one kernel request."""
    return str(uuid.uuid5(_ID_NAMESPACE, f"{kernel_id}:{msg_id}"))


def cell_executed(
    request: ExecuteRequest,
    reply: ExecuteReply,
    *,
    kernel_id: str,
    identity: Identity,
    notebook_path: str | None,
    session_id: str | None,
    code_mode: CodeMode,
    now: datetime,
    fallback_duration_ms: float | None = None,
) -> dict[str, Any]:
    """A `cell_executed` event for one request and its reply."""
    code, truncated = captured_code(request.code, code_mode)
    duration = reply.duration_ms if reply.duration_ms is not None else fallback_duration_ms
    event = _base("cell_executed", identity, notebook_path, session_id, now)
    event.update(
        event_id=event_id_for(kernel_id, request.msg_id),
        cell_id=request.cell_id,
        cell_index=request.cell_index,
        cell_type="code",
        code=code,
        code_truncated=truncated,
        execution_count=reply.execution_count,
        status=reply.status,
        error_name=reply.error_name,
        error_value=reply.error_value,
        duration_ms=None if reply.status == "aborted" else duration,
    )
    return event


def simple_event(
    kind: str,
    identity: Identity,
    *,
    notebook_path: str | None,
    session_id: str | None,
    now: datetime,
) -> dict[str, Any]:
    """A notebook_opened/saved/closed, help, help_stop or consent event (the caller adds the
    consent's answer)."""
    return _base(kind, identity, notebook_path, session_id, now)


def _base(
    kind: str, identity: Identity, path: str | None, session_id: str | None, now: datetime
) -> dict[str, Any]:
    if now.tzinfo is None:
        raise ValueError("event times must be timezone-aware")
    event: dict[str, Any] = {
        "type": kind,
        "event_id": str(uuid.uuid4()),
        "student_id": identity.student_id,
        "time": now.isoformat(),
        "notebook_path": path,
        "session_id": session_id,
    }
    if identity.student_name:
        event["student_name"] = identity.student_name[:200]
    if identity.team:
        event["team"] = identity.team[:100]
    return event


def _text(value: Any) -> str | None:
    return value[:128] if isinstance(value, str) and value else None


def _bounded(value: Any, limit: int) -> str | None:
    if value is None:
        return None
    text = str(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"
