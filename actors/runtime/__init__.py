"""The Ray runtime: shard and directory actors, and the one typed client every Ray call goes
through."""

import os

# Ray reads its auth mode when it is imported, and every module here imports Ray: token auth
# must be the default before that, or a driver that imported Ray through us (a command, the
# research client) is refused by our head however `attach` sets it later.
os.environ.setdefault("RAY_AUTH_MODE", "token")
