"""A Cell Monitor deployment of a test's own: a new local Ray cluster with the directory,
the shards and the Serve ingest, on a fresh database; stopped by its own handle."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import httpx

from actors.runtime.client import ActorClient
from cellmon.settings import Settings
from cellmon_cli import stack
from cellmon_cli.cluster import own_cluster
from tests.support.fixtures import temporary_database
from tests.support.private_postgres import free_port


@dataclass
class Deployment:
    url: str
    settings: Settings

    @property
    def actors(self) -> ActorClient:
        """The typed client of this deployment's actors."""
        return ActorClient(self.settings.namespace)

    @property
    def proxy_url(self) -> str:
        """Serve's HTTP proxy, which routes to every app by prefix (the public port is the
        ingest replica's own, under direct ingress)."""
        return f"http://127.0.0.1:{self.settings.proxy_port}"

    def classroom(self, name: str = "class") -> dict[str, Any]:
        """A fresh classroom with its two tokens."""
        return stack.create_classroom(self.settings, name, f"{name}-{uuid.uuid4().hex[:8]}")

    def snapshot(self, classroom: dict[str, Any], prefix: str = "") -> dict[str, Any]:
        """The classroom's aggregate through the read API (of the app at `prefix`)."""
        response = httpx.get(
            f"{self.proxy_url if prefix else self.url}{prefix}"
            f"/api/v1/classrooms/{classroom['classroom_id']}",
            headers=bearer(classroom["instructor_token"]),
            timeout=30,
        )
        response.raise_for_status()
        return dict(response.json())


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def own_settings(prefix: str, store_url: str, **overrides: Any) -> Settings:
    """Settings of a deployment of one's own: free ports, a fresh namespace, the given store."""
    return Settings(
        http_port=free_port(),
        proxy_port=free_port(),
        namespace=f"{prefix}-{uuid.uuid4().hex[:6]}",
        store_url=store_url,
        **overrides,
    )


@contextmanager
def deployed(prefix: str, **overrides: Any) -> Iterator[Deployment]:
    """A Ray cluster of our own with Cell Monitor on Serve and a fresh database; stopped by
    its own handle at the end (never `ray stop`)."""
    with temporary_database() as dsn:
        settings = own_settings(prefix, dsn, **{"checkpoint_interval_s": 1.0, **overrides})
        with own_cluster(settings):
            stack.deploy(settings)
            yield Deployment(f"http://127.0.0.1:{settings.http_port}", settings)
