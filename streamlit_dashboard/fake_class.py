"""A deterministic simulated classroom: students, a 12-cell notebook and their runs."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

FIRST = (
    "Ada Alan Grace Linus Margaret Guido Barbara Dennis Katherine Ken Radia Tim Frances Edsger "
    "Hedy Donald Sophie John Shafi Leslie Anita Niklaus Karen Bjarne Fran Yukihiro Joan Rasmus "
    "Mary Brian Lynn James Ruth Claude Adele Tony Jean Peter Carol Vint"
).split()
LAST = (
    "Lovelace Turing Hopper Torvalds Hamilton Rossum Liskov Ritchie Johnson Thompson Perlman "
    "Berners-Lee Allen Dijkstra Lamarr Knuth Wilson McCarthy Goldwasser Lamport Borg Wirth "
    "Jones Stroustrup Bartik Matsumoto Clarke Lerdorf Keller Kernighan Conway Gosling Teitelbaum "
    "Shannon Goldberg Hoare Sammet Naur Shaw Cerf"
).split()
NOTEBOOK = "week3/pandas_basics.ipynb"
CELL_CODE = (
    "import pandas as pd\nimport numpy as np",
    "df = pd.read_csv('data/penguins.csv')\ndf.head()",
    "df.describe()",
    "df = df.dropna()\nlen(df)",
    "df['body_mass_kg'] = df['body_mass_g'] / 1000",
    "df.groupby('species')['body_mass_kg'].mean()",
    "adelie = df[df.species == 'Adelie']\nadelie.shape",
    "df.pivot_table(index='island', columns='species', values='bill_length_mm')",
    "ax = df.plot.scatter(x='bill_length_mm', y='bill_depth_mm')",
    "def heavy(row):\n    return row.body_mass_kg > 4.5\n\ndf['heavy'] = df.apply(heavy, axis=1)",
    "df.sort_values('body_mass_kg', ascending=False).head(10)",
    "df.to_csv('out/penguins_clean.csv', index=False)",
)
ERRORS = (
    ("KeyError", "KeyError: 'body_mass_g'"),
    ("NameError", "NameError: name 'df' is not defined"),
    ("TypeError", "TypeError: unsupported operand type(s) for /: 'str' and 'int'"),
    ("AttributeError", "AttributeError: 'DataFrame' object has no attribute 'species_name'"),
    ("FileNotFoundError", "FileNotFoundError: [Errno 2] No such file: 'out/penguins_clean.csv'"),
)
# Share of the class in each status; the rest is active.
MIX = (("help", 0.1), ("significant_error", 0.07), ("error", 0.1), ("idle", 0.2))
TEAM_SIZE = 5


def iso(t: datetime | None) -> str | None:
    """ISO text of an aware datetime, or None."""
    return t.isoformat() if t else None


@dataclass
class FakeStudent:
    """One student's mutable state in the simulated class."""

    student_id: str
    name: str
    team: str
    status: str
    completed: int
    executions: int
    errors: int
    consecutive_errors: int
    last_activity_at: datetime
    help_since: datetime | None = None
    claimed_by: str | None = None
    claimed_at: datetime | None = None
    help_history: list[dict[str, Any]] = field(default_factory=list)


def statuses(n: int, rng: random.Random) -> list[str]:
    """A shuffled, size-proportional mix of statuses (at least one help request)."""
    out: list[str] = []
    for status, share in MIX:
        count = max(1, round(n * share))
        # A big lecture does not have a hundred hands up at once.
        out += [status] * (min(count, 3 + n // 100) if status == "help" else count)
    out += ["active"] * max(0, n - len(out))
    rng.shuffle(out)
    return out[:n]


def make_students(n: int, seed: int, now: datetime) -> list[FakeStudent]:
    """Build n students in teams of five, with deterministic names and progress."""
    rng = random.Random(seed)
    digits = max(2, len(str(n // TEAM_SIZE + 1)))  # "Team 007" sorts before "Team 100"
    students = []
    for i, status in enumerate(statuses(n, rng)):
        # (i mod 40, i + i div 40) pairs are unique up to 1,600 students: no "Ada Lovelace 2".
        first, last = FIRST[i % len(FIRST)], LAST[(i + i // len(FIRST)) % len(LAST)]
        completed = rng.randint(2, 11) if status != "idle" else rng.randint(0, 5)
        errors = rng.randint(0, 4) + (4 if status in ("help", "significant_error") else 0)
        quiet = rng.randint(200, 1500) if status == "idle" else rng.randint(3, 100)
        s = FakeStudent(
            student_id=f"s{i + 1:04d}",
            name=f"{first} {last}",
            team=f"Team {i // TEAM_SIZE + 1:0{digits}d}",
            status=status,
            completed=completed,
            executions=completed * 2 + errors + rng.randint(0, 6),
            errors=errors,
            consecutive_errors={"significant_error": 4, "help": 3, "error": 1}.get(status, 0),
            last_activity_at=now - timedelta(seconds=quiet),
        )
        if status == "help":
            s.help_since = now - timedelta(seconds=30 + 47 * (i % 9))
        if i % 6 == 2:  # an earlier, already resolved request
            raised = now - timedelta(minutes=40 - i % 20)
            s.help_history.append(
                {
                    "raised_at": iso(raised),
                    "claimed_at": iso(raised + timedelta(seconds=50 + i % 40)),
                    "claimed_by": "Dr. Grace Teacher",
                    "resolved_at": iso(raised + timedelta(seconds=200 + i % 90)),
                    "resolved_by": "Dr. Grace Teacher",
                    "wait_s": 50.0 + i % 40,
                    "handling_s": 150.0 + i % 90 - i % 40,
                }
            )
        students.append(s)
    return students


def series(
    start: datetime, step: timedelta, count: int, size: int, key: str
) -> list[dict[str, Any]]:
    """A smooth deterministic activity series scaled to class size."""
    rows = []
    for k in range(count):
        wave = 1 + math.sin(k / 3.0)
        rows.append(
            {
                key: iso(start + step * k),
                "executions": round(size * step.total_seconds() / 300 * (0.6 + 0.5 * wave)),
                "errors": round(size * step.total_seconds() / 300 * 0.12 * (1.2 - 0.5 * wave)),
                "help": int(size * 0.02 * (k % 4 == 1)),
            }
        )
    return rows
