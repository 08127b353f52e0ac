"""Debian's Chromium, driven by Playwright (Playwright's own browser download fails here)."""

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

T = TypeVar("T")

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def beside_playwright(call: Callable[..., T], *args: Any) -> T:
    """`call(*args)` in a worker thread: Playwright's sync API runs an event loop in this one,
    and the asyncio.run of the project's blocking helpers refuses to nest in it."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(call, *args).result()
