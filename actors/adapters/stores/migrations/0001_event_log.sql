-- The event log: every event a student's Jupyter sent and the server acknowledged.
-- Append-only; (classroom_id, event_id) is unique so re-sent events are stored once.
CREATE TABLE events (
    seq          bigserial   PRIMARY KEY,
    classroom_id text        NOT NULL,
    event_id     text        NOT NULL,
    student_id   text        NOT NULL,
    type         text        NOT NULL,
    time         timestamptz NOT NULL,
    received_at  timestamptz NOT NULL,
    payload      jsonb       NOT NULL,
    UNIQUE (classroom_id, event_id)
);
CREATE INDEX events_by_classroom ON events (classroom_id, seq);

-- Classroom snapshots; `covered_seq` is the last log entry the snapshot includes.
CREATE TABLE checkpoints (
    classroom_id text        PRIMARY KEY,
    covered_seq  bigint      NOT NULL,
    state        jsonb       NOT NULL,
    updated_at   timestamptz NOT NULL DEFAULT now()
);

-- The directory's registry: classrooms, their shard, and token digests (never tokens).
CREATE TABLE classrooms (
    classroom_id text        PRIMARY KEY,
    name         text        NOT NULL,
    shard        integer     NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE tokens (
    token_hash   text        PRIMARY KEY,
    classroom_id text        NOT NULL REFERENCES classrooms (classroom_id),
    role         text        NOT NULL CHECK (role IN ('ingest', 'instructor')),
    created_at   timestamptz NOT NULL DEFAULT now()
);
