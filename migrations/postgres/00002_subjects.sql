-- What data subjects need: e-mail verification, the status page link,
-- messages with the controller, identity documents awaiting a check, and
-- the decisions a case records.

-- +goose Up
ALTER TABLE requests ADD COLUMN status_token_hash text UNIQUE;
ALTER TABLE requests ADD COLUMN closed_at timestamptz;
ALTER TABLE requests ADD COLUMN verified_at timestamptz;
ALTER TABLE requests ADD COLUMN verified_by text NOT NULL DEFAULT '';
ALTER TABLE requests ADD COLUMN verification_method text NOT NULL DEFAULT '';
ALTER TABLE requests ADD COLUMN decision_ground text NOT NULL DEFAULT '';
ALTER TABLE requests ADD COLUMN decision_text text NOT NULL DEFAULT '';
ALTER TABLE requests ADD COLUMN decision_partial boolean NOT NULL DEFAULT false;
ALTER TABLE requests ADD COLUMN kept jsonb NOT NULL DEFAULT '[]';

CREATE TABLE verifications (
    id          text PRIMARY KEY,
    request_id  text NOT NULL REFERENCES requests (id),
    token_hash  text NOT NULL UNIQUE,
    code_hash   text NOT NULL,
    status      text NOT NULL DEFAULT 'active', -- active, used, superseded, locked
    attempts    integer NOT NULL DEFAULT 0,
    expires_at  timestamptz NOT NULL,
    created_at  timestamptz NOT NULL,
    used_at     timestamptz
);
CREATE INDEX verifications_request ON verifications (request_id, created_at);

CREATE TABLE request_messages (
    id           text PRIMARY KEY,
    request_id   text NOT NULL REFERENCES requests (id),
    from_subject boolean NOT NULL,
    kind         text NOT NULL,
    author       text NOT NULL,
    body         text NOT NULL,
    created_at   timestamptz NOT NULL
);
CREATE INDEX request_messages_request ON request_messages (request_id, created_at);

-- Encrypted (AES-256-GCM); deleted as soon as an officer has checked it.
CREATE TABLE identity_documents (
    id           text PRIMARY KEY,
    request_id   text NOT NULL REFERENCES requests (id),
    file_name    text NOT NULL,
    content_type text NOT NULL,
    sealed       bytea NOT NULL,
    created_at   timestamptz NOT NULL
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
ALTER TABLE requests DROP COLUMN status_token_hash;
