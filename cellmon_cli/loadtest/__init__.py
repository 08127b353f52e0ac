"""`cellmon loadtest`: simulated students over HTTP, with latency, freshness and help-alert
probes.

Pure: `events` (batches), `stats` (percentiles, the report), `progress` (the bar's line).
I/O: `wire` (a lean HTTP/1.1 client), `probes`, `runner`, `command`.
"""

from __future__ import annotations

from cellmon_cli.loadtest.probes import Target
from cellmon_cli.loadtest.runner import LoadPlan, run_load

__all__ = ["LoadPlan", "Target", "run_load"]
