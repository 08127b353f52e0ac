"""Browser tier: JupyterLab in Debian's Chromium (Playwright) against a real local deployment."""

from __future__ import annotations

import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

# The e2e helpers (Jupyter subprocess harness, Deployment) are shared, not copied.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "e2e"))

from tests.e2e.conftest import Deployment, _free_port
from tests.support.fixtures import temporary_database


@pytest.fixture(scope="module")
def deployment() -> Iterator[Deployment]:
    """A Ray cluster + Serve deployment for this module only: module scope, so it is gone
    before the e2e tier (collected after `browser/`) starts its own session cluster."""
    import ray
    from ray import serve

    from cellmon import stack
    from cellmon.settings import Settings

    with temporary_database() as dsn:
        settings = Settings(
            http_port=_free_port(),
            namespace=f"cellmon-browser-{uuid.uuid4().hex[:6]}",
            shards_min=1,
            classrooms_per_shard=4,
            shards_max=2,
            store_url=dsn,
            checkpoint_interval_s=1.0,
        )
        ray.init(
            address="local",
            num_cpus=2,
            include_dashboard=False,
            namespace=settings.namespace,
            log_to_driver=False,
        )
        try:
            stack.deploy(settings)
            yield Deployment(f"http://127.0.0.1:{settings.http_port}", settings)
        finally:
            serve.shutdown()
            ray.shutdown()
