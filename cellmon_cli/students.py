"""`cellmon student add|import`: students' own tokens, from the command line or a roster CSV."""

from __future__ import annotations

import argparse
import csv
import io
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cellmon.settings import Settings
from cellmon_cli import cluster, stack

ROSTER_COLUMNS = ("student_id", "name", "team")
TOKEN_COLUMNS = ("classroom_id", "student_id", "name", "team", "token")


@dataclass(frozen=True)
class RosterRow:
    """One student of a roster file."""

    student_id: str
    name: str | None = None
    team: str | None = None


def read_roster(text: str) -> tuple[list[RosterRow], list[str]]:
    """Rows of a roster CSV (header student_id,name,team; name and team optional), and one
    message per bad line; a student listed twice is a bad line."""
    reader = csv.DictReader(io.StringIO(text))
    if not reader.fieldnames or "student_id" not in reader.fieldnames:
        return [], ["the first line must name the columns: student_id,name,team"]
    rows, problems, seen = [], [], set()
    for line, record in enumerate(reader, start=2):
        sid = (record.get("student_id") or "").strip()
        if not sid or len(sid) > 128:
            problems.append(f"line {line}: student_id must be 1 to 128 characters")
        elif sid in seen:
            problems.append(f"line {line}: {sid!r} is listed twice")
        else:
            seen.add(sid)
            name, team = (record.get("name") or "").strip(), (record.get("team") or "").strip()
            rows.append(RosterRow(sid, name[:200] or None, team[:100] or None))
    return rows, problems


def enroll(settings: Settings, classroom_id: str, rows: list[RosterRow]) -> list[dict[str, Any]]:
    """Issue each student's own token and put them on the roster; one record per student."""
    from actors.runtime.client import blocking

    actors = stack.actors(settings)
    issued = []
    for row in rows:
        token = blocking(actors.enroll(classroom_id, row.student_id, row.name, row.team))
        issued.append({"classroom_id": classroom_id, **vars(row), "token": token})
    return issued


def add_arguments(sub: Any) -> None:
    """Register `cellmon student ...` on the CLI's subcommands."""
    student = sub.add_parser("student", help="students' own tokens").add_subparsers()
    add = student.add_parser("add", help="enroll one student and print their token")
    add.add_argument("classroom")
    add.add_argument("student_id")
    add.add_argument("--name")
    add.add_argument("--team")
    add.add_argument("--json", action="store_true", help="print JSON")
    add.set_defaults(run=cmd_student_add)
    imported = student.add_parser("import", help="enroll a roster CSV; write their tokens")
    imported.add_argument("classroom")
    imported.add_argument("roster", type=Path, help="CSV with columns student_id,name,team")
    imported.add_argument("--out", type=Path, help="tokens CSV (default: ROSTER-tokens.csv)")
    imported.set_defaults(run=cmd_student_import)


def cmd_student_add(args: argparse.Namespace, settings: Settings) -> int:
    """Enroll one student; print their token (shown once)."""
    cluster.connect(settings)
    row = RosterRow(args.student_id.strip(), args.name, args.team)
    try:
        [issued] = enroll(settings, args.classroom, [row])
    except (LookupError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps({k: issued[k] for k in ("classroom_id", "student_id", "token")}))
    else:
        print(f"{issued['student_id']} in {args.classroom}: {issued['token']}  (shown once)")
    return 0


def cmd_student_import(args: argparse.Namespace, settings: Settings) -> int:
    """Enroll every student of a roster; nothing is enrolled if any line is bad."""
    rows, problems = read_roster(args.roster.read_text(encoding="utf-8-sig"))
    if problems:
        print("error: the roster was not imported:\n  " + "\n  ".join(problems), file=sys.stderr)
        return 1
    cluster.connect(settings)
    try:
        issued = enroll(settings, args.classroom, rows)
    except (LookupError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    out = args.out or args.roster.with_name(f"{args.roster.stem}-tokens.csv")
    write_tokens(out, issued)
    print(f"enrolled {len(issued)} students in {args.classroom}; their tokens are in {out}")
    return 0


def write_tokens(path: Path, issued: list[dict[str, Any]]) -> None:
    """The tokens CSV for the instructor to hand out, readable only by its owner."""
    path.touch(mode=0o600, exist_ok=True)
    path.chmod(0o600)
    with path.open("w", newline="") as out:
        writer = csv.DictWriter(out, fieldnames=TOKEN_COLUMNS)
        writer.writeheader()
        writer.writerows(issued)
