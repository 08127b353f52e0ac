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
    deploy = next(line for line in config["head_start_ray_commands"] if "cellmon deploy" in line)
    assert "CELLMON_SHARD_NUM_CPUS=0.25" in deploy  # shards the autoscaler can see


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


# The RayService fields (KubeRay's ray.io/v1 CRD) this project relies on, with the types the
# CRD gives them; `additionalProperties: false` where we list every field we set, so a
# misspelt one fails here rather than being dropped by the API server.
_START_PARAMS = {"type": "object", "additionalProperties": {"type": "string"}}
_POD = {
    "type": "object",
    "required": ["spec"],
    "properties": {
        "spec": {
            "type": "object",
            "required": ["containers"],
            "properties": {
                "containers": {
                    "type": "array",
                    "minItems": 1,
                    "items": {"type": "object", "required": ["name", "image"]},
                },
                "initContainers": {"type": "array", "items": {"type": "object"}},
            },
        }
    },
}
_RAY_SERVICE = {
    "type": "object",
    "required": ["apiVersion", "kind", "metadata", "spec"],
    "properties": {
        "apiVersion": {"const": "ray.io/v1"},
        "kind": {"const": "RayService"},
        "metadata": {"type": "object", "required": ["name"]},
        "spec": {
            "type": "object",
            "required": ["serveConfigV2", "rayClusterConfig"],
            "additionalProperties": False,
            "properties": {
                "serveConfigV2": {"type": "string"},
                "rayClusterConfig": {
                    "type": "object",
                    "required": ["headGroupSpec"],
                    "additionalProperties": False,
                    "properties": {
                        "rayVersion": {"type": "string"},
                        "enableInTreeAutoscaling": {"type": "boolean"},
                        "headGroupSpec": {
                            "type": "object",
                            "required": ["template"],
                            "additionalProperties": False,
                            "properties": {"rayStartParams": _START_PARAMS, "template": _POD},
                        },
                        "workerGroupSpecs": {
                            "type": "array",
                            "items": {
                                "type": "object",
                                "required": ["groupName", "template"],
                                "additionalProperties": False,
                                "properties": {
                                    "groupName": {"type": "string"},
                                    "replicas": {"type": "integer", "minimum": 0},
                                    "minReplicas": {"type": "integer", "minimum": 0},
                                    "maxReplicas": {"type": "integer", "minimum": 0},
                                    "rayStartParams": _START_PARAMS,
                                    "template": _POD,
                                },
                            },
                        },
                    },
                },
            },
        },
    },
}


def test_kuberay_service_runs_the_same_app_and_can_grow_for_shards() -> None:
    import importlib

    from cellmon.settings import Settings
    from cellmon_cli.serve_tuning import serve_environment
    from serve_app.app import AppArgs
    from serve_app.ingest import PUBLIC_APP

    service = yaml.safe_load((ROOT / "deploy" / "kuberay.yaml").read_text())
    jsonschema.validate(service, _RAY_SERVICE)
    cluster = service["spec"]["rayClusterConfig"]
    import ray

    assert cluster["rayVersion"] == ray.__version__
    [app] = yaml.safe_load(service["spec"]["serveConfigV2"])["applications"]
    module, _, name = app["import_path"].partition(":")
    assert callable(getattr(importlib.import_module(module), name))
    AppArgs.model_validate(app["args"])  # the builder's typed arguments
    assert app["name"] == PUBLIC_APP  # its replicas share the public port

    groups = [cluster["headGroupSpec"], *cluster["workerGroupSpecs"]]
    containers = [c for g in groups for c in g["template"]["spec"]["containers"]]
    containers += cluster["headGroupSpec"]["template"]["spec"]["initContainers"]
    tuning = serve_environment(Settings(http_port=8000))
    for container in containers:
        env = {e["name"]: e.get("value") for e in container["env"]}
        assert {k: env.get(k) for k in tuning} == tuning, container["name"]
        assert "CELLMON_STORE_URL" in env and container["image"] == containers[0]["image"]
    assert cluster["headGroupSpec"]["template"]["spec"]["initContainers"][0]["command"] == [
        "cellmon",
        "db",
        "upgrade",
    ]
    # Shards ask for CPU, so the autoscaler sees them, and it can add room for all of them.
    env = {e["name"]: e.get("value") for e in containers[0]["env"]}
    shard_cpus = Settings(shard_num_cpus=env["CELLMON_SHARD_NUM_CPUS"]).shard_num_cpus
    cpus = sum(float(g["rayStartParams"]["num-cpus"]) * g.get("maxReplicas", 1) for g in groups)
    assert cluster["enableInTreeAutoscaling"] is True and shard_cpus > 0
    assert cpus >= Settings().shards_max * shard_cpus + 2


def test_the_image_holds_every_package_the_wheel_ships() -> None:
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    packages = project["tool"]["hatch"]["build"]["targets"]["wheel"]["packages"]
    dockerfile = (ROOT / "Dockerfile").read_text()
    for package in packages:
        assert f"COPY {package} {package}" in dockerfile, package
