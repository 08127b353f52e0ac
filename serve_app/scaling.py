"""How many ingest replicas Serve's autoscaler asks for: its default rule (requests held over
`target_ongoing_requests`), counting the ingest requests the front door holds, which never pass
through Serve's own count (`serve_app.front_door`). Serve applies the bounds and the up- and
downscale delays around it."""

from __future__ import annotations

from typing import Any

from ray.serve.config import AutoscalingContext

HELD_AT_DOOR = "held_at_door"  # the metric each replica reports (`Ingest.record_autoscaling_stats`)
POLICY = "serve_app.scaling:follow_requests_held"


def follow_requests_held(ctx: AutoscalingContext) -> tuple[float, dict[str, Any]]:
    """Replicas wanted: all the requests held (Serve's and the door's), over the target."""
    if ctx.config is None:  # no autoscaling config to follow: stay as Serve has it
        return ctx.target_num_replicas, {}
    at_door = (ctx.aggregated_metrics or {}).get(HELD_AT_DOOR, {})
    held = ctx.total_num_requests + sum(at_door.values())
    return held / ctx.config.get_target_ongoing_requests(), {}
