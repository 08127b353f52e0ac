"""Deploy Cell Monitor onto a connected Ray cluster: the directory, its shards, the Serve app."""

from __future__ import annotations

import asyncio
import dataclasses
from typing import Any

from cellmon.settings import Settings


def upgrade_database(settings: Settings) -> list[str]:
    """Create the database if needed and apply pending migrations; returns those applied."""
    if not settings.store_url.startswith(("postgresql://", "postgres://")):
        return []
    return asyncio.run(_upgrade(settings.store_url))


async def _upgrade(dsn: str) -> list[str]:
    import asyncpg

    from actors.stores.migrate import ensure_database, upgrade

    await ensure_database(dsn)
    connection = await asyncpg.connect(dsn)
    try:
        return await upgrade(connection)
    finally:
        await connection.close()


def deploy(settings: Settings, app_name: str = "cellmon", route: str = "/") -> None:
    """Migrate the database, start (or find) the directory and shards, run the ingest."""
    import ray

    upgrade_database(settings)

    from actors.handles import start_directory
    from cellmon.serve_tuning import proxy_port
    from serve_app.app import AppArgs
    from serve_app.app import deploy as deploy_serve

    directory = start_directory(settings.namespace, directory_settings(settings))
    ray.get(directory.classrooms.remote())  # wait until it and its shards are up
    args = AppArgs(
        namespace=settings.namespace,
        max_batch=settings.max_batch,
        max_code_chars=settings.max_code_chars,
        max_body_bytes=settings.max_body_bytes,
        max_event_age=settings.limits().max_event_age,
        max_event_ahead=settings.limits().max_event_ahead,
        max_replicas=settings.ingest_replicas_max,
    )
    deploy_serve(args, settings.http_host, proxy_port(settings), app_name, route)


def directory_settings(settings: Settings) -> dict[str, Any]:
    """The part of the settings the directory and shard actors use."""
    return {"limits": dataclasses.asdict(settings.limits())} | settings.model_dump(
        include={
            "shards_min",
            "shards_max",
            "classrooms_per_shard",
            "significant_errors",
            "store_url",
            "checkpoint_interval_s",
            "idle_unload_s",
            "influx_url",
            "alerts_url",
        }
    )


def create_classroom(settings: Settings, name: str, classroom_id: str | None) -> dict[str, Any]:
    """Register a classroom; returns its id and tokens."""
    import ray

    from actors.handles import directory

    created: dict[str, Any] = ray.get(
        directory(settings.namespace).create_classroom.remote(name, classroom_id)
    )
    return created


def rotate_tokens(settings: Settings, classroom_id: str) -> dict[str, str]:
    """New ingest and instructor tokens for the classroom (the old ones stop working)."""
    import ray

    from actors.handles import directory

    tokens: dict[str, str] = ray.get(
        directory(settings.namespace).rotate_tokens.remote(classroom_id)
    )
    return tokens


def token_grant(settings: Settings, token: str) -> tuple[str, str] | None:
    """(classroom_id, role) the token grants, or None for an unknown token."""
    import ray

    from actors.handles import directory
    from actors.registry import hash_token

    found = ray.get(directory(settings.namespace).resolve.remote(hash_token(token)))
    return None if found is None else (found[0], found[1])


def status(settings: Settings) -> dict[str, Any]:
    """Classrooms and shard load, as the directory and shards report them."""
    import ray

    from actors.handles import directory

    handle = directory(settings.namespace)
    shards = ray.get(handle.shard_handles.remote())
    return {
        "classrooms": ray.get(handle.classrooms.remote()),
        "shards": ray.get([shard.stats.remote() for shard in shards]),
    }


def reachable_store(settings: Settings) -> Settings:
    """The settings, pointed at an embedded PostgreSQL when the configured one is unreachable."""
    from cellmon.embedded import postgres_reachable, start_embedded_postgres

    url = settings.store_url
    if not url.startswith(("postgresql://", "postgres://")) or postgres_reachable(url):
        return settings
    dsn = start_embedded_postgres(settings.state_dir)
    print(
        f"PostgreSQL at {url} is not reachable: using an embedded one at {dsn} "
        f"(data in {settings.state_dir / 'embedded-postgres'})",
        flush=True,
    )
    return settings.model_copy(update={"store_url": dsn})
