"""One flat settings object for the server side, read from CELLMON_* environment variables."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from cellmon.limits import Limits


class Settings(BaseSettings):
    """Cell Monitor's cluster-side configuration; every field has an env var CELLMON_<NAME>."""

    model_config = SettingsConfigDict(env_prefix="CELLMON_", extra="ignore")

    state_dir: Path = Field(Path(".cellmon"), description="Run files: pid, addresses, logs")
    namespace: str = Field("cellmon", description="Ray namespace of the named actors")
    ray_port: int = Field(6385, description="GCS port of the head `cellmon up` starts")
    ray_address: str | None = Field(None, description="Attach to this cluster instead")
    num_cpus: int = Field(2, description="CPUs the local head advertises")
    http_host: str = Field("127.0.0.1", description="Where Serve listens")
    http_port: int = Field(8000, description="The ingest's public HTTP port")
    direct_ingress: bool = Field(
        True, description="The ingest replica serves http_port itself (see serve_tuning)"
    )
    proxy_port: int | None = Field(
        None, description="Serve's own HTTP proxy under direct ingress (default: any free)"
    )
    shards_min: int = Field(2, ge=1, description="Shard actors started with the directory")
    shards_max: int = Field(8, ge=1, description="Upper bound on shard actors")
    classrooms_per_shard: int = Field(4, ge=1, description="Placement target before a new shard")
    shard_busy_events_per_s: float = Field(
        2000, gt=0, description="A shard applying this many events/s takes no new classroom"
    )
    shard_busy_loop_lag_ms: float = Field(
        250, gt=0, description="Nor does one whose event loop runs this late"
    )
    shard_num_cpus: float = Field(
        0,
        ge=0,
        description="CPU a shard asks Ray for: 0 on one machine (shards share its cores with "
        "everything else); on a cluster with Ray's autoscaler, 0.25 (8 fill a 2-core node), so "
        "a node is added when new shards do not fit",
    )
    shard_memory_mb: int = Field(
        300, ge=0, description="Memory a shard asks Ray for (10,000 students take ~160 MB)"
    )
    shard_busy_for_s: float = Field(
        10, ge=0, description="A shard busy this long moves a classroom off (if it has two)"
    )
    shard_idle_stop_s: float = Field(
        300, ge=0, description="A shard without classrooms this long stops (down to shards_min)"
    )
    rebalance_interval_s: float = Field(
        5, ge=0, description="How often the directory checks shard load (0: never rebalance)"
    )
    retention_interval_s: float = Field(
        3600,
        ge=0,
        description="How often classrooms with a retention period are purged (0: never)",
    )
    ingest_replicas_min: int = Field(
        1,
        ge=1,
        description="Ingest replicas always running; with 2 or more they share the public port"
        " (SO_REUSEPORT), so a replica's crash refuses no connection",
    )
    ingest_replicas_max: int = Field(2, ge=1, description="Autoscaling bound of the ingest")
    ingest_upscale_delay_s: float = Field(
        30, ge=0, description="Requests above the target this long add an ingest replica"
    )
    ingest_downscale_delay_s: float = Field(
        600, ge=0, description="Requests below the target this long remove one"
    )
    queue_limit_s: float = Field(
        1.0,
        gt=0,
        description="Cell runs that would wait longer than this, for their classroom's shard or"
        " in a crowded ingest replica, are refused (503) until the queue moves; a raised hand"
        " is always taken, ahead of them",
    )
    ingest_in_flight_max: int = Field(
        2_000, ge=1, description="Requests an ingest replica holds before answering 503"
    )
    max_batch: int = Field(500, ge=1, description="Events per request before 413")
    max_body_bytes: int = Field(4 * 1024 * 1024, ge=1024, description="Body size before 413")
    max_code_chars: int = Field(64_000, ge=100, description="Longer code is truncated, flagged")
    max_event_age_days: float = Field(
        30, gt=0, description="Refuse events whose time is this long before receipt"
    )
    max_event_ahead_hours: float = Field(
        24, gt=0, description="Refuse events whose time is this long after receipt"
    )
    students_per_classroom: int = Field(2_000, ge=1, description="New students past it refused")
    cells_per_student: int = Field(2_000, ge=1, description="Runs of new cells past it refused")
    notebooks_per_student: int = Field(100, ge=1, description="New notebooks past it refused")
    help_history: int = Field(20, ge=1, description="Help requests kept per student")
    store_url: str = Field(
        "postgresql://postgres@127.0.0.1:5432/cellmon",
        description="Event log, checkpoints and registry (memory:// keeps nothing)",
    )
    influx_url: str | None = Field(
        "http://127.0.0.1:8086/cellmon",
        description="InfluxDB (v1 /write API) as http://host:port/database; empty turns it off",
    )
    alerts_url: str = Field(
        "redis://127.0.0.1:6379/0", description="Where help alerts are published (memory://)"
    )
    checkpoint_interval_s: float = Field(5.0, gt=0, description="How often shards checkpoint")
    idle_unload_s: float = Field(1800.0, ge=0, description="Unload classrooms quiet this long")
    significant_errors: int = Field(3, ge=1, description="Default consecutive-error threshold")
    token_cache_s: float = Field(
        30.0,
        gt=0,
        description="How long an ingest replica trusts a token's answer: a revoked or rotated "
        "token, or a classroom's new token rule, takes effect everywhere within this time",
    )

    dashboard_session_hours: float = Field(
        12.0,
        gt=0,
        le=24 * 30,
        description="How long a dashboard sign-in lasts (a school day by default); signing "
        "out ends it at once",
    )

    def limits(self) -> Limits:
        """The bounds these settings set (the rest keep `Limits`' defaults)."""
        return Limits(
            max_batch=self.max_batch,
            max_body_bytes=self.max_body_bytes,
            max_code_chars=self.max_code_chars,
            max_event_age=timedelta(days=self.max_event_age_days),
            max_event_ahead=timedelta(hours=self.max_event_ahead_hours),
            students_per_classroom=self.students_per_classroom,
            cells_per_student=self.cells_per_student,
            notebooks_per_student=self.notebooks_per_student,
            help_history=self.help_history,
        )
