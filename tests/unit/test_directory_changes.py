"""Token changes take effect only once the store holds them: when it cannot be written, the
old tokens keep working and the caller gets the error."""

from __future__ import annotations

from typing import Any

import pytest

from actors.adapters.stores import LogUnavailable
from actors.adapters.stores.memory import MemoryStore
from actors.domain.registry import hash_token
from actors.runtime.directory import Directory
from tests.unit.factories import unit_settings

pytestmark = pytest.mark.unit


def _directory(store: MemoryStore) -> Directory:
    directory = Directory(unit_settings(shards_min=1), start_shard=lambda index, settings: index)
    directory.store = store
    return directory


async def _grant(directory: Directory, token: str) -> Any:
    found = await directory.resolve(hash_token(token))
    return None if found is None else found.grant


async def test_a_failed_write_leaves_every_old_token_working() -> None:
    store = MemoryStore()
    directory = _directory(store)
    room = await directory.create_classroom("Class", "c1")
    ana = await directory.student_token("c1", "ana")
    store.available = False  # PostgreSQL is down
    with pytest.raises(LogUnavailable):
        await directory.student_token("c1", "ana")
    with pytest.raises(LogUnavailable):
        await directory.rotate_tokens("c1")
    with pytest.raises(LogUnavailable):
        await directory.revoke_student_token("c1", "ana")
    for token in (ana, room["ingest_token"], room["instructor_token"]):
        assert await _grant(directory, token) is not None


async def test_a_restarted_directory_knows_what_the_store_kept() -> None:
    store = MemoryStore()
    first = _directory(store)
    await first.create_classroom("Class", "c1")
    ana = await first.student_token("c1", "ana")
    await first.require_student_tokens("c1", True)
    again = _directory(store)  # Ray restarted the actor: it reloads the registry
    found = await again.resolve(hash_token(ana))
    assert found is not None and found.grant.student_id == "ana"
    assert found.require_student_tokens is True
