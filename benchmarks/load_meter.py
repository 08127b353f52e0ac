"""What measuring a shard's load adds to applying events: `LoadMeter.record_applied` (once per
group commit) against `ClassroomActor.apply_batch` of a one-event batch, the smallest group
commit, in the same process and run (the ratio is the figure).

Usage: .venv/bin/python -m benchmarks.load_meter [--events 4000] [--repeats 5]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import TypeAdapter

from actors.domain.classroom import ClassroomActor
from actors.domain.placement import LoadMeter
from cellmon.contract import Event

_EVENT: TypeAdapter[Any] = TypeAdapter(Event)


def main(events: int, repeats: int) -> dict[str, float]:
    t0 = datetime.now(UTC)
    batch = [
        _EVENT.validate_python(
            {
                "type": "cell_executed",
                "event_id": f"e{i}",
                "classroom_id": "bench",
                "student_id": f"s{i % 30}",
                "time": t0 + timedelta(milliseconds=i),
                "received_at": t0 + timedelta(milliseconds=i),
                "status": "ok",
                "cell_id": f"c{i % 12}",
                "cell_index": i % 12,
            }
        )
        for i in range(events * repeats)
    ]
    room, meter = ClassroomActor("bench"), LoadMeter()
    applying, metering = [], []
    for r in range(repeats):
        chunk = batch[r * events : (r + 1) * events]
        started = time.perf_counter()
        for event in chunk:
            room.apply_batch([event])
        applying.append((time.perf_counter() - started) / events)
        started = time.perf_counter()
        for _ in chunk:
            meter.record_applied(1, time.monotonic())
        metering.append((time.perf_counter() - started) / events)
    apply_us, meter_us = statistics.median(applying) * 1e6, statistics.median(metering) * 1e6
    return {
        "apply_batch_1_event_us": round(apply_us, 2),
        "record_applied_us": round(meter_us, 3),
        "ratio": round(meter_us / apply_us, 3),
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=4000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    print(json.dumps(main(args.events, args.repeats), indent=2))
