-- The administrators' audit trail: API keys, users and configuration
-- changes, one hash chain (admin actions are rare, so one chain costs
-- nothing), append-only like the cases' trails.

-- +goose Up
CREATE TABLE admin_events (
    id        bigserial PRIMARY KEY,
    seq       bigint NOT NULL UNIQUE,
    prev_hash text NOT NULL,
    hash      text NOT NULL,
    at        timestamptz NOT NULL,
    actor     text NOT NULL,
    client_ip text NOT NULL DEFAULT '',
    kind      text NOT NULL,
    target    text NOT NULL DEFAULT '',
    data      jsonb NOT NULL DEFAULT '{}'
);
CREATE TRIGGER admin_events_no_update BEFORE UPDATE OR DELETE ON admin_events
    FOR EACH ROW EXECUTE FUNCTION request_events_append_only();

-- +goose Down
DROP TABLE admin_events;
