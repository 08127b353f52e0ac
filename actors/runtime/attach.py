"""Attach this process to a running Ray cluster as a driver (the dashboard, a command, a
researcher's notebook), with Ray 2.60's token authentication kept consistent."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import time
from pathlib import Path


def require_token_auth() -> None:
    """Ray 2.60's token auth, on for our head and every driver attaching to it by address
    (Ray enables it only implicitly, and then drivers given a host:port are refused)."""
    os.environ.setdefault("RAY_AUTH_MODE", "token")
    if os.environ["RAY_AUTH_MODE"] == "token":
        ray_bin = Path(sys.executable).with_name("ray")
        subprocess.run(
            [str(ray_bin), "get-auth-token", "--generate"],
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )


def attach(address: str | None, namespace: str, timeout_s: float = 90.0) -> None:
    """Join the cluster at `address` as a driver, retrying while its head starts; a process
    that is already a driver (a test, a notebook) stays as it is."""
    if "ray" not in sys.modules:
        require_token_auth()  # before importing ray: it reads the mode once
    import ray

    if ray.is_initialized():
        return
    if address is None:
        raise RuntimeError("no Ray cluster to attach to: set CELLMON_RAY_ADDRESS")
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            ray.init(
                address=address,
                namespace=namespace,
                log_to_driver=False,
                logging_level=logging.WARNING,
            )
            return
        except (ConnectionError, RuntimeError):
            if time.monotonic() > deadline:
                raise
            time.sleep(1)
