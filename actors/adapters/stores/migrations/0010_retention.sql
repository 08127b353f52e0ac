-- How long a classroom's events are kept (by when the server received them); NULL: for good.
-- Older events, the state they built and their InfluxDB points are purged on a schedule.
ALTER TABLE classrooms ADD COLUMN retention_days integer CHECK (retention_days > 0);
