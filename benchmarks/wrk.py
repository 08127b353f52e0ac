"""HTTP load from `wrk` (Debian's), so the client does not set the figure: a Lua script posts
batches of cell runs with unique event ids to one or more classrooms, counts the answers by
status, and prints one JSON line at the end, which `run` reads.

Closed loop by default (each connection sends its next request when answered). With `rate`, the
requests follow a schedule instead: each wrk thread hands out send times `threads / rate`
apart, and an answered connection waits for the next free one. So the offered rate is `rate`
whether answers come in 1 ms (a refusal) or 1 s, as long as enough connections are free to take
the slots; fewer free ones offer less, never more. A pause after each answer, as before, offered
connections / (pause + latency): under overload, answers turned fast and one run offered 5.45x
the capacity from a pause set for 2x.
"""

from __future__ import annotations

import json
import resource
import shutil
import subprocess
import tempfile
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

_MARK = "WRKJSON "

_SCRIPT = """
local tokens = {%(tokens)s}
local batch, students, interval = %(batch)d, %(students)d, %(interval_ms)f
local prefix, stamp = "%(prefix)s", "%(stamp)s"
local event = '{"type":"cell_executed","event_id":"%%s-%%d-%%d","student_id":"s%%d",'
  .. '"notebook_path":"bench.ipynb","cell_id":"c%%d","cell_index":%%d,"status":"ok",'
  .. '"code":"x = 1","duration_ms":3,"time":"%%s"}'
local threads, number = {}, 0

function setup(thread)
  number = number + 1
  thread:set("tid", number)
  table.insert(threads, thread)
end

sent, ok, busy, other = 0, 0, 0, 0  -- globals: done() reads them with thread:get

function request()
  sent = sent + 1
  local items = {}
  for i = 1, batch do
    local n = sent * batch + i
    items[i] = string.format(event, prefix, tid, n, n %% students, n %% 10, n %% 10, stamp)
  end
  local headers = {
    ["Authorization"] = "Bearer " .. tokens[(sent %% #tokens) + 1],
    ["Content-Type"] = "application/json",
  }
  return wrk.format("POST", nil, headers, "[" .. table.concat(items, ",") .. "]")
end

function response(status, headers, body)
  if status >= 200 and status < 300 then ok = ok + 1
  elseif status == 503 or status == 429 then busy = busy + 1
  else other = other + 1 end
end

if interval > 0 then  -- a schedule: this thread's next send time, `interval` ms after the last
  local ffi = require("ffi")
  ffi.cdef[[
    typedef struct { long tv_sec; long tv_nsec; } cellmon_timespec;
    int clock_gettime(int clock, cellmon_timespec *now);
  ]]
  local clock, slot = ffi.new("cellmon_timespec"), nil
  local function now_ms()
    ffi.C.clock_gettime(1, clock)  -- CLOCK_MONOTONIC
    return tonumber(clock.tv_sec) * 1000 + tonumber(clock.tv_nsec) / 1e6
  end
  function delay()  -- called as a connection's answer arrives: when it sends next
    local now = now_ms()
    slot = slot and math.max(slot + interval, now) or now  -- slots missed are not made up
    return math.floor(slot - now)
  end
end

function done(summary, latency, requests)
  local t = {ok = 0, busy = 0, other = 0}
  for _, thread in ipairs(threads) do
    for key, _ in pairs(t) do t[key] = t[key] + thread:get(key) end
  end
  local e = summary.errors
  io.write(string.format(
    '%(mark)s{"requests":%%d,"duration_us":%%d,"p50_us":%%d,"p99_us":%%d,"max_us":%%d,'
    .. '"ok":%%d,"busy":%%d,"other":%%d,"connect_errors":%%d,"read_errors":%%d,'
    .. '"write_errors":%%d,"timeouts":%%d}\\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    latency.max, t.ok, t.busy, t.other, e.connect, e.read, e.write, e.timeout))
end
"""


@dataclass(frozen=True)
class Load:
    """What wrk sends: `batch` events per request to the classrooms of `tokens` in turn."""

    tokens: list[str]
    batch: int = 1
    students: int = 300
    connections: int = 16
    seconds: float = 20.0
    rate: float = 0.0  # requests/s offered on a schedule; 0: closed loop
    threads: int = 2


def script(load: Load, prefix: str) -> str:
    """The Lua script; event ids start with `prefix`, unique within a run."""
    return _SCRIPT % {
        "tokens": ", ".join(json.dumps(t) for t in load.tokens),
        "batch": load.batch,
        "students": load.students,
        "interval_ms": load.threads * 1000 / load.rate if load.rate > 0 else 0.0,
        "prefix": prefix,
        "stamp": datetime.now(UTC).isoformat(),
        "mark": _MARK,
    }


def run(url: str, load: Load, prefix: str | None = None) -> dict[str, Any]:
    """Run wrk against `url`'s ingest, once it is idle; its figures, with `prefix` (of every
    event id sent)."""
    binary = shutil.which("wrk")
    if binary is None:
        raise RuntimeError("wrk is not installed: `make wrk` installs Debian's")
    settle(url)
    prefix = prefix or f"wrk-{uuid.uuid4().hex[:8]}"
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "post.lua"
        path.write_text(script(load, prefix))
        command = [
            binary,
            f"-t{load.threads}",
            f"-c{load.connections}",
            f"-d{max(1, round(load.seconds))}s",
            "--timeout",
            "30s",
            "-s",
            str(path),
            f"{url}/api/v1/events",
        ]
        # wrk shares the two cores with the server: its own CPU says what the server had left.
        # (Children's CPU is counted when they are reaped: wrk is the only one ending here.)
        before, started = resource.getrusage(resource.RUSAGE_CHILDREN), time.monotonic()
        finished = subprocess.run(
            command, capture_output=True, text=True, timeout=load.seconds + 120
        )
        after, wall_s = resource.getrusage(resource.RUSAGE_CHILDREN), time.monotonic() - started
    line = next((x for x in finished.stdout.splitlines() if x.startswith(_MARK)), None)
    if line is None:
        raise RuntimeError(f"wrk printed no figures: {finished.stdout}{finished.stderr}")
    cpu_s = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return figures(json.loads(line[len(_MARK) :]), load, prefix, client_cores=cpu_s / wall_s)


def settle(url: str, timeout_s: float = 120.0, idle_reads: int = 3) -> None:
    """Wait until the ingest holds no request: wrk stops with its connections' requests in
    flight, and a run that starts while the last one's are still being answered measures
    both. Replicas share the port, so it takes `idle_reads` idle answers in a row."""
    deadline, idle = time.monotonic() + timeout_s, 0
    with httpx.Client(base_url=url, timeout=10) as client:
        while idle < idle_reads:
            if time.monotonic() > deadline:
                raise TimeoutError(f"the ingest at {url} stayed busy for {timeout_s:.0f} s")
            try:
                health = client.get("/healthz").json()
                busy = health["requests_in_flight"] + health["handoffs_in_flight"]
            except (httpx.HTTPError, ValueError, KeyError):
                busy = 1
            idle = idle + 1 if busy == 0 else 0
            time.sleep(0.05)  # a poll's pace; the condition is the idle answers


def figures(
    raw: dict[str, Any], load: Load, prefix: str, client_cores: float | None = None
) -> dict[str, Any]:
    """wrk's counts as rates and milliseconds; `client_cores`: wrk's own CPU over its run."""
    seconds = raw["duration_us"] / 1e6
    errors = sum(raw[k] for k in ("connect_errors", "read_errors", "write_errors", "timeouts"))
    return {
        "prefix": prefix,
        "seconds": round(seconds, 1),
        "connections": load.connections,
        "batch": load.batch,
        "requests": raw["requests"],
        "requests_per_s": round(raw["requests"] / seconds, 1),
        "accepted_per_s": round(raw["ok"] / seconds, 1),
        "events_per_s": round(raw["ok"] * load.batch / seconds, 1),
        "events_accepted": raw["ok"] * load.batch,
        "p50_ms": round(raw["p50_us"] / 1000, 1),
        "p99_ms": round(raw["p99_us"] / 1000, 1),
        "max_ms": round(raw["max_us"] / 1000, 1),
        "ok": raw["ok"],
        "busy": raw["busy"],
        "non_2xx": raw["busy"] + raw["other"] + errors,
        "transport_errors": errors,
        "client_cores": None if client_cores is None else round(client_cores, 2),
    }
