"""Notebook opened/closed from the session manager, saved from the server's contents events."""

from __future__ import annotations

import logging
from typing import Any

from jupyter_server import JUPYTER_SERVER_EVENTS_URI

from jupyter_ext.monitor import Monitor

log = logging.getLogger(__name__)
CONTENTS_SCHEMA = JUPYTER_SERVER_EVENTS_URI + "/contents_service/v1"


def _is_notebook(path: Any) -> bool:
    return isinstance(path, str) and path.endswith(".ipynb")


def watch_sessions(session_manager: Any, monitor: Monitor) -> None:
    """Wrap the session manager's create/delete so notebook sessions become events."""
    create, delete = session_manager.create_session, session_manager.delete_session

    async def create_session(*args: Any, **kwargs: Any) -> Any:
        model = await create(*args, **kwargs)
        if _is_notebook(model.get("path")):
            monitor.notebook_event("notebook_opened", model["path"], model.get("id"))
        return model

    async def delete_session(session_id: str) -> Any:
        try:  # read the path first: after deletion the session is gone
            model = await session_manager.get_session(session_id=session_id)
        except Exception:
            model = {}
        result = await delete(session_id)
        if _is_notebook(model.get("path")):
            monitor.notebook_event("notebook_closed", model["path"], session_id)
        return result

    # Instance attributes: the server's session manager is already built when extensions load.
    session_manager.create_session = create_session
    session_manager.delete_session = delete_session


def watch_saves(event_logger: Any, monitor: Monitor) -> None:
    """Listen on jupyter_server's event bus for notebook saves, renames and deletions."""

    async def on_contents(logger: Any, schema_id: str, data: dict[str, Any]) -> None:
        action, path = data.get("action"), data.get("path")
        if action in ("save", "rename", "delete") and monitor.cell_index is not None:
            monitor.cell_index.forget(path, data.get("source_path"))
        if action == "save" and _is_notebook(path):
            monitor.notebook_event("notebook_saved", path, None)
        elif action == "rename" and isinstance(data.get("source_path"), str) and path:
            monitor.renamed(data["source_path"], path)

    event_logger.add_listener(schema_id=CONTENTS_SCHEMA, listener=on_contents)
