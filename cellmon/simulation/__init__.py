"""Simulated Jupyter classes for load tests and demos.

Pure: `script.SimulatedStudent` (one student's events), `plan.plan_class` (a class of them).
I/O: `runner.run_class` (sends a class's events to an ingest), `command` (`cellmon simulate`).
"""

from __future__ import annotations

from cellmon.simulation.command import add_arguments, simulate_command
from cellmon.simulation.habits import Pace
from cellmon.simulation.plan import plan_class
from cellmon.simulation.runner import run_class
from cellmon.simulation.script import SimulatedStudent
from cellmon.simulation.sender import SendStats, SimulationAborted

__all__ = [
    "Pace",
    "SendStats",
    "SimulatedStudent",
    "SimulationAborted",
    "add_arguments",
    "plan_class",
    "run_class",
    "simulate_command",
]
