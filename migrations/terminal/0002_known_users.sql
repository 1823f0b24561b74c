-- Users who signed in on this terminal while it was online, so they can sign in again while it
-- is offline. The password is kept only as this terminal's own argon2id hash (never the
-- server's), with the role the server gave at that sign-in.
CREATE TABLE known_users (
    id TEXT PRIMARY KEY,
    username TEXT NOT NULL UNIQUE,
    organization_id TEXT NOT NULL,
    role TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    last_online_sign_in TEXT NOT NULL
);
