-- Dashboard sign-ins that survive a reload: the browser keeps a random token in a cookie, the
-- server keeps only its digest. Signing out ends the session for every tab of that browser.
CREATE TABLE instructor_sessions (
    token_digest text        PRIMARY KEY,
    email        text        NOT NULL REFERENCES instructors (email) ON DELETE CASCADE,
    created_at   timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz NOT NULL,
    ended_at     timestamptz
);
CREATE INDEX instructor_sessions_expiry ON instructor_sessions (expires_at);
