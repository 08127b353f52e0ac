"""Cell Monitor's student-side Jupyter extension: discovery hooks only."""

from __future__ import annotations

from typing import Any


def _jupyter_server_extension_points() -> list[dict[str, Any]]:
    """Where jupyter-server finds the extension app."""
    from jupyter_ext.app import CellMonitorApp

    return [{"module": "jupyter_ext", "app": CellMonitorApp}]


def _jupyter_labextension_paths() -> list[dict[str, str]]:
    """Where JupyterLab finds the built frontend."""
    return [{"src": "labextension", "dest": "cell-monitor"}]
