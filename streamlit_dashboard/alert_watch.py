"""One dashboard tab's view of the help alerts: which are new, and when to redraw and beep.

Pure logic, no Streamlit: the page's alert poll feeds it new alerts and the clock, and does
what it answers. A raised hand is named (a toast) by the tick that finds it, and the page
redraws around it on a later tick (the live panel itself only refreshes every 2 s), whose run
beeps and names it again; a burst of hands redraws a 1,000-student page at most once a
`MIN_REDRAW_GAP_S` and shares one beep.

Why two ticks: a toast is a few hundred bytes where the redraw of a large class is not (in
every open tab at once), so the name goes first; with hands every second or so, a name that
waited for the redraw gap reached the screen about a second late. Why not in one run: in
Chromium, a toast drawn by the run that then asks for the rerun was sometimes never shown, and
a whole-page rerun removes the toasts of earlier runs (Streamlit 1.67), hence the second toast
from the redraw's own run.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from streamlit_dashboard import display

BEEP_MOUNTED_S = 1.2  # long enough for the 0.3 s tone to start and finish before unmounting
MIN_REDRAW_GAP_S = 1.0


@dataclass
class AlertWatch:
    """Per tab and classroom; lives in st.session_state."""

    cursor: int  # the newest alert id seen; older alerts never beep
    unshown: list[str] = field(default_factory=list)  # named, not yet in a redrawn page
    announcing: list[str] = field(default_factory=list)  # what the redraw's run names again
    beep_until: float | None = 0.0  # None: a beep is due on the next run
    redrawn_at: float = float("-inf")

    @classmethod
    def starting_after(cls, alerts: list[dict[str, Any]]) -> AlertWatch:
        """A tab that just opened: what is already in the feed is old news."""
        return cls(cursor=max((a["id"] for a in alerts), default=0))

    def take(self, alerts: list[dict[str, Any]], now: float) -> tuple[list[str], bool]:
        """Record new alerts: (raised hands to name now, whether the page redraws now), never
        both. New hands after a quiet spell are named now and redrawn on a later tick; when
        named hands already wait and the gap allows, the page redraws, new hands with them (a
        lecture may bring one every tick), and the redraw's run names them all."""
        named = [display.name(a) for a in alerts if a.get("kind") == "help_raised"]
        if alerts:
            self.cursor = max(self.cursor, *(a["id"] for a in alerts))
        waited = bool(self.unshown)
        self.unshown += named
        if not waited or now - self.redrawn_at < MIN_REDRAW_GAP_S:
            return named, False
        self.redrawn_at = now
        self.announcing, self.unshown = self.unshown, []
        self.beep_until = None
        return [], True

    def beep(self, now: float) -> tuple[bool, list[str]]:
        """(keep the beep mounted?, names to toast again) for this run."""
        if self.beep_until is None:  # the clock starts when the beep first mounts
            self.beep_until = now + BEEP_MOUNTED_S
            names, self.announcing = self.announcing, []
            return True, names
        return now < self.beep_until, []
