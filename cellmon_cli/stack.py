"""Deploy Cell Monitor onto a connected Ray cluster: the directory, its shards, the Serve app."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from cellmon.settings import Settings

if TYPE_CHECKING:
    from actors.runtime.client import ActorClient


def upgrade_database(settings: Settings) -> list[str]:
    """Create the database if needed and apply pending migrations; returns those applied."""
    if not settings.store_url.startswith(("postgresql://", "postgres://")):
        return []
    return asyncio.run(_upgrade(settings.store_url))


async def _upgrade(dsn: str) -> list[str]:
    import asyncpg

    from actors.adapters.stores.migrate import ensure_database, upgrade

    await ensure_database(dsn)
    connection = await asyncpg.connect(dsn)
    try:
        return await upgrade(connection)
    finally:
        await connection.close()


def deploy(settings: Settings, app_name: str = "cellmon", route: str = "/") -> None:
    """Migrate the database, start (or find) the directory and shards, run the ingest."""
    from actors.runtime.client import ActorClient, blocking
    from cellmon_cli.serve_tuning import proxy_port
    from serve_app.app import AppArgs
    from serve_app.app import deploy as deploy_serve

    upgrade_database(settings)
    blocking(ActorClient.deploy(settings), timeout_s=120)  # the directory and its shards answer
    deploy_serve(
        AppArgs(settings=settings), settings.http_host, proxy_port(settings), app_name, route
    )


def actors(settings: Settings) -> ActorClient:
    """The typed client of this deployment's actors (the process must be attached to Ray)."""
    from actors.runtime.client import ActorClient

    return ActorClient(settings.namespace)


def create_classroom(
    settings: Settings, name: str, classroom_id: str | None, require_student_tokens: bool = False
) -> dict[str, Any]:
    """Register a classroom; returns its id and tokens."""
    from actors.runtime.client import blocking

    client = actors(settings)
    return blocking(client.create_classroom(name, classroom_id, require_student_tokens))


def move_classroom(settings: Settings, classroom_id: str, to_shard: int | None) -> dict[str, Any]:
    """Move a live classroom to another shard (or where placement puts it)."""
    from actors.runtime.client import blocking

    return blocking(actors(settings).move(classroom_id, to_shard))


def drain_shard(settings: Settings, shard: int) -> list[dict[str, Any]]:
    """Move every classroom off a shard, then stop it (down to shards_min)."""
    from actors.runtime.client import blocking

    return blocking(actors(settings).drain(shard), timeout_s=300)


def rotate_tokens(settings: Settings, classroom_id: str) -> dict[str, str]:
    """New ingest and instructor tokens for the classroom (the old ones stop working)."""
    from actors.runtime.client import blocking

    return blocking(actors(settings).rotate_tokens(classroom_id))


def token_grant(settings: Settings, token: str) -> tuple[str, str] | None:
    """(classroom_id, role) the token grants, or None for an unknown token."""
    from actors.domain.registry import hash_token
    from actors.runtime.client import blocking

    found = blocking(actors(settings).resolve(hash_token(token)))
    return None if found is None else (found.grant.classroom_id, found.grant.role)


def status(settings: Settings) -> dict[str, Any]:
    """The ingest's replicas (Serve), the classrooms and each shard's load (the directory and
    the shards)."""
    from actors.runtime.client import blocking
    from serve_app.app import ingest_status

    client = actors(settings)
    return {
        "ingest": ingest_status(),
        "classrooms": blocking(client.classrooms()),
        "shards": blocking(client.all_shard_stats()),
    }


def reachable_store(settings: Settings) -> Settings:
    """The settings, pointed at an embedded PostgreSQL when the configured one is unreachable."""
    from cellmon_cli.embedded import postgres_reachable, start_embedded_postgres

    url = settings.store_url
    if not url.startswith(("postgresql://", "postgres://")) or postgres_reachable(url):
        return settings
    dsn = start_embedded_postgres(settings.state_dir)
    print(
        f"PostgreSQL at {url} is not reachable: using an embedded one at "
        f"{_without_password(dsn)} (password in {settings.state_dir}/embedded-postgres.secret) "
        f"(data in {settings.state_dir / 'embedded-postgres'})",
        flush=True,
    )
    return settings.model_copy(update={"store_url": dsn})


def reachable_alerts(settings: Settings) -> Settings:
    """The settings, pointed at an embedded Redis when none answers at the alerts URL."""
    from cellmon_cli.embedded_redis import redis_reachable, start_embedded_redis

    url = settings.alerts_url
    if not url.startswith(("redis://", "rediss://")) or redis_reachable(url):
        return settings
    embedded = start_embedded_redis(settings.state_dir)
    print(
        f"Redis at {_without_password(url)} is not reachable: help alerts go through an "
        f"embedded one at {_without_password(embedded)} "
        f"(password in {settings.state_dir}/embedded-redis.secret)",
        flush=True,
    )
    return settings.model_copy(update={"alerts_url": embedded})


def reachable_services(settings: Settings) -> Settings:
    """The settings, with embedded PostgreSQL and Redis standing in for any that is down."""
    return reachable_alerts(reachable_store(settings))


def _without_password(dsn: str) -> str:
    scheme, _, rest = dsn.partition("://")
    credentials, at, host = rest.rpartition("@")
    return f"{scheme}://{credentials.split(':', 1)[0]}{at}{host}" if at else dsn
