"""The research client: live state and history of a study's classrooms, under pseudonyms,
from a notebook or script attached to the running cluster.

    import cellmon_research as research
    r = research.connect()          # token: CELLMON_RESEARCH_TOKEN; cluster: .cellmon/cluster.json
    r.classrooms()                  # DataFrame: classroom_id, name, shard, students, events
    live = r.live("ds101")          # .students, .cells, .help, .errors, .activity DataFrames
    everyone = r.live_all()         # every classroom of the study, read in parallel
    ds = r.history("ds101")         # ray.data.Dataset of the logged events, read on the cluster
"""

from cellmon_research.client import Live, NotAllowed, Research, connect

__all__ = ["Live", "NotAllowed", "Research", "connect"]
