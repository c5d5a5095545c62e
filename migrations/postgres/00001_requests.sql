-- The case table, its append-only audit trail, clock pauses, the transactional
-- outbox and API keys.

-- +goose Up
CREATE TABLE requests (
    id                  text PRIMARY KEY,
    reference           text NOT NULL UNIQUE,
    type                text NOT NULL,
    status              text NOT NULL,
    controller          text NOT NULL,
    regulation          text NOT NULL,
    language            text NOT NULL,
    channel             text NOT NULL,
    subject_email       text NOT NULL,
    subject_name        text NOT NULL DEFAULT '',
    subject_phone       text NOT NULL DEFAULT '',
    subject_customer_id text NOT NULL DEFAULT '',
    details             text NOT NULL DEFAULT '',
    received_at         timestamptz NOT NULL,
    due_date            text NOT NULL,           -- controller-local YYYY-MM-DD
    deadline            timestamptz NOT NULL,    -- end of due_date in the controller's zone
    extension_notice_by text NOT NULL,
    acknowledge_by      text NOT NULL DEFAULT '',
    extended            boolean NOT NULL DEFAULT false,
    extension_reason    text NOT NULL DEFAULT '',
    paused_days         integer NOT NULL DEFAULT 0,
    paused_at           timestamptz,
    created_by          text NOT NULL,
    created_at          timestamptz NOT NULL,
    updated_at          timestamptz NOT NULL
);
CREATE INDEX requests_deadline ON requests (deadline, id);
CREATE INDEX requests_controller_deadline ON requests (controller, deadline, id);
CREATE INDEX requests_received ON requests (received_at, id);
CREATE INDEX requests_open ON requests (deadline, id)
    WHERE status IN ('received', 'awaiting_verification', 'in_progress', 'awaiting_subject');

CREATE TABLE request_events (
    id          bigserial PRIMARY KEY,
    request_id  text NOT NULL REFERENCES requests (id),
    at          timestamptz NOT NULL,
    actor       text NOT NULL,
    kind        text NOT NULL,
    from_status text NOT NULL DEFAULT '',
    to_status   text NOT NULL DEFAULT '',
    reason      text NOT NULL DEFAULT '',
    data        jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX request_events_request ON request_events (request_id, id);

-- The audit trail is append-only: no row is ever changed or removed.
-- +goose StatementBegin
CREATE FUNCTION request_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'request_events is append-only';
END;
$$;
-- +goose StatementEnd
CREATE TRIGGER request_events_no_update BEFORE UPDATE OR DELETE ON request_events
    FOR EACH ROW EXECUTE FUNCTION request_events_append_only();

CREATE TABLE request_pauses (
    id            bigserial PRIMARY KEY,
    request_id    text NOT NULL REFERENCES requests (id),
    reason        text NOT NULL,
    note          text NOT NULL DEFAULT '',
    clock_stopped boolean NOT NULL,
    started_at    timestamptz NOT NULL,
    ended_at      timestamptz,
    days          integer NOT NULL DEFAULT 0
);
CREATE INDEX request_pauses_request ON request_pauses (request_id, id);

CREATE TABLE outbox (
    id          text PRIMARY KEY,
    kind        text NOT NULL,
    request_id  text REFERENCES requests (id),
    payload     jsonb NOT NULL DEFAULT '{}',
    run_at      timestamptz NOT NULL,
    status      text NOT NULL DEFAULT 'pending', -- pending, running, done, cancelled, failed
    attempts    integer NOT NULL DEFAULT 0,
    enqueued_at timestamptz,
    lease_until timestamptz,
    done_at     timestamptz,
    last_error  text NOT NULL DEFAULT '',
    created_at  timestamptz NOT NULL
);
CREATE INDEX outbox_due ON outbox (run_at) WHERE status = 'pending' AND enqueued_at IS NULL;
CREATE INDEX outbox_inflight ON outbox (enqueued_at) WHERE status IN ('pending', 'running');
CREATE INDEX outbox_request ON outbox (request_id, kind) WHERE status = 'pending';

CREATE TABLE api_keys (
    id           text PRIMARY KEY,
    name         text NOT NULL,
    role         text NOT NULL,
    controllers  text NOT NULL DEFAULT '',
    secret_hash  text NOT NULL UNIQUE,
    created_at   timestamptz NOT NULL,
    last_used_at timestamptz,
    revoked_at   timestamptz
);

-- +goose Down
DROP TABLE api_keys;
DROP TABLE outbox;
DROP TABLE request_pauses;
DROP TABLE request_events;
DROP FUNCTION request_events_append_only;
DROP TABLE requests;
