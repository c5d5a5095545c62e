-- The case table, its append-only audit trail, clock pauses, the transactional
-- outbox and API keys. Timestamps are stored as UTC text, which sorts in time
-- order; dates as YYYY-MM-DD text.

-- +goose Up
CREATE TABLE requests (
    id                  TEXT PRIMARY KEY,
    reference           TEXT NOT NULL UNIQUE,
    type                TEXT NOT NULL,
    status              TEXT NOT NULL,
    controller          TEXT NOT NULL,
    regulation          TEXT NOT NULL,
    language            TEXT NOT NULL,
    channel             TEXT NOT NULL,
    subject_email       TEXT NOT NULL,
    subject_name        TEXT NOT NULL DEFAULT '',
    subject_phone       TEXT NOT NULL DEFAULT '',
    subject_customer_id TEXT NOT NULL DEFAULT '',
    details             TEXT NOT NULL DEFAULT '',
    received_at         TIMESTAMP NOT NULL,
    due_date            TEXT NOT NULL,
    deadline            TIMESTAMP NOT NULL,
    extension_notice_by TEXT NOT NULL,
    acknowledge_by      TEXT NOT NULL DEFAULT '',
    extended            BOOLEAN NOT NULL DEFAULT 0,
    extension_reason    TEXT NOT NULL DEFAULT '',
    paused_days         INTEGER NOT NULL DEFAULT 0,
    paused_at           TIMESTAMP,
    created_by          TEXT NOT NULL,
    created_at          TIMESTAMP NOT NULL,
    updated_at          TIMESTAMP NOT NULL
);
CREATE INDEX requests_deadline ON requests (deadline, id);
CREATE INDEX requests_controller_deadline ON requests (controller, deadline, id);
CREATE INDEX requests_received ON requests (received_at, id);
CREATE INDEX requests_open ON requests (deadline, id)
    WHERE status IN ('received', 'awaiting_verification', 'in_progress', 'awaiting_subject');

CREATE TABLE request_events (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    request_id  TEXT NOT NULL REFERENCES requests (id),
    at          TIMESTAMP NOT NULL,
    actor       TEXT NOT NULL,
    kind        TEXT NOT NULL,
    from_status TEXT NOT NULL DEFAULT '',
    to_status   TEXT NOT NULL DEFAULT '',
    reason      TEXT NOT NULL DEFAULT '',
    data        TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX request_events_request ON request_events (request_id, id);

-- The audit trail is append-only: no row is ever changed or removed.
-- +goose StatementBegin
CREATE TRIGGER request_events_no_update BEFORE UPDATE ON request_events
BEGIN
    SELECT RAISE(ABORT, 'request_events is append-only');
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER request_events_no_delete BEFORE DELETE ON request_events
BEGIN
    SELECT RAISE(ABORT, 'request_events is append-only');
END;
-- +goose StatementEnd

CREATE TABLE request_pauses (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    request_id    TEXT NOT NULL REFERENCES requests (id),
    reason        TEXT NOT NULL,
    note          TEXT NOT NULL DEFAULT '',
    clock_stopped BOOLEAN NOT NULL,
    started_at    TIMESTAMP NOT NULL,
    ended_at      TIMESTAMP,
    days          INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX request_pauses_request ON request_pauses (request_id, id);

CREATE TABLE outbox (
    id          TEXT PRIMARY KEY,
    kind        TEXT NOT NULL,
    request_id  TEXT REFERENCES requests (id),
    payload     TEXT NOT NULL DEFAULT '{}',
    run_at      TIMESTAMP NOT NULL,
    status      TEXT NOT NULL DEFAULT 'pending',
    attempts    INTEGER NOT NULL DEFAULT 0,
    enqueued_at TIMESTAMP,
    lease_until TIMESTAMP,
    done_at     TIMESTAMP,
    last_error  TEXT NOT NULL DEFAULT '',
    created_at  TIMESTAMP NOT NULL
);
CREATE INDEX outbox_due ON outbox (run_at) WHERE status = 'pending' AND enqueued_at IS NULL;
CREATE INDEX outbox_inflight ON outbox (enqueued_at) WHERE status IN ('pending', 'running');
CREATE INDEX outbox_request ON outbox (request_id, kind) WHERE status = 'pending';

CREATE TABLE api_keys (
    id           TEXT PRIMARY KEY,
    name         TEXT NOT NULL,
    role         TEXT NOT NULL,
    controllers  TEXT NOT NULL DEFAULT '',
    secret_hash  TEXT NOT NULL UNIQUE,
    created_at   TIMESTAMP NOT NULL,
    last_used_at TIMESTAMP,
    revoked_at   TIMESTAMP
);

-- +goose Down
DROP TABLE api_keys;
DROP TABLE outbox;
DROP TABLE request_pauses;
DROP TRIGGER request_events_no_delete;
DROP TRIGGER request_events_no_update;
DROP TABLE request_events;
DROP TABLE requests;
