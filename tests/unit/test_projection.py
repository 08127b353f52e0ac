"""Projector mode's pseudonyms: stable, per classroom, keyed."""

from __future__ import annotations

import pytest

from streamlit_dashboard import projection

pytestmark = pytest.mark.unit


def test_a_pseudonym_is_stable_and_differs_per_classroom_and_key() -> None:
    alias = projection.pseudonym("ds101", "ada")
    assert alias == projection.pseudonym("ds101", "ada") and alias.startswith("Student ")
    assert alias != projection.pseudonym("ds102", "ada")
    assert alias != projection.pseudonym("ds101", "ada", key=b"school secret")
    assert "ada" not in alias.lower()


def test_alerts_and_details_lose_names_and_code() -> None:
    [alert] = projection.alerts([{"student_id": "ada", "name": "Ada", "kind": "help_raised"}], "c")
    assert alert["name"] == projection.pseudonym("c", "ada") and alert["kind"] == "help_raised"
    detail: dict[str, object] = {
        "student_id": "ada",
        "name": "Ada",
        "last_code": "x",
        "last_error": "E",
    }
    projected = projection.student(detail, "c")  # type: ignore[arg-type]
    assert (projected["name"], projected["last_code"], projected["last_error"]) == (
        projection.pseudonym("c", "ada"),
        None,
        None,
    )
