"""CPython's cyclic garbage collector, tuned for a shard process.

A shard replaces a student's immutable state on every event it applies, so new containers keep
surviving into the oldest generation, and with CPython's default thresholds (700, 10, 10) full
collections come every few seconds and walk every student's state. Timed with `gc.callbacks`
under `wrk` at batch 100 (2026-12-01): the collector took 21-23% of each shard's CPU, most of
it in full collections of 0.2-0.35 s, each of which also held the shard's event loop (and any
raised hand waiting on it). Reference counting frees what a shard drops, since its state holds
no cycles, so the collector only has to find the rare cycle (an exception's traceback, say):
collecting far less often loses nothing but that garbage's short stay. With thresholds of
(50,000, 50, 100) the same run spent about 1% of the shards' CPU collecting; with those below,
which still collect fully now and then, 4 alternating runs gave 15,200-16,800 events/s against
12,000-14,100 with the defaults (BENCHMARKS.md).
"""

from __future__ import annotations

import gc

# A young collection after 50,000 more containers than were freed; the middle one after 20 of
# those, the full one after 20 middle ones (and only once the old generation has grown by a
# quarter, CPython's own rule).
THRESHOLDS = (50_000, 20, 20)


def tune_for_shard() -> None:
    """Collect cycles less often in this process."""
    gc.set_threshold(*THRESHOLDS)
