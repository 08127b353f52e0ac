"""The layering a newcomer relies on: the bottom imports without the cluster's packages, and
every Ray call goes through the runtime (the import contracts themselves: `lint-imports`)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit
ROOT = Path(__file__).resolve().parents[2]
UNAVAILABLE = ("ray", "asyncpg", "redis", "streamlit", "fastapi", "influxdb_client")

IMPORT_BOTTOM = f"""
import importlib, pkgutil, sys

class Refuse:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in {UNAVAILABLE!r}:
            raise ImportError(f"{{name}} is not installed here")

sys.meta_path.insert(0, Refuse())
import cellmon
names = [m.name for m in pkgutil.walk_packages(cellmon.__path__, "cellmon.")]
for name in names:
    importlib.import_module(name)
print(len(names))
"""


def test_the_bottom_layer_imports_without_the_cluster_packages() -> None:
    done = subprocess.run(
        [sys.executable, "-c", IMPORT_BOTTOM], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert int(done.stdout.split()[-1]) >= 10  # every module of the package was imported


def test_every_ray_call_goes_through_the_runtime() -> None:
    tracked = subprocess.run(
        ["git", "ls-files", "*.py"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    calls = re.compile(r"\.remote\(|\bray\.(get|wait|kill|get_actor)\(")
    outside = [
        f"{path}:{n}"
        for path in tracked
        if not path.startswith("actors/runtime/")
        for n, line in enumerate((ROOT / path).read_text().splitlines(), 1)
        if calls.search(line)
    ]
    assert outside == []
