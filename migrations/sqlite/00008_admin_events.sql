-- The administrators' audit trail: API keys, users and configuration
-- changes, one hash chain, append-only like the cases' trails.

-- +goose Up
CREATE TABLE admin_events (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    seq       INTEGER NOT NULL UNIQUE,
    prev_hash TEXT NOT NULL,
    hash      TEXT NOT NULL,
    at        TIMESTAMP NOT NULL,
    actor     TEXT NOT NULL,
    client_ip TEXT NOT NULL DEFAULT '',
    kind      TEXT NOT NULL,
    target    TEXT NOT NULL DEFAULT '',
    data      TEXT NOT NULL DEFAULT '{}'
);
-- +goose StatementBegin
CREATE TRIGGER admin_events_no_update BEFORE UPDATE ON admin_events
BEGIN
    SELECT RAISE(ABORT, 'admin_events is append-only');
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER admin_events_no_delete BEFORE DELETE ON admin_events
BEGIN
    SELECT RAISE(ABORT, 'admin_events is append-only');
END;
-- +goose StatementEnd

-- +goose Down
DROP TABLE admin_events;
