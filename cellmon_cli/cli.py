"""The `cellmon` command: run the cluster, manage classrooms, simulate a class."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path

from cellmon.settings import Settings
from cellmon_cli import cluster, stack


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `cellmon` command."""
    parser = _parser()
    args = parser.parse_args(argv)
    if not hasattr(args, "run"):
        parser.print_help()
        return 2
    return int(args.run(args, Settings()) or 0)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="cellmon", description=__doc__)
    sub = parser.add_subparsers(title="commands")
    up = sub.add_parser("up", help="start a local cluster and deploy")
    up.add_argument("--wait", action="store_true", help="stay in the foreground; stop on exit")
    up.set_defaults(run=cmd_up)
    deploy = sub.add_parser("deploy", help="deploy onto a running cluster (CELLMON_RAY_ADDRESS)")
    deploy.set_defaults(run=cmd_deploy)
    sub.add_parser("down", help="stop the cluster `up` started").set_defaults(run=cmd_down)
    sub.add_parser("status", help="classrooms and shard load").set_defaults(run=cmd_status)
    sub.add_parser(
        "serve-env", help="the Ray Serve tuning a `ray start` of our cluster needs, as KEY=VALUE"
    ).set_defaults(run=cmd_serve_env)
    demo = sub.add_parser("demo", help="up + a demo classroom + a simulated class")
    demo.add_argument("--students", type=int, default=30)
    demo.add_argument("--speed", type=float, default=1.0)
    demo.set_defaults(run=cmd_demo)
    db = sub.add_parser("db", help="the PostgreSQL event log").add_subparsers()
    db.add_parser("upgrade", help="create the database and apply migrations").set_defaults(
        run=cmd_db_upgrade
    )
    classroom = sub.add_parser("classroom", help="manage classrooms").add_subparsers()
    create = classroom.add_parser("create", help="create a classroom and print its tokens")
    create.add_argument("name")
    create.add_argument("--id", dest="classroom_id", default=None)
    create.add_argument("--json", action="store_true", help="print JSON")
    create.add_argument(
        "--roster",
        type=Path,
        help="CSV student_id,name,team: enroll them, write their tokens to ROSTER-tokens.csv, "
        "and require students' own tokens from the start",
    )
    create.set_defaults(run=cmd_classroom_create)
    classroom.add_parser("list", help="list classrooms").set_defaults(run=cmd_classroom_list)
    move = classroom.add_parser(
        "move", help="move a live classroom to another shard; its students keep posting"
    )
    move.add_argument("classroom_id")
    move.add_argument("--to", type=int, default=None, help="shard index (default: least loaded)")
    move.set_defaults(run=cmd_classroom_move)
    keep = classroom.add_parser(
        "retention",
        help="how long a classroom's events are kept; older activity, the state it built and"
        " its InfluxDB points are purged every hour",
    )
    keep.add_argument("classroom_id")
    keep.add_argument("days", help="a number of days, or 'off' to keep everything")
    keep.add_argument("--now", action="store_true", help="also purge now, not at the next pass")
    keep.set_defaults(run=cmd_classroom_retention)
    consent = classroom.add_parser(
        "consent",
        help="ask the classroom's students for research consent (their JupyterLab asks once);"
        " research reads and exports then hold only those who agreed",
    )
    consent.add_argument("classroom_id")
    consent.add_argument("asked", choices=("on", "off"))
    consent.set_defaults(run=cmd_classroom_consent)
    shard = sub.add_parser("shard", help="the actors hosting classrooms").add_subparsers()
    drain = shard.add_parser(
        "drain", help="move every classroom off a shard (live), then stop it if above the minimum"
    )
    drain.add_argument("shard", type=int)
    drain.set_defaults(run=cmd_shard_drain)
    instructor = sub.add_parser("instructor", help="dashboard accounts").add_subparsers()
    add = instructor.add_parser("add", help="create or update an instructor account")
    add.add_argument("email")
    add.add_argument("--name", required=True)
    add.add_argument("--classroom", action="append", default=[], help="may see it (repeat)")
    add.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    add.set_defaults(run=cmd_instructor_add)
    allow = instructor.add_parser("grant", help="let an instructor see a classroom")
    allow.add_argument("email")
    allow.add_argument("classroom")
    allow.set_defaults(run=cmd_instructor_grant)
    researcher = sub.add_parser("researcher", help="research credentials").add_subparsers()
    radd = researcher.add_parser(
        "add", help="create a researcher (or a new token for one) and print the token once"
    )
    radd.add_argument("name")
    radd.add_argument("--classroom", action="append", default=[], help="in the study (repeat)")
    radd.set_defaults(run=cmd_researcher_add)
    rgrant = researcher.add_parser("grant", help="add a classroom to a researcher's study")
    rgrant.add_argument("name")
    rgrant.add_argument("classroom")
    rgrant.set_defaults(run=cmd_researcher_grant)
    from cellmon_cli.export import add_arguments as add_export_arguments
    from cellmon_cli.students import add_arguments as add_student_arguments

    add_student_arguments(sub)
    add_export_arguments(sub)
    simulate = sub.add_parser("simulate", help="simulate a class posting events over HTTP")
    from cellmon_cli.simulate import add_arguments, simulate_command

    add_arguments(simulate)
    simulate.set_defaults(run=lambda args, settings: simulate_command(args))
    loadtest = sub.add_parser(
        "loadtest", help="load the ingest with simulated students; latency, freshness, alerts"
    )
    from cellmon_cli.loadtest.command import add_arguments as add_loadtest_arguments
    from cellmon_cli.loadtest.command import loadtest_command

    add_loadtest_arguments(loadtest)
    loadtest.set_defaults(run=loadtest_command)
    return parser


def cmd_up(args: argparse.Namespace, settings: Settings) -> int:
    """Start the head (unless running), deploy, and print where to look."""
    settings = stack.reachable_services(settings)
    info = cluster.running(settings)
    if info is None:
        print(f"starting Ray head on 127.0.0.1:{settings.ray_port} ...", flush=True)
        info = cluster.start_head(settings)
    cluster.connect(settings, info["ray_address"])
    print("deploying the directory, shards and the Serve ingest ...", flush=True)
    stack.deploy(settings)
    print(f"Cell Monitor is up: API {info['http_url']}  (OpenAPI: {info['http_url']}/docs)")
    if getattr(args, "wait", False):
        cluster.wait_then_stop(settings)
    return 0


def cmd_deploy(args: argparse.Namespace, settings: Settings) -> int:
    """Deploy onto the cluster at CELLMON_RAY_ADDRESS (a cluster launcher's head, say)."""
    if not settings.ray_address:
        print("error: set CELLMON_RAY_ADDRESS to the cluster's GCS address", file=sys.stderr)
        return 2
    cluster.connect(settings)
    stack.deploy(settings)
    print(f"deployed: API http://{settings.http_host}:{settings.http_port}/docs")
    return 0


def cmd_down(args: argparse.Namespace, settings: Settings) -> int:
    """Stop the cluster this project started (and the embedded PostgreSQL and Redis, if it
    started them)."""
    from cellmon_cli.dashboard_process import stop_dashboard
    from cellmon_cli.embedded import stop_embedded_postgres
    from cellmon_cli.embedded_redis import stop_embedded_redis

    if stop_dashboard(settings):
        print("stopped the dashboard")
    print("stopped" if cluster.stop_head(settings) else "nothing was running")
    if stop_embedded_postgres(settings.state_dir):
        print("stopped the embedded PostgreSQL")
    if stop_embedded_redis(settings.state_dir):
        print("stopped the embedded Redis")
    return 0


def cmd_status(args: argparse.Namespace, settings: Settings) -> int:
    """Print the directory's classrooms and each shard's load."""
    info = cluster.running(settings)
    if info is None:
        print("Cell Monitor is not running (start it with `cellmon up`)")
        return 1
    cluster.connect(settings, info["ray_address"])
    print(json.dumps({**info, **stack.status(settings)}, indent=2))
    return 0


def cmd_db_upgrade(args: argparse.Namespace, settings: Settings) -> int:
    """Apply pending migrations to CELLMON_STORE_URL (idempotent)."""
    applied = stack.upgrade_database(settings)
    print("applied: " + ", ".join(applied) if applied else "database is up to date")
    return 0


def cmd_instructor_add(args: argparse.Namespace, settings: Settings) -> int:
    """Create the account (password from a prompt or stdin) and grant its classrooms."""
    import getpass

    from actors.adapters import accounts

    password = sys.stdin.readline().rstrip("\n") if args.password_stdin else getpass.getpass()
    dsn = stack.reachable_store(settings).store_url
    stack.upgrade_database(settings.model_copy(update={"store_url": dsn}))
    try:
        accounts.add_instructor(dsn, args.email, args.name, password)
        for classroom_id in args.classroom:
            accounts.grant(dsn, args.email, classroom_id)
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(f"instructor {args.email} can sign in; classrooms: {', '.join(args.classroom) or '-'}")
    return 0


def cmd_instructor_grant(args: argparse.Namespace, settings: Settings) -> int:
    """Let an existing instructor see a classroom."""
    from actors.adapters import accounts

    if _refused_grant(accounts.grant, settings, "instructor", args.email, args.classroom):
        return 1
    print(f"{args.email} can see {args.classroom}")
    return 0


def _refused_grant(
    grant: Callable[[str, str, str], None],
    settings: Settings,
    kind: str,
    who: str,
    classroom: str,
) -> bool:
    """`grant(dsn, who, classroom)`; True, having said why, if either does not exist."""
    import asyncpg

    try:
        grant(stack.reachable_store(settings).store_url, who, classroom)
    except asyncpg.ForeignKeyViolationError:
        print(f"error: no {kind} {who!r} or no classroom {classroom!r}", file=sys.stderr)
        return True
    return False


def cmd_researcher_add(args: argparse.Namespace, settings: Settings) -> int:
    """A researcher's token: pseudonymous reads of their study's classrooms, audited."""
    import asyncpg

    from actors.adapters import researchers

    dsn = stack.reachable_store(settings).store_url
    stack.upgrade_database(settings.model_copy(update={"store_url": dsn}))
    try:
        token = researchers.add(dsn, args.name, args.classroom)
    except asyncpg.ForeignKeyViolationError:
        print(f"error: no classroom among {args.classroom}", file=sys.stderr)
        return 1
    print(f"researcher {args.name}; classrooms: {', '.join(args.classroom) or '-'}")
    print(f"research token (CELLMON_RESEARCH_TOKEN, shown once): {token}")
    return 0


def cmd_researcher_grant(args: argparse.Namespace, settings: Settings) -> int:
    """Add a classroom to a researcher's study."""
    from actors.adapters import researchers

    if _refused_grant(researchers.grant, settings, "researcher", args.name, args.classroom):
        return 1
    print(f"{args.name}'s study includes {args.classroom}")
    return 0


def cmd_classroom_create(args: argparse.Namespace, settings: Settings) -> int:
    """Create a classroom and print its tokens (with a roster: enroll it too)."""
    from cellmon_cli import students

    rows = [] if args.roster is None else students.load_roster(args.roster)
    if rows is None:
        return 1
    cluster.connect(settings)
    try:
        created = stack.create_classroom(
            settings, args.name, args.classroom_id, require_student_tokens=bool(rows)
        )
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(json.dumps(created, indent=2) if args.json else _tokens_text(created, settings))
    if rows:
        out = args.roster.with_name(f"{args.roster.stem}-tokens.csv")
        students.write_tokens(out, students.enroll(settings, created["classroom_id"], rows))
        print(f"enrolled {len(rows)} students; their own tokens are in {out}", file=sys.stderr)
    return 0


def cmd_serve_env(args: argparse.Namespace, settings: Settings) -> int:
    """Print the environment every node's `ray start` needs (`export $(cellmon serve-env)`)."""
    from cellmon_cli.serve_tuning import serve_environment

    for key, value in serve_environment(settings).items():
        print(f"{key}={value}")
    return 0


def cmd_classroom_list(args: argparse.Namespace, settings: Settings) -> int:
    """List the classrooms the directory knows."""
    cluster.connect(settings)
    for row in stack.status(settings)["classrooms"]:
        kept = (
            f"kept {row['retention_days']} days" if row.get("retention_days") else "kept for good"
        )
        print(f"{row['classroom_id']:24} shard {row['shard']}  {kept:16}  {row['name']}")
    return 0


def cmd_classroom_retention(args: argparse.Namespace, settings: Settings) -> int:
    """Set a classroom's retention period (and purge at once, with --now)."""
    from actors.runtime.client import blocking

    days = None if args.days.strip().lower() == "off" else _whole_days(args.days)
    if days == 0:
        print(
            f"error: want a number of days (at least 1) or 'off', not {args.days!r}",
            file=sys.stderr,
        )
        return 2
    cluster.connect(settings)
    actors = stack.actors(settings)
    try:
        blocking(actors.set_retention(args.classroom_id, days))
    except (ValueError, LookupError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    kept = "for good" if days is None else f"{days} days from when the server received them"
    print(f"{args.classroom_id}: events are kept {kept}")
    if args.now and days is not None:
        for done in blocking(actors.retention_pass(), 300):
            if done["classroom_id"] == args.classroom_id:
                before = f"{done['before']:%Y-%m-%d %H:%M} UTC"
                print(f"purged {done['events']:,} events received before {before}")
    return 0


def cmd_classroom_consent(args: argparse.Namespace, settings: Settings) -> int:
    """Turn the classroom's consent question on or off (logged)."""
    from actors.runtime.client import blocking

    cluster.connect(settings)
    try:
        asked = stack.actors(settings).set_consent_policy(args.classroom_id, args.asked == "on")
        answer = blocking(asked)
    except LookupError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    if "error" in answer:
        print(f"error: {answer.get('detail') or answer['error']}", file=sys.stderr)
        return 1
    if args.asked == "on":
        print(f"{args.classroom_id}: students are asked for research consent once, in JupyterLab")
    else:
        print(
            f"{args.classroom_id}: students are not asked; those who said no stay out of research"
        )
    return 0


def _whole_days(text: str) -> int:
    """A positive number of days, or 0 for anything else."""
    return int(text) if text.strip().isdigit() and int(text) > 0 else 0


def cmd_classroom_move(args: argparse.Namespace, settings: Settings) -> int:
    """Move a classroom between shards while its class goes on."""
    cluster.connect(settings)
    try:
        moved = stack.move_classroom(settings, args.classroom_id, args.to)
    except (ValueError, LookupError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(json.dumps(moved, indent=2))
    return 0


def cmd_shard_drain(args: argparse.Namespace, settings: Settings) -> int:
    """Empty a shard (before taking its machine away, say)."""
    cluster.connect(settings)
    try:
        done = stack.drain_shard(settings, args.shard)
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(json.dumps(done, indent=2))
    return 0


def cmd_demo(args: argparse.Namespace, settings: Settings) -> int:
    """Bring everything up, create the demo classroom and run a simulated class."""
    from cellmon_cli.demo import run_demo

    settings = stack.reachable_services(settings)  # the dashboard reads the same stores
    if cmd_up(args, settings):
        return 1
    return run_demo(settings, students=args.students, speed=args.speed)


def _tokens_text(created: dict[str, str], settings: Settings) -> str:
    url = f"http://{settings.http_host}:{settings.http_port}"
    return "\n".join(
        [
            f"classroom   {created['classroom_id']}  ({created['name']})",
            f"ingest token (students' Jupyter; write-only): {created['ingest_token']}",
            f"instructor token (read API, dashboard):      {created['instructor_token']}",
            "tokens are shown once and stored only as hashes.",
            f"legacy extension server URL: {url}/c/{created['ingest_token']}",
        ]
    )


if __name__ == "__main__":
    sys.exit(main())
