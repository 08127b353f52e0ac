"""`cellmon demo`: a demo classroom with a simulated class, and where to look."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from cellmon.settings import Settings
from cellmon_cli import cluster, stack
from cellmon_cli.simulate import simulate_command

DEMO_ID = "demo"
DEMO_NAME = "Demo class: Python week 3"


def demo_classroom(settings: Settings) -> dict[str, Any]:
    """Create the demo classroom, or reuse the one the database already has: with the tokens
    saved in the run folder if they still work, else with new ones (the directory shows tokens
    only once, and a second clone or a removed `.cellmon/` has none)."""
    saved = settings.state_dir / "demo-classroom.json"
    try:
        classroom = stack.create_classroom(settings, DEMO_NAME, DEMO_ID)
    except ValueError:
        classroom = _still_working(settings, saved) or {
            "classroom_id": DEMO_ID,
            "name": DEMO_NAME,
            **stack.rotate_tokens(settings, DEMO_ID),
        }
    settings.state_dir.mkdir(parents=True, exist_ok=True)
    saved.write_text(json.dumps(classroom))
    saved.chmod(0o600)
    return classroom


def _still_working(settings: Settings, saved: Path) -> dict[str, Any] | None:
    """The saved demo tokens, if the file is readable and the cluster still knows them."""
    try:
        classroom: dict[str, Any] = json.loads(saved.read_text())
        tokens = (classroom["ingest_token"], classroom["instructor_token"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    grants = [stack.token_grant(settings, token) for token in tokens]
    return classroom if grants == [(DEMO_ID, "ingest"), (DEMO_ID, "instructor")] else None


def where_to_look(settings: Settings, classroom: dict[str, Any], dashboard: str) -> str:
    """The lines a new user needs to see the class live."""
    url = f"http://{settings.http_host}:{settings.http_port}"
    cid, read = classroom["classroom_id"], classroom["instructor_token"]
    email, _, password = DEMO_INSTRUCTOR
    return "\n".join(
        [
            "",
            "Cell Monitor demo is running",
            f"  instructor dashboard: {dashboard}   (sign in as {email} / {password})",
            f"  API and OpenAPI docs: {url}/docs",
            f"  classroom:            {cid}",
            f"  ingest token:         {classroom['ingest_token']}  (students, write-only)",
            f"  instructor token:     {read}   (read API)",
            "  watch the class live (run it again to see it change):",
            f"    curl -s -H 'Authorization: Bearer {read}' {url}/api/v1/classrooms/{cid}"
            " | python3 -m json.tool | head -40",
            f"  one student:  curl -s -H 'Authorization: Bearer {read}' "
            f"{url}/api/v1/classrooms/{cid}/students/student-01@example.edu",
            f"  tokens saved in {settings.state_dir / 'demo-classroom.json'}",
            "  Ctrl-C stops the simulated class; `make down` stops the cluster.",
            "",
        ]
    )


DEMO_INSTRUCTOR = ("teacher@example.edu", "Demo Teacher", "cellmon-demo")


def demo_instructor(settings: Settings) -> None:
    """An instructor account that may see the demo classroom."""
    from actors.adapters import accounts

    email, name, password = DEMO_INSTRUCTOR
    dsn = stack.reachable_store(settings).store_url
    accounts.add_instructor(dsn, email, name, password)
    accounts.grant(dsn, email, DEMO_ID)


def run_demo(settings: Settings, students: int, speed: float) -> int:
    """Print where to look, then simulate the class until Ctrl-C."""
    from cellmon_cli.dashboard_process import start_dashboard

    classroom = demo_classroom(settings)
    demo_instructor(settings)
    info = cluster.running(settings)
    address = settings.ray_address or (info["ray_address"] if info else "auto")
    dashboard = start_dashboard(settings, address)
    print(where_to_look(settings, classroom, dashboard), flush=True)
    args = argparse.Namespace(
        url=f"http://{settings.http_host}:{settings.http_port}",
        token=classroom["ingest_token"],
        classroom=classroom["classroom_id"],
        students=students,
        minutes=None,
        speed=speed,
        seed=None,
    )
    return simulate_command(args)
