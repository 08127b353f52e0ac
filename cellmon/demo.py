"""`cellmon demo`: a demo classroom with a simulated class, and where to look."""

from __future__ import annotations

import argparse
import json
from typing import Any

from cellmon import stack
from cellmon.settings import Settings
from cellmon.simulation import simulate_command

DEMO_ID = "demo"


def demo_classroom(settings: Settings) -> dict[str, Any]:
    """Create the demo classroom, or reuse the one this cluster already has (tokens kept in
    the run folder, since the directory shows tokens only once)."""
    saved = settings.state_dir / "demo-classroom.json"
    try:
        created = stack.create_classroom(settings, "Demo class: Python week 3", DEMO_ID)
    except ValueError:
        if not saved.exists():
            raise
        loaded: dict[str, Any] = json.loads(saved.read_text())
        return loaded
    saved.write_text(json.dumps(created))
    saved.chmod(0o600)
    return created


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
    from cellmon import accounts

    email, name, password = DEMO_INSTRUCTOR
    dsn = stack.reachable_store(settings).store_url
    accounts.add_instructor(dsn, email, name, password)
    accounts.grant(dsn, email, DEMO_ID)


def run_demo(settings: Settings, students: int, speed: float) -> int:
    """Print where to look, then simulate the class until Ctrl-C."""
    from cellmon.dashboard_process import start_dashboard

    classroom = demo_classroom(settings)
    demo_instructor(settings)
    dashboard = start_dashboard(settings)
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
