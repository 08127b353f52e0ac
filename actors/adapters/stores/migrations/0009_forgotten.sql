-- That a student's data was deleted, without the data: not their id, not their name. Who
-- asked, when, and how much went, so an auditor can see that a request was honoured.
CREATE TABLE forgotten (
    id            bigserial   PRIMARY KEY,
    classroom_id  text        NOT NULL,
    requested_by  text        NOT NULL,
    events        integer     NOT NULL,
    at            timestamptz NOT NULL DEFAULT now()
);
