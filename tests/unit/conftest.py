"""Unit tier: pure Python only. Starting Ray here is a bug in the test, not a slow test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest


@pytest.fixture(autouse=True)
def _forbid_ray(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Make any `ray.init` call fail loudly; skipped when Ray is not installed."""
    try:
        import ray
    except ImportError:
        yield
        return

    def refuse(*args: object, **kwargs: object) -> None:
        raise RuntimeError("unit tests must not start Ray")

    monkeypatch.setattr(ray, "init", refuse)
    yield
