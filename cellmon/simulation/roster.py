"""Who is in the simulated class: ids, names and teams of five."""

from __future__ import annotations

import string
from dataclasses import dataclass

TEAM_SIZE = 5

NAMES: tuple[str, ...] = (
    "Aiko Tanaka", "Mateo García", "Amara Okafor", "Liam O'Brien", "Priya Sharma",
    "Chen Wei", "Fatima Al-Sayed", "Noah Müller", "Sofia Rossi", "Kwame Mensah",
    "Ingrid Johansson", "Diego Fernández", "Leila Haddad", "Yuki Sato", "Olumide Adeyemi",
    "Ana Souza", "Arjun Patel", "Emma Dubois", "Hana Kim", "Tomasz Nowak",
    "Zanele Dlamini", "Lucas Silva", "Mei Lin", "Omar Farouk", "Isabella Costa",
    "Nikolai Petrov", "Ayesha Khan", "Kai Nakamura", "Chloé Martin", "Samuel Osei",
    "Elena Popescu", "Rafael Torres", "Nadia Benali", "Jonas Becker", "Thandiwe Nkosi",
    "Minh Nguyen", "Grace Wanjiru", "Felipe Rojas", "Saanvi Iyer", "Erik Lindqvist",
)  # fmt: skip


@dataclass(frozen=True)
class Identity:
    """How one student appears on the wire."""

    student_id: str
    name: str
    team: str


def make_roster(students: int) -> list[Identity]:
    """`students` identities: student-01@example.edu, ..., seated in teams of five in order."""
    return [
        Identity(f"student-{i + 1:02d}@example.edu", student_name(i), team_label(i // TEAM_SIZE))
        for i in range(students)
    ]


def student_name(index: int) -> str:
    """A realistic name; past the end of the list, names repeat with a number."""
    name = NAMES[index % len(NAMES)]
    lap = index // len(NAMES)
    return name if lap == 0 else f"{name} ({lap + 1})"


def team_label(team: int) -> str:
    """'Team A' for team 0, ..., 'Team Z', then 'Team AA', 'Team AB', ..."""
    letters = ""
    team += 1
    while team > 0:  # bijective base 26, as spreadsheet columns
        team, rest = divmod(team - 1, 26)
        letters = string.ascii_uppercase[rest] + letters
    return f"Team {letters}"
