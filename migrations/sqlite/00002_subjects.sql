-- What data subjects need: e-mail verification, the status page link,
-- messages with the controller, identity documents awaiting a check, and
-- the decisions a case records.

-- +goose Up
ALTER TABLE requests ADD COLUMN status_token_hash TEXT;
CREATE UNIQUE INDEX requests_status_token ON requests (status_token_hash);
ALTER TABLE requests ADD COLUMN closed_at TIMESTAMP;
ALTER TABLE requests ADD COLUMN verified_at TIMESTAMP;
ALTER TABLE requests ADD COLUMN verified_by TEXT NOT NULL DEFAULT '';
ALTER TABLE requests ADD COLUMN verification_method TEXT NOT NULL DEFAULT '';
ALTER TABLE requests ADD COLUMN decision_ground TEXT NOT NULL DEFAULT '';
ALTER TABLE requests ADD COLUMN decision_text TEXT NOT NULL DEFAULT '';
ALTER TABLE requests ADD COLUMN decision_partial BOOLEAN NOT NULL DEFAULT 0;
ALTER TABLE requests ADD COLUMN kept TEXT NOT NULL DEFAULT '[]';

CREATE TABLE verifications (
    id          TEXT PRIMARY KEY,
    request_id  TEXT NOT NULL REFERENCES requests (id),
    token_hash  TEXT NOT NULL UNIQUE,
    code_hash   TEXT NOT NULL,
    status      TEXT NOT NULL DEFAULT 'active', -- active, used, superseded, locked
    attempts    integer NOT NULL DEFAULT 0,
    expires_at  TIMESTAMP NOT NULL,
    created_at  TIMESTAMP NOT NULL,
    used_at     TIMESTAMP
);
CREATE INDEX verifications_request ON verifications (request_id, created_at);

CREATE TABLE request_messages (
    id           TEXT PRIMARY KEY,
    request_id   TEXT NOT NULL REFERENCES requests (id),
    from_subject BOOLEAN NOT NULL,
    kind         TEXT NOT NULL,
    author       TEXT NOT NULL,
    body         TEXT NOT NULL,
    created_at   TIMESTAMP NOT NULL
);
CREATE INDEX request_messages_request ON request_messages (request_id, created_at);

-- Encrypted (AES-256-GCM); deleted as soon as an officer has checked it.
CREATE TABLE identity_documents (
    id           TEXT PRIMARY KEY,
    request_id   TEXT NOT NULL REFERENCES requests (id),
    file_name    TEXT NOT NULL,
    content_type TEXT NOT NULL,
    sealed       BLOB NOT NULL,
    created_at   TIMESTAMP NOT NULL
);
CREATE INDEX identity_documents_request ON identity_documents (request_id);

-- +goose Down
DROP TABLE identity_documents;
DROP TABLE request_messages;
DROP TABLE verifications;
ALTER TABLE requests DROP COLUMN kept;
ALTER TABLE requests DROP COLUMN decision_partial;
ALTER TABLE requests DROP COLUMN decision_text;
ALTER TABLE requests DROP COLUMN decision_ground;
ALTER TABLE requests DROP COLUMN verification_method;
ALTER TABLE requests DROP COLUMN verified_by;
ALTER TABLE requests DROP COLUMN verified_at;
ALTER TABLE requests DROP COLUMN closed_at;
DROP INDEX requests_status_token;
ALTER TABLE requests DROP COLUMN status_token_hash;
