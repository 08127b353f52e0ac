"""Browser tier: JupyterLab in Debian's Chromium (Playwright) against a real local deployment."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.browser.dashboard_support import Console
from tests.e2e.deployment import Deployment, deployed


@pytest.fixture(scope="module")
def deployment() -> Iterator[Deployment]:
    """A Ray cluster + Serve deployment for this module only: module scope, so it is gone
    before the e2e tier (collected after `browser/`) starts its own session cluster."""
    with deployed("cellmon-browser", shards_min=1, classrooms_per_shard=4, shards_max=2) as d:
        yield d


@pytest.fixture(autouse=True)
def no_console_errors() -> Iterator[None]:
    """Fail a test whose dashboard pages logged an error or threw (see dashboard_support)."""
    Console.check_and_forget()
    yield
    errors = Console.check_and_forget()
    assert not errors, f"the dashboard's browser console had errors: {errors[:5]}"
