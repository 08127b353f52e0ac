"""Cell index from the saved notebook: JupyterLab sends `metadata.cellId` but no index, so the
position of each cell id is read from the notebook file through the server's contents manager.

Reads are cached per path and redone when the server saves, renames or deletes the file, or when
its modification time or size changes (edits outside Jupyter); concurrent lookups for one
notebook share one read. A cell added since the last save is not in the file: its index stays
None until the notebook is saved again, when the newer file is read on the next run.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import logging
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

log = logging.getLogger(__name__)


def cell_positions(notebook: Any) -> dict[str, int]:
    """Cell id -> 0-based position among all of the notebook's cells (markdown included)."""
    cells = notebook.get("cells") if isinstance(notebook, Mapping) else None
    if not isinstance(cells, list):
        return {}
    positions: dict[str, int] = {}
    for position, cell in enumerate(cells):
        cell_id = cell.get("id") if isinstance(cell, Mapping) else None
        if isinstance(cell_id, str) and cell_id:
            positions.setdefault(cell_id, position)  # a duplicated id keeps its first place
    return positions


@dataclass(frozen=True)
class _Read:
    stamp: tuple[Any, Any]  # (last_modified, size) as the contents manager reported them
    positions: dict[str, int]


class CellIndex:
    """Cell id -> index per notebook path, read through a (sync or async) contents manager."""

    def __init__(
        self,
        contents_manager: Any,
        *,
        max_notebooks: int = 32,
        max_bytes: int = 20_000_000,
        timeout_s: float = 5.0,
    ) -> None:
        self.contents, self.max_notebooks = contents_manager, max_notebooks
        self.max_bytes, self.timeout_s = max_bytes, timeout_s
        self._cache: OrderedDict[str, _Read] = OrderedDict()
        self._loading: dict[tuple[str, tuple[Any, Any]], asyncio.Future[_Read]] = {}
        self.reads = 0  # notebook reads so far (for tests and the log)

    async def index_of(self, path: str | None, cell_id: str | None) -> int | None:
        """The cell's index in the saved notebook, or None (unknown, unsaved or unreadable)."""
        if not path or not cell_id or not path.endswith(".ipynb"):
            return None
        try:
            read = await asyncio.wait_for(self._current(path), self.timeout_s)
        except Exception as error:  # capture never fails because a notebook cannot be read
            log.info("cell monitor: no cell index from %r: %r", path, error)
            return None
        return read.positions.get(cell_id) if read is not None else None

    def forget(self, *paths: Any) -> None:
        """Drop cached reads (the server saved, renamed or deleted these files)."""
        for path in paths:
            if isinstance(path, str):
                self._cache.pop(path, None)
                for key in [key for key in self._loading if key[0] == path]:
                    del self._loading[key]  # a read under way may predate the save: not cached

    async def _current(self, path: str) -> _Read | None:
        """The cached read if the file is unchanged, else a fresh (shared) read."""
        model = await self._call(path, content=False)
        stamp = (model.get("last_modified"), model.get("size"))
        cached = self._cache.get(path)
        if cached is not None and cached.stamp == stamp:
            self._cache.move_to_end(path)
            return cached
        size = model.get("size")
        if isinstance(size, int) and size > self.max_bytes:
            log.info("cell monitor: %r is over %d bytes; cell index not read", path, self.max_bytes)
            return None
        return await asyncio.shield(self._shared_read(path, stamp))

    def _shared_read(self, path: str, stamp: tuple[Any, Any]) -> asyncio.Future[_Read]:
        key = (path, stamp)
        loading = self._loading.get(key)
        if loading is None:
            loading = asyncio.ensure_future(self._read(path, stamp))
            self._loading[key] = loading
            loading.add_done_callback(lambda task: self._done(key, task))
        return loading

    def _done(self, key: tuple[str, tuple[Any, Any]], task: asyncio.Future[_Read]) -> None:
        if self._loading.get(key) is task:  # a later read for the same key may have replaced it
            del self._loading[key]

    async def _read(self, path: str, stamp: tuple[Any, Any]) -> _Read:
        # The stamp was taken before this read: if the file changes meanwhile, the next
        # lookup sees a newer stamp and reads again, so a stale map never sticks.
        try:
            positions = cell_positions(await self._notebook(path))
        except Exception as error:  # unreadable until it changes: remembered, not retried
            log.info("cell monitor: cannot read %r for cell indices: %r", path, error)
            positions = {}
        self.reads += 1
        read = _Read(stamp, positions)
        current = self._loading.get((path, stamp)) is asyncio.current_task()
        if current and stamp[0] is not None:  # without a modification time, no change is seen
            self._cache[path] = read
            self._cache.move_to_end(path)
        while len(self._cache) > self.max_notebooks:
            self._cache.popitem(last=False)
        return read

    async def _notebook(self, path: str) -> Any:
        """The notebook as JSON: the raw text parsed in a thread, else the notebook model."""
        try:
            # Raw text skips the trust check and validation the notebook model runs on the loop.
            model = await self._call(path, content=True, type="file", format="text")
        except Exception:  # a manager that serves notebooks only as notebooks
            model = {}
        text = model.get("content")
        if isinstance(text, str):
            return await asyncio.to_thread(json.loads, text)
        return (await self._call(path, content=True, type="notebook")).get("content")

    async def _call(self, path: str, **kwargs: Any) -> dict[str, Any]:
        """`contents_manager.get`, sync or async. A sync manager runs on the loop, as the server
        runs it itself: it is not thread-safe (its trust database refuses other threads)."""
        model = self.contents.get(path, **kwargs)
        if inspect.isawaitable(model):
            model = await model
        return dict(model)
