"""One dashboard tab's view of the help alerts: which are new, and when to redraw and beep.

Pure logic, no Streamlit: the page's alert poll feeds it new alerts and the clock, and does
what it answers. Every raised hand is named at the tick that finds it (a toast, cheap), and
redraws the whole page (the live panel itself only refreshes every 2 s), whose run beeps; a burst
of hands redraws a 1,000-student page at most once a `MIN_REDRAW_GAP_S` and shares one beep.
The gap holds back only the redraw: with a hand every second or so (a lecture of hundreds), a
name that waited for it reached the screen about a second late.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from streamlit_dashboard import display

BEEP_MOUNTED_S = 1.2  # long enough for the 0.3 s tone to start and finish before unmounting
MIN_REDRAW_GAP_S = 1.0


@dataclass
class AlertWatch:
    """Per tab and classroom; lives in st.session_state."""

    cursor: int  # the newest alert id seen; older alerts never beep
    redraw_due: bool = False  # hands named that the page does not show yet
    beep_until: float | None = 0.0  # None: a beep is due on the next run
    redrawn_at: float = float("-inf")

    @classmethod
    def starting_after(cls, alerts: list[dict[str, Any]]) -> AlertWatch:
        """A tab that just opened: what is already in the feed is old news."""
        return cls(cursor=max((a["id"] for a in alerts), default=0))

    def take(self, alerts: list[dict[str, Any]], now: float) -> tuple[list[str], bool]:
        """Record new alerts: (the raised hands to name now, whether the page redraws now)."""
        named = [display.name(a) for a in alerts if a.get("kind") == "help_raised"]
        if alerts:
            self.cursor = max(self.cursor, *(a["id"] for a in alerts))
        self.redraw_due = self.redraw_due or bool(named)
        if not self.redraw_due or now - self.redrawn_at < MIN_REDRAW_GAP_S:
            return named, False
        self.redrawn_at, self.redraw_due = now, False
        self.beep_until = None
        return named, True

    def beep(self, now: float) -> bool:
        """Whether the beep is mounted on this run (kept mounted, unchanged, so it plays once)."""
        if self.beep_until is None:  # the clock starts when the beep first mounts
            self.beep_until = now + BEEP_MOUNTED_S
            return True
        return now < self.beep_until
