"""A second Ray node on this machine: its own raylet (its own node id and `--resources` label)
joining a test's cluster, and killing it the hard way, every process of it by pid."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from cellmon.settings import Settings
from cellmon_cli.serve_tuning import serve_environment
from tests.support.private_postgres import free_port
from tests.support.waiting import wait_until


@dataclass
class SecondNode:
    pid: int  # the `ray start --block` process; the raylet and its workers descend from it
    node_id: str
    label: str

    def kill(self) -> list[int]:
        """SIGKILL the node's every process (the raylet, its workers and agents), by pid."""
        pids = [self.pid, *_descendants(self.pid)]
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        return pids


@contextmanager
def second_node(
    gcs_address: str, settings: Settings, label: str, log_path: Path, num_cpus: int = 2
) -> Iterator[SecondNode]:
    """Start a node with resource `label` joining the cluster at `gcs_address`; on exit,
    whatever of it still runs is killed (by pid: never `ray stop`)."""
    import ray

    ports = [free_port() for _ in range(6)]
    command = [
        str(Path(sys.executable).with_name("ray")),
        "start",
        f"--address={gcs_address}",
        "--node-ip-address=127.0.0.1",
        f"--num-cpus={num_cpus}",
        f"--resources={json.dumps({label: 1})}",
        f"--node-manager-port={ports[0]}",
        f"--object-manager-port={ports[1]}",
        f"--dashboard-agent-listen-port={ports[2]}",
        f"--dashboard-agent-grpc-port={ports[3]}",
        f"--runtime-env-agent-port={ports[4]}",
        f"--metrics-export-port={ports[5]}",
        "--disable-usage-stats",
        "--block",
    ]
    with log_path.open("ab") as log:
        process = subprocess.Popen(
            command,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            env={**os.environ, **serve_environment(settings)},
        )
    try:
        node_id = wait_until(
            lambda: next(
                (n["NodeID"] for n in ray.nodes() if n["Alive"] and label in n["Resources"]),
                None,
            ),
            90,
            f"node {label} to join the cluster",
        )
        yield SecondNode(process.pid, node_id, label)
    finally:
        SecondNode(process.pid, "", label).kill()
        process.wait(30)


def _descendants(pid: int) -> list[int]:
    """Every process below `pid` (children first found, then theirs)."""
    found, queue = [], [pid]
    while queue:
        parent = queue.pop()
        children = subprocess.run(
            ["ps", "-o", "pid=", "--ppid", str(parent)], capture_output=True, text=True
        ).stdout.split()
        for child in map(int, children):
            found.append(child)
            queue.append(child)
    return found
