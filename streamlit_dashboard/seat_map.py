"""The seat map: the room picture with each team's marker in its worst status colour, on the
overview; uploading the picture and placing the teams, in Settings.

Placing, in Settings: drag a placed team's marker to move it, or pick a team and click its
place on the picture. Both come from `room_click/`, a small component of our own (Streamlit
has no drag and drop). The maintained click component, streamlit-image-coordinates 0.4, reads
its image element from a script that can run before the page body exists: under load its
picture stayed hidden in about one browser-test run in five, and it cannot drag.
"""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import streamlit as st
import streamlit.components.v1 as components

from actors.adapters.seat_maps import SeatMap
from cellmon.views import StudentRow, TeamRow
from streamlit_dashboard import data, display, ui
from streamlit_dashboard.seat_picture import (
    MAX_UPLOAD_BYTES,
    Marker,
    PictureRefused,
    marked,
    prepare,
    worst_status,
)

LAST_CLICK = "seat_last_click"  # the component repeats its last click on every rerun
_room_click = components.declare_component(
    "room_click", path=str(Path(__file__).parent / "room_click")
)


def markers(seat: SeatMap, teams: list[TeamRow], students: dict[str, StudentRow]) -> list[Marker]:
    """A marker for each placed team: its worst status and the names of who is asking."""
    found = []
    for team in teams:
        place = seat.places.get(team["team"])
        if place is None:
            continue
        asking = tuple(
            display.name(students[m])
            for m in team["members"]
            if m in students and students[m]["status"] == "help"
        )
        status = worst_status(team["by_status"])
        found.append(Marker(display.team(team), place[0], place[1], status, asking))
    return found


@st.cache_data(max_entries=20, show_spinner=False)
def _drawn(picture: bytes, shown: tuple[Marker, ...]) -> bytes:
    # The same markers give the same bytes, so Streamlit serves the same media URL and the
    # browser does not fetch the picture again on every 2 s refresh.
    return marked(picture, list(shown))


def room_view(seat: SeatMap, teams: list[TeamRow], students: dict[str, StudentRow]) -> None:
    """The room picture with the markers, then who is asking, by team, as text."""
    shown = markers(seat, teams, students)
    st.markdown(ui.legend(), unsafe_allow_html=True)
    st.image(_drawn(seat.picture, tuple(shown)), width="stretch")
    asking = [
        f"**{display.md(m.team)}**: {', '.join(display.md(n) for n in m.asking)}"
        for m in shown
        if m.asking
    ]
    if asking:
        st.markdown("🙋 " + " · ".join(asking))
    unplaced = len([t for t in teams if t["team"] not in seat.places])
    if unplaced:
        st.caption(f"{unplaced:,} team(s) not placed yet: Settings → Seat map.")


def settings_section(cid: str, teams: list[TeamRow]) -> None:
    """Upload or replace the picture, place teams (drag a marker, or pick and click), or remove
    the map."""
    st.subheader("Seat map")
    st.caption(
        "A picture of the room (PNG or JPEG, up to "
        f"{MAX_UPLOAD_BYTES // 2**20} MB). The overview then shows each team where it sits, "
        "in its most urgent status colour. Without a picture it shows team cards."
    )
    upload = st.file_uploader(
        "Room picture", type=["png", "jpg", "jpeg"], key="seat_upload", max_upload_size=8
    )
    if upload is not None and st.button("Use this picture", key="seat_save", type="primary"):
        _save(cid, upload.getvalue())
    seat = data.seat_map(cid)
    if seat is None:
        return
    names = [t["team"] for t in teams] or ["(no teams yet)"]
    team = st.selectbox("Team to place", names, key="seat_team", disabled=not teams)
    st.caption("Drag a team's marker to move it, or pick a team and click where it sits.")
    src = "data:image/png;base64," + base64.b64encode(seat.picture).decode()
    click = _room_click(src=src, markers=_placed(seat), key="seat_click", default=None)
    if click and _new(click):
        chosen = click.get("team") or (team if teams else None)  # dragged, or picked + clicked
        if chosen in seat.places or chosen in {t["team"] for t in teams}:  # this class's teams
            data.place_team(cid, chosen, float(click["x"]), float(click["y"]))
            st.rerun()
    placed = ", ".join(display.md(t) for t in sorted(seat.places)) or "none yet"
    st.caption(f"Placed: {placed}")
    st.button(
        "Remove the picture",
        key="seat_remove",
        on_click=data.remove_seat_map,
        args=(cid,),
        help="The overview shows the team cards again; the places are forgotten.",
    )


def _save(cid: str, upload: bytes) -> None:
    try:
        picture = prepare(upload)
    except PictureRefused as refused:
        st.error(f"Not saved: {refused}.")
        return
    data.save_seat_picture(cid, picture)
    st.success("Saved. Now place the teams on it.")


def _placed(seat: SeatMap) -> list[dict[str, Any]]:
    """The placed teams' markers for the placing view: the team, its label and its place."""
    return [
        {"team": team, "label": display.team({"team": team}), "x": x, "y": y}
        for team, (x, y) in sorted(seat.places.items())
    ]


def _new(click: dict[str, Any] | None) -> bool:
    """A click not handled yet (the component returns the last one on every rerun)."""
    if not click:
        return False
    stamp = click.get("at")
    if stamp == st.session_state.get(LAST_CLICK):
        return False
    st.session_state[LAST_CLICK] = stamp
    return True
