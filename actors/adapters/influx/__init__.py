"""InfluxDB: line protocol (pure), the buffered writer, queries, and the shard's metrics sink."""
