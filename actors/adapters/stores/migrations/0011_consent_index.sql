-- Research reads ask the log for a classroom's consent answers and policy before every history
-- read or export: a small index over just those events, so the question never scans a term.
CREATE INDEX events_consent ON events (classroom_id, seq)
    WHERE type IN ('consent', 'consent_policy');
