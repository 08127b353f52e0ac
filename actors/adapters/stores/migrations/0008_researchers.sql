-- Researchers: their own credential (a token's digest, never the token), the classrooms of
-- their study, and the study's pseudonym key (an HMAC key: the same student is the same
-- pseudonym in every read of the study, and another in any other study).
CREATE TABLE researchers (
    name         text        PRIMARY KEY,
    token_digest text        NOT NULL UNIQUE,
    study_key    bytea       NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE researcher_classrooms (
    name         text NOT NULL REFERENCES researchers (name) ON DELETE CASCADE,
    classroom_id text NOT NULL REFERENCES classrooms (classroom_id),
    PRIMARY KEY (name, classroom_id)
);
-- Every research read: who, what, which classroom, when. Never the data read.
CREATE TABLE research_audit (
    id           bigserial   PRIMARY KEY,
    at           timestamptz NOT NULL DEFAULT now(),
    researcher   text        NOT NULL,
    action       text        NOT NULL,
    classroom_id text,
    detail       jsonb       NOT NULL DEFAULT '{}'
);
CREATE INDEX research_audit_by_researcher ON research_audit (researcher, at);
