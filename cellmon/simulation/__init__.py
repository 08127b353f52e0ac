"""Simulated Jupyter classes, pure: `script.SimulatedStudent` (one student's events) and
`plan.plan_class` (a class of them). No clock, no I/O: `cellmon_cli.simulate` sends them."""

from __future__ import annotations

from cellmon.simulation.habits import Pace
from cellmon.simulation.plan import plan_class
from cellmon.simulation.script import SimulatedStudent

__all__ = ["Pace", "SimulatedStudent", "plan_class"]
