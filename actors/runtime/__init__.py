"""The Ray runtime: shard and directory actors, and the one typed client every Ray call goes
through."""
