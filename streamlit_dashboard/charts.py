"""Altair charts: per-cell progress heat map, class activity, one student's run timeline."""

from __future__ import annotations

from typing import Any

import altair as alt
import pandas as pd  # type: ignore[import-untyped]

from cellmon.views import CellRow, RunRecord
from streamlit_dashboard import display
from streamlit_dashboard.backend import STATUS_COLORS

PROGRESS = {"Succeeded": STATUS_COLORS["active"], "Failing now": STATUS_COLORS["significant_error"]}
PROGRESS["Not there yet"] = "#e6e8eb"
SERIES = {"executions": "#4c78a8", "errors": STATUS_COLORS["significant_error"]}
SERIES["help"] = STATUS_COLORS["help"]


def times(values: Any) -> Any:
    """ISO timestamps as UTC datetimes, with or without fractions; unreadable ones left out."""
    return pd.to_datetime(values, utc=True, errors="coerce", format="ISO8601")


def cell_labels(cells: list[CellRow]) -> list[str]:
    """One distinct label per cell, in the given order: "Cell 3", by cell id when JupyterLab
    sent no index, and prefixed by the notebook when the class works in several."""
    several = len({c.get("notebook_path") for c in cells}) > 1
    labels: list[str] = []
    taken: set[str] = set()
    for c in cells:
        n = display.cell_number(c.get("cell_index"))
        label = f"Cell {n}" if n != display.BLANK else f"Cell {display.clean(c['cell_id'])[:12]}"
        if several:
            label = f"{display.text(c.get('notebook_path'))[-40:]} · {label}"
        unique, k = label, 1
        while unique in taken:  # two cells without an index whose ids start alike
            k += 1
            unique = f"{label} ({k})"
        taken.add(unique)
        labels.append(unique)
    return labels


def cell_heatmap(cells: list[CellRow], students: int) -> alt.Chart:
    """Rows are cells in notebook order; colour is the share of the class in each state."""
    order = cell_labels(cells)
    rows = []
    for label, c in zip(order, cells, strict=True):
        ok, bad = c["students_succeeded"], c["students_failing"]
        rest = max(0, students - ok - bad)
        for state, n in (("Succeeded", ok), ("Failing now", bad), ("Not there yet", rest)):
            rows.append({"cell": label, "state": state, "n": n})
    df = pd.DataFrame(rows, columns=["cell", "state", "n"])
    chart: alt.Chart = (
        alt.Chart(df)
        .mark_bar()
        .encode(
            y=alt.Y(
                "cell:N",
                sort=order,
                title=None,
                scale=alt.Scale(paddingInner=0.15),
                axis=alt.Axis(labelFontSize=14, labelOverlap=False, labelLimit=360),
            ),
            x=alt.X("n:Q", stack="normalize", title="share of class", axis=alt.Axis(format="%")),
            color=alt.Color(
                "state:N",
                scale=alt.Scale(domain=list(PROGRESS), range=list(PROGRESS.values())),
                legend=alt.Legend(orient="top", title=None, labelFontSize=13),
            ),
            order=alt.Order("state_order:Q"),
            tooltip=["cell", "state", "n"],
        )
        .transform_calculate(
            state_order="indexof(['Succeeded', 'Failing now', 'Not there yet'], datum.state)"
        )
        .properties(height=alt.Step(30))
    )
    return chart


def activity_chart(buckets: list[dict[str, Any]], window: str = "1h") -> alt.VConcatChart:
    """Executions on top, errors and help requests below, over one time axis."""
    fmt = "%a %H:%M" if window == "7d" else "%H:%M"
    x = alt.X("time:T", title=None, axis=alt.Axis(format=fmt, labelFontSize=12))
    df = pd.DataFrame(buckets or [{"time": None, "executions": 0, "errors": 0, "help": 0}])
    df["time"] = times(df["time"])
    base = alt.Chart(df).encode(x=x)
    runs = base.mark_area(color=SERIES["executions"], opacity=0.75, line=True).encode(
        y=alt.Y("executions:Q", title="executions", axis=alt.Axis(format="d", tickMinStep=1)),
        tooltip=[alt.Tooltip("time:T", format="%H:%M"), "executions:Q"],
    )
    long = df.melt("time", ["errors", "help"], var_name="series", value_name="count")
    trouble = (
        alt.Chart(long)
        .mark_line(point=True, strokeWidth=2.5)
        .encode(
            x=x,
            # Whole counts, and a visible axis even when nothing went wrong yet.
            y=alt.Y(
                "count:Q",
                title="errors / help",
                axis=alt.Axis(format="d", tickMinStep=1),
                scale=alt.Scale(domainMin=0, nice=True, zero=True),
            ),
            color=alt.Color(
                "series:N",
                scale=alt.Scale(
                    domain=["errors", "help"], range=[SERIES["errors"], SERIES["help"]]
                ),
                legend=alt.Legend(orient="top", title=None),
            ),
            tooltip=[alt.Tooltip("time:T", format="%H:%M"), "series:N", "count:Q"],
        )
    )
    both: alt.VConcatChart = alt.vconcat(
        runs.properties(height=170), trouble.properties(height=120)
    ).resolve_scale(x="shared")
    return both


def timeline_chart(runs: list[RunRecord]) -> alt.Chart:
    """Each recent run as a dot: time across, cell up, coloured ok / error."""
    runs = runs or [{"time": None, "cell_index": 0, "status": "ok", "error_name": None}]
    df = pd.DataFrame(
        {
            "time": times([r.get("time") for r in runs]),
            "cell": pd.array([display.cell_position(r.get("cell_index")) for r in runs], "Int64"),
            "status": [display.clean(r.get("status")) for r in runs],
            "error_name": [display.clean(r.get("error_name")) for r in runs],
        }
    )
    colors = alt.Scale(
        domain=["ok", "error"], range=[STATUS_COLORS["active"], STATUS_COLORS["help"]]
    )
    dots: alt.Chart = (
        alt.Chart(df)
        .mark_circle(size=160, opacity=0.9)
        .encode(
            x=alt.X("time:T", title=None, axis=alt.Axis(format="%H:%M")),
            y=alt.Y(
                "cell:Q",
                title="cell",
                scale=alt.Scale(zero=False),
                axis=alt.Axis(format="d", tickMinStep=1),
            ),
            color=alt.Color("status:N", scale=colors, legend=alt.Legend(orient="top", title=None)),
            tooltip=[alt.Tooltip("time:T", format="%H:%M:%S"), "cell", "status", "error_name"],
        )
        .properties(height=220)
    )
    return dots
