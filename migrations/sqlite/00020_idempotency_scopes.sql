-- The authorised agent who made a CCPA request for the subject (JSON:
-- name, e-mail address, relationship, proof, power of attorney; '' for
-- none), the scopes of API keys (comma-separated; '' for a key without scopes,
-- whose role alone decides, as for every key created before), and the
-- Idempotency-Key records of the API: one row per caller, method, path and
-- key (id is a SHA-256 over them), holding a SHA-256 of the request body
-- and, once the first call has answered, its status, Content-Type,
-- Content-Language, Location and body for 24 hours. status 0 marks a call still running (claim
-- names it), which gives the key up at expires_at if it never answers.

-- +goose Up
ALTER TABLE requests ADD COLUMN agent text NOT NULL DEFAULT '';
ALTER TABLE api_keys ADD COLUMN scopes text NOT NULL DEFAULT '';

CREATE TABLE idempotency_keys (
    id           text PRIMARY KEY,
    claim        text NOT NULL,
    request_hash text NOT NULL,
    status       integer NOT NULL DEFAULT 0,
    content_type text NOT NULL DEFAULT '',
    content_language text NOT NULL DEFAULT '',
    location     text NOT NULL DEFAULT '',
    body         BLOB,
    created_at   TIMESTAMP NOT NULL,
    expires_at   TIMESTAMP NOT NULL
);
CREATE INDEX idempotency_keys_expires ON idempotency_keys (expires_at);

-- +goose Down
DROP TABLE idempotency_keys;
ALTER TABLE api_keys DROP COLUMN scopes;
ALTER TABLE requests DROP COLUMN agent;
