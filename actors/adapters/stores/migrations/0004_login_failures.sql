-- Failed instructor sign-ins, per account ('account:<email>') and per client ('client:<ip>'):
-- shared by every dashboard process, so a restart or a second server does not reset them.
CREATE TABLE login_failures (
    key          text        PRIMARY KEY,
    failures     integer     NOT NULL,
    locked_until timestamptz,
    updated_at   timestamptz NOT NULL DEFAULT now()
);
