"""The Ray Serve application: event ingest and classroom read API."""

# Before anything here imports Ray: our runtime makes token auth Ray's default (importing
# `serve_app.app` first, as tests/cluster/test_ingest_scaling.py does, was refused by its head).
import actors.runtime  # noqa: F401
