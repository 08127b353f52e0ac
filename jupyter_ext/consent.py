"""The classroom's research consent question as this student's server knows it: pure, no I/O.

The server says in each answer whether the classroom asks and what the student answered; an
answer given here and not yet acknowledged wins over what the server said, as a hand change
does (`jupyter_ext.hand`). The JupyterLab asks while the classroom asks and no answer is known.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any


@dataclass(frozen=True)
class Consent:
    required: bool = False  # the classroom asks its students
    research: bool | None = None  # the student's answer (None: none known)
    unanswered: str | None = None  # the event id of an answer on its way, until acknowledged

    def answered_here(self, research: bool, event_id: str) -> Consent:
        """The student answered in JupyterLab."""
        return replace(self, research=research, unanswered=event_id)

    def heard(self, required: bool, research: bool | None, sent_ids: list[str]) -> Consent:
        """The server's word after the batch `sent_ids`."""
        unanswered = None if self.unanswered in sent_ids else self.unanswered
        if unanswered is not None:  # our answer is still on its way: keep it
            return replace(self, required=required)
        return Consent(required, research, None)

    def dump(self) -> dict[str, Any]:
        """What survives a restart of Jupyter."""
        return {"required": self.required, "research": self.research, "unanswered": self.unanswered}

    @classmethod
    def load(cls, saved: Any) -> Consent:
        """The saved state, or nothing known for anything unexpected."""
        if not isinstance(saved, dict) or type(saved.get("required")) is not bool:
            return cls()
        research, unanswered = saved.get("research"), saved.get("unanswered")
        return cls(
            saved["required"],
            research if type(research) is bool else None,
            unanswered if isinstance(unanswered, str) else None,
        )
