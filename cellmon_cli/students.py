"""`cellmon student add|import|forget`: students' own tokens, from the command line or a roster
CSV, and removing a student's data when they ask to be forgotten."""

from __future__ import annotations

import argparse
import csv
import getpass
import json
import sys
from pathlib import Path
from typing import Any

from cellmon.roster import RosterRow, read_roster
from cellmon.settings import Settings
from cellmon_cli import cluster, stack

TOKEN_COLUMNS = ("classroom_id", "student_id", "name", "team", "token")


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
    student = sub.add_parser(
        "student", help="students' own tokens; forgetting one"
    ).add_subparsers()
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
    forget = student.add_parser(
        "forget",
        help="delete everything stored about one student (log, checkpoints, InfluxDB, memory,"
        " roster, token); a record that it happened is kept, without their id",
    )
    forget.add_argument("classroom")
    forget.add_argument("student_id")
    forget.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    forget.set_defaults(run=cmd_student_forget)


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


def cmd_student_forget(args: argparse.Namespace, settings: Settings) -> int:
    """Forget one student, after confirmation (the deletion cannot be undone)."""
    if not args.yes:
        if not sys.stdin.isatty():
            print("error: this deletes the student's data for good; add --yes", file=sys.stderr)
            return 2
        typed = input(
            f"Delete every record of {args.student_id!r} in {args.classroom}? "
            "Type the student id to confirm: "
        )
        if typed.strip() != args.student_id:
            print("not confirmed: nothing was deleted", file=sys.stderr)
            return 1
    from actors.runtime.client import blocking

    cluster.connect(settings)
    actors = stack.actors(settings)
    asked_by = f"cellmon student forget ({getpass.getuser()})"
    try:
        done = blocking(actors.forget_student(args.classroom, args.student_id, asked_by), 300)
    except LookupError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(
        f"forgot {args.student_id} in {args.classroom}: {done['events']:,} logged events and"
        f" {done['points']:,} InfluxDB points deleted, own token"
        f" {'revoked' if done['token_revoked'] else 'none'}; the classroom was rebuilt without"
        " them. If their Jupyter still sends with the classroom's shared token, what it sends"
        " from now on is new data: require students' own tokens to keep them out."
    )
    return 0


def load_roster(path: Path) -> list[RosterRow] | None:
    """The roster file's rows, or None after naming every bad line on stderr."""
    rows, problems = read_roster(path.read_text(encoding="utf-8-sig"))
    if problems:
        print("error: the roster is not valid:\n  " + "\n  ".join(problems), file=sys.stderr)
        return None
    return rows


def cmd_student_import(args: argparse.Namespace, settings: Settings) -> int:
    """Enroll every student of a roster; nothing is enrolled if any line is bad."""
    rows = load_roster(args.roster)
    if rows is None:
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
