"""The Ray Serve application: event ingest and classroom read API."""
