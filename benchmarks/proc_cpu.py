"""CPU seconds of processes on this machine, from /proc (user + system), for benchmarks that
report what each part of the stack spent."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of one process."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def cpu_by_command(patterns: Mapping[str, str]) -> dict[str, float]:
    """For each name, the CPU seconds of every process whose command line holds its pattern
    (a process counts once, for the first pattern it holds)."""
    totals = dict.fromkeys(patterns, 0.0)
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            used = cpu_seconds(int(entry.name))
        except OSError:
            continue  # gone while we looked
        for name, pattern in patterns.items():
            if pattern in command:
                totals[name] += used
                break
    return totals
