"""Classrooms and their tokens: classroom-wide, instructor, and each student's own."""

from __future__ import annotations

import pytest

from actors.domain.registry import ClassroomRegistry, Grant, hash_token, slug

pytestmark = pytest.mark.unit


def create(
    registry: ClassroomRegistry, name: str, cid: str | None, shard: int = 0
) -> dict[str, str]:
    """Plan, then apply, a new classroom (as the directory does once the store has it)."""
    classroom, change, tokens = registry.plan_create(name, cid, shard, False)
    registry.add(classroom)
    registry.apply(change)
    return {"classroom_id": classroom.classroom_id, **tokens}


def student_token(registry: ClassroomRegistry, cid: str, sid: str) -> str:
    change, token = registry.plan_student_token(cid, sid)
    registry.apply(change)
    return token


def test_registry_issues_distinct_hashed_tokens_and_refuses_duplicates() -> None:
    registry = ClassroomRegistry()
    created = create(registry, "Data Science 101", "ds-101", 1)
    assert created["ingest_token"].startswith("cmi_")
    assert created["instructor_token"].startswith("cmr_")
    assert created["ingest_token"] not in str(vars(registry))  # only digests are kept
    grant = registry.resolve(hash_token(created["instructor_token"]))
    assert grant is not None and grant.role == "instructor"
    with pytest.raises(ValueError, match="already exists"):
        registry.plan_create("again", "ds-101", 0, False)
    with pytest.raises(ValueError, match="lowercase"):
        registry.plan_create("bad", "Has Spaces", 0, False)
    assert slug("Intro to Python!") == "intro-to-python"
    assert registry.load_per_shard(2) == [0, 1]


def test_a_student_token_is_bound_to_one_student_and_replaced_on_reissue() -> None:
    registry = ClassroomRegistry()
    create(registry, "Class", "c1")
    first = student_token(registry, "c1", "ana")
    assert first.startswith("cms_")
    assert registry.resolve(hash_token(first)) == Grant("c1", "student", "ana")
    second = student_token(registry, "c1", "ana")
    assert registry.resolve(hash_token(first)) is None  # the earlier token stops working
    assert registry.resolve(hash_token(second)) == Grant("c1", "student", "ana")
    bo = student_token(registry, "c1", "bo")
    registry.apply(registry.plan_revoke("c1", "ana"))
    assert registry.resolve(hash_token(second)) is None
    assert registry.resolve(hash_token(bo)) is not None and not registry.has_student_token(
        "c1", "ana"
    )


def test_nothing_changes_until_a_planned_change_is_applied() -> None:
    """The directory persists a change first: a failed write leaves every old token working."""
    registry = ClassroomRegistry()
    created = create(registry, "Class", "c1")
    kept = student_token(registry, "c1", "ana")
    registry.plan_student_token("c1", "ana")
    registry.plan_rotate("c1")
    for token in (kept, created["ingest_token"], created["instructor_token"]):
        assert registry.resolve(hash_token(token)) is not None


def test_rotating_the_classroom_tokens_keeps_every_students_own() -> None:
    registry = ClassroomRegistry()
    created = create(registry, "Class", "c1")
    own = student_token(registry, "c1", "ana")
    change, fresh = registry.plan_rotate("c1")
    registry.apply(change)
    assert registry.resolve(hash_token(created["ingest_token"])) is None
    assert registry.resolve(hash_token(fresh["ingest_token"])) == Grant("c1", "ingest")
    assert registry.resolve(hash_token(own)) == Grant("c1", "student", "ana")


@pytest.mark.parametrize("bad", ["", " ana", "x" * 129])
def test_student_ids_are_bounded_and_classrooms_must_exist(bad: str) -> None:
    registry = ClassroomRegistry()
    create(registry, "Class", "c1")
    with pytest.raises(ValueError, match="student id"):
        registry.plan_student_token("c1", bad)
    with pytest.raises(LookupError, match="no classroom"):
        registry.plan_student_token("nope", "ana")
