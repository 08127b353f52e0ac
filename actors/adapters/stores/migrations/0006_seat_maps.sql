-- A picture of the room per classroom, and where each team sits on it (fractions of the
-- picture's width and height, so a re-scaled picture keeps the places).
CREATE TABLE seat_maps (
    classroom_id text        PRIMARY KEY,
    picture      bytea       NOT NULL,
    mime         text        NOT NULL,
    updated_at   timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE seat_positions (
    classroom_id text NOT NULL,
    team         text NOT NULL,
    x            real NOT NULL CHECK (x >= 0 AND x <= 1),
    y            real NOT NULL CHECK (y >= 0 AND y <= 1),
    PRIMARY KEY (classroom_id, team)
);
