"""ray_cluster.yaml and docker-compose.yml: checked here, since no cloud or Docker engine is."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
import yaml

pytestmark = pytest.mark.unit
ROOT = Path(__file__).resolve().parents[2]


def test_ray_cluster_yaml_matches_the_schema_shipped_with_ray() -> None:
    import ray.autoscaler

    schema_path = Path(ray.autoscaler.__file__).with_name("ray-schema.json")
    config = yaml.safe_load((ROOT / "ray_cluster.yaml").read_text())
    jsonschema.validate(config, json.loads(schema_path.read_text()))
    assert config["available_node_types"]["worker"]["max_workers"] >= 1  # autoscaling workers
    assert any("cellmon deploy" in line for line in config["head_start_ray_commands"])


def test_compose_file_builds_cellmon_and_publishes_only_on_loopback() -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    service = compose["services"]["cellmon"]
    assert service["build"] == "."
    assert (ROOT / "Dockerfile").exists()
    assert all(port.startswith("127.0.0.1:") for port in service["ports"])
    assert "healthz" in " ".join(service["healthcheck"]["test"])
    # The actors' stores are services of the same file, reached by service name.
    for store in ("postgres", "redis", "influxdb"):
        assert store in compose["services"] and store in service["depends_on"]
        assert "ports" not in compose["services"][store]  # not published at all
    assert "@postgres:5432/" in service["environment"]["CELLMON_STORE_URL"]


def test_compose_stores_take_passwords_from_the_environment() -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services, env = compose["services"], compose["services"]["cellmon"]["environment"]
    assert "POSTGRES_HOST_AUTH_METHOD" not in services["postgres"]["environment"]  # no trust
    assert services["postgres"]["environment"]["POSTGRES_PASSWORD"].startswith(
        "${POSTGRES_PASSWORD:?"
    )
    assert "${REDIS_PASSWORD:?" in " ".join(services["redis"]["command"])
    assert services["influxdb"]["environment"]["INFLUXDB_HTTP_AUTH_ENABLED"] == "true"
    assert env["CELLMON_STORE_URL"].startswith("postgresql://postgres:${POSTGRES_PASSWORD}@")
    assert env["CELLMON_ALERTS_URL"].startswith("redis://:${REDIS_PASSWORD}@")
    assert ":${INFLUXDB_ADMIN_PASSWORD}@" in env["CELLMON_INFLUX_URL"]
