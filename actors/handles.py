"""Every Ray API call of the actor layer lives here: names, options, creation, lookup."""

from __future__ import annotations

from typing import Any

import ray

from actors.directory import Directory
from actors.shard import Shard

DIRECTORY_NAME = "cellmon-directory"


def shard_name(index: int) -> str:
    """The shard's actor name, so any process in the namespace can find it."""
    return f"cellmon-shard-{index}"


# Async actors: thousands of concurrent calls interleave only at awaits, never inside an update.
_COMMON = {
    "lifetime": "detached",
    "get_if_exists": True,
    "num_cpus": 0,
    "max_restarts": -1,
    "max_task_retries": -1,
    "max_concurrency": 1000,
}

RemoteShard = ray.remote(Shard)
RemoteDirectory = ray.remote(Directory)


def start_shard(index: int, namespace: str, settings: dict[str, Any]) -> Any:
    """Create (or find) shard `index`; Ray restarts it after a crash and it reloads itself."""
    return RemoteShard.options(name=shard_name(index), namespace=namespace, **_COMMON).remote(
        index, {**settings, "namespace": namespace}
    )


def start_directory(namespace: str, settings: dict[str, Any]) -> Any:
    """Create (or find) the directory, which starts the minimum number of shards."""
    return RemoteDirectory.options(name=DIRECTORY_NAME, namespace=namespace, **_COMMON).remote(
        namespace, settings
    )


def directory(namespace: str) -> Any:
    """The running directory; raises ValueError when Cell Monitor is not deployed."""
    return ray.get_actor(DIRECTORY_NAME, namespace=namespace)
