-- Outgoing webhooks (docs/webhooks.md): the integrated systems'
-- subscriptions (their secrets sealed with the keyring), the events made
-- with the changes of the cases (written in the same transaction, with one
-- outbox item per delivery), and the delivery log, one row per attempt.

-- +goose Up
CREATE TABLE webhook_subscriptions (
    id              text PRIMARY KEY,
    url             text NOT NULL,
    description     text NOT NULL DEFAULT '',
    secret          BLOB NOT NULL,
    previous_secret BLOB,
    previous_until  TIMESTAMP,
    events          text NOT NULL,
    controllers     text NOT NULL DEFAULT '',
    include_email   boolean NOT NULL DEFAULT false,
    enabled         boolean NOT NULL DEFAULT true,
    disabled_reason text NOT NULL DEFAULT '',
    disabled_at     TIMESTAMP,
    failing_since   TIMESTAMP,
    created_by      text NOT NULL,
    created_at      TIMESTAMP NOT NULL,
    updated_at      TIMESTAMP NOT NULL
);

CREATE TABLE webhook_events (
    id         text PRIMARY KEY,
    type       text NOT NULL,
    request_id text REFERENCES requests (id) ON DELETE CASCADE,
    controller text NOT NULL,
    at         TIMESTAMP NOT NULL,
    data       text NOT NULL
);
CREATE INDEX webhook_events_at ON webhook_events (at);

CREATE TABLE webhook_attempts (
    id              text PRIMARY KEY,
    event_id        text NOT NULL REFERENCES webhook_events (id) ON DELETE CASCADE,
    subscription_id text NOT NULL REFERENCES webhook_subscriptions (id) ON DELETE CASCADE,
    attempt         integer NOT NULL,
    manual          boolean NOT NULL DEFAULT false,
    outcome         text NOT NULL,
    status_code     integer NOT NULL DEFAULT 0,
    error           text NOT NULL DEFAULT '',
    at              TIMESTAMP NOT NULL,
    duration_ms     bigint NOT NULL DEFAULT 0,
    next_at         TIMESTAMP
);
CREATE INDEX webhook_attempts_subscription ON webhook_attempts (subscription_id, at);
CREATE INDEX webhook_attempts_event ON webhook_attempts (event_id);

-- +goose Down
DROP TABLE webhook_attempts;
DROP TABLE webhook_events;
DROP TABLE webhook_subscriptions;
