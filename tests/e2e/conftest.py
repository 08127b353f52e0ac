"""The e2e tier's session deployment: a real local Ray cluster with Cell Monitor on Serve,
started and stopped by this test session's own handle (never `ray stop`)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.e2e.deployment import Deployment, deployed
from tests.support.fixtures import private_postgres

__all__ = ["private_postgres"]  # a fixture for the outage test


@pytest.fixture(scope="session")
def deployment() -> Iterator[Deployment]:
    """The session's deployment, with room for shards to be added."""
    # Token answers are trusted 2 s here (30 s by default), so revocation tests wait briefly.
    with deployed(
        "cellmon-test", shards_min=2, classrooms_per_shard=2, shards_max=4, token_cache_s=2.0
    ) as d:
        yield d
