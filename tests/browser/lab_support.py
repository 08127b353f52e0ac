"""JupyterLab for the browser tests: this checkout's frontend, and a notebook to open."""

from __future__ import annotations

import json
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
BUILT = REPO / "jupyter_ext" / "labextension"


def lab_args(tmp_path: Path) -> list[str]:
    """Serve the frontend built in this checkout (an installed wheel ships it already)."""
    if not (BUILT / "package.json").exists():
        return []
    extensions = tmp_path / "labextensions"
    extensions.mkdir()
    (extensions / "cell-monitor").symlink_to(BUILT)
    return [f"--LabServerApp.extra_labextensions_path={extensions}"]


def notebook_dir(tmp_path: Path, name: str, sources: list[str]) -> Path:
    """A folder holding one notebook of code cells (ids cell-1, cell-2, ...), not yet run."""
    root = tmp_path / "notebooks"
    root.mkdir()
    cells = [
        {
            "cell_type": "code",
            "id": f"cell-{n}",
            "metadata": {},
            "outputs": [],
            "execution_count": None,
            "source": source,
        }
        for n, source in enumerate(sources, 1)
    ]
    notebook = {
        "cells": cells,
        "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3"}},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    (root / name).write_text(json.dumps(notebook))
    return root
