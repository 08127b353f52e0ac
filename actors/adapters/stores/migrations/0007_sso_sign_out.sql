-- Single sign-on (Streamlit's OIDC): the browser keeps the identity provider's signed identity
-- for up to 30 days, and every tab of that browser would sign in again from it. A sign-out
-- records its time here; an identity issued before it no longer opens a session.
ALTER TABLE instructors ADD COLUMN sso_not_before timestamptz;
