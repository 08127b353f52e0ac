-- Per-student tokens: a student token is bound to one student of one classroom.
ALTER TABLE tokens ADD COLUMN student_id text;
ALTER TABLE tokens DROP CONSTRAINT tokens_role_check;
ALTER TABLE tokens ADD CONSTRAINT tokens_role_check
    CHECK (role IN ('ingest', 'instructor', 'student'));
ALTER TABLE tokens ADD CONSTRAINT tokens_student_role
    CHECK ((role = 'student') = (student_id IS NOT NULL));
CREATE INDEX tokens_by_student ON tokens (classroom_id, student_id);

-- "Students must use their own token": the classroom-wide ingest token is then refused.
ALTER TABLE classrooms ADD COLUMN require_student_tokens boolean NOT NULL DEFAULT false;
