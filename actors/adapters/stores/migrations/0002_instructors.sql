-- Instructor accounts for the dashboard (argon2 password hashes, never passwords) and which
-- classrooms each may see.
CREATE TABLE instructors (
    email         text        PRIMARY KEY,
    name          text        NOT NULL,
    password_hash text        NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE classroom_instructors (
    classroom_id text NOT NULL REFERENCES classrooms (classroom_id),
    email        text NOT NULL REFERENCES instructors (email),
    PRIMARY KEY (classroom_id, email)
);
