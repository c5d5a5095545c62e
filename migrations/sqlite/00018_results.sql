-- The answer of an access or portability request: the files assembled for
-- the subject (names, sizes and SHA-256 as JSON; the files themselves are
-- in the blob store, encrypted), the download window and its count, the
-- records officers left out (Art 15(4)), and the e-mailed codes that, with
-- the status link, open a download (the code is derived from the ID and
-- never stored).

-- +goose Up
ALTER TABLE requests ADD COLUMN results_at TIMESTAMP;
ALTER TABLE requests ADD COLUMN results text NOT NULL DEFAULT '';
ALTER TABLE requests ADD COLUMN download_until TIMESTAMP;
ALTER TABLE requests ADD COLUMN downloads integer NOT NULL DEFAULT 0;

CREATE TABLE redactions (
    id         text PRIMARY KEY,
    request_id text NOT NULL REFERENCES requests (id) ON DELETE CASCADE,
    task_id    text NOT NULL,
    line       integer NOT NULL,
    reason     text NOT NULL,
    created_by text NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX redactions_request ON redactions (request_id, task_id, line);

CREATE TABLE download_codes (
    id         text PRIMARY KEY,
    request_id text NOT NULL REFERENCES requests (id) ON DELETE CASCADE,
    status     text NOT NULL,
    code_hash  text NOT NULL,
    attempts   integer NOT NULL DEFAULT 0,
    expires_at TIMESTAMP NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX download_codes_request ON download_codes (request_id, created_at);

-- +goose Down
DROP TABLE download_codes;
DROP TABLE redactions;
ALTER TABLE requests DROP COLUMN downloads;
ALTER TABLE requests DROP COLUMN download_until;
ALTER TABLE requests DROP COLUMN results;
ALTER TABLE requests DROP COLUMN results_at;
