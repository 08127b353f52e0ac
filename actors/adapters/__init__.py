"""Adapters to the outside world, each chosen by URL with a memory:// twin: the event store,
instructor accounts, InfluxDB and the alert publisher."""
