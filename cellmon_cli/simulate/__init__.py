"""`cellmon simulate`: a simulated class (`cellmon.simulation`) sent to a live ingest over HTTP."""

from __future__ import annotations

from cellmon_cli.simulate.command import add_arguments, simulate_command
from cellmon_cli.simulate.runner import run_class
from cellmon_cli.simulate.sender import SendStats, SimulationAborted

__all__ = ["SendStats", "SimulationAborted", "add_arguments", "run_class", "simulate_command"]
