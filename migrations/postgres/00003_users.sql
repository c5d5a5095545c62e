-- Officers' accounts and their server-side sessions.

-- +goose Up
CREATE TABLE users (
    id                  text PRIMARY KEY,
    email               text NOT NULL UNIQUE,
    password_hash       text NOT NULL,
    role                text NOT NULL,
    controllers         text NOT NULL DEFAULT '',
    failed_logins       integer NOT NULL DEFAULT 0,
    locked_until        timestamptz,
    password_changed_at timestamptz NOT NULL,
    created_at          timestamptz NOT NULL
);

CREATE TABLE sessions (
    token_hash   text PRIMARY KEY,
    user_id      text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at   timestamptz NOT NULL,
    last_seen_at timestamptz NOT NULL,
    expires_at   timestamptz NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);

-- +goose Down
DROP TABLE sessions;
DROP TABLE users;
