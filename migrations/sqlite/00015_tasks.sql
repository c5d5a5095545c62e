-- The work a case does in the connected systems: one row a task (a
-- system's part, or a recipient's notice under Art 19), each with its own
-- lifecycle, and whether every task of the approval has ended. And the
-- suppression list: keyed hashes of the addresses of subjects who erased
-- their data or objected to direct marketing (never the address).

-- +goose Up
ALTER TABLE requests ADD COLUMN tasks_ended BOOLEAN NOT NULL DEFAULT false;

CREATE TABLE tasks (
    id             text PRIMARY KEY,
    request_id     text NOT NULL REFERENCES requests (id) ON DELETE CASCADE,
    system_key     text NOT NULL DEFAULT '',
    recipient_key  text NOT NULL DEFAULT '',
    action         text NOT NULL,
    connector      text NOT NULL DEFAULT '',
    purposes       text NOT NULL DEFAULT '[]',
    categories     text NOT NULL DEFAULT '[]',
    status         text NOT NULL,
    attempts       integer NOT NULL DEFAULT 0,
    round          integer NOT NULL DEFAULT 0,
    count          integer NOT NULL DEFAULT 0,
    answer         text NOT NULL DEFAULT '',
    reason         text NOT NULL DEFAULT '',
    evidence       text NOT NULL DEFAULT '',
    external       text NOT NULL DEFAULT '',
    expected_by    TIMESTAMP,
    due_at         TIMESTAMP,
    failure_mailed BOOLEAN NOT NULL DEFAULT false,
    created_at     TIMESTAMP NOT NULL,
    updated_at     TIMESTAMP NOT NULL,
    ended_at       TIMESTAMP
);
CREATE INDEX tasks_request ON tasks (request_id, created_at);
CREATE INDEX tasks_open ON tasks (status) WHERE status NOT IN ('done', 'no_data', 'skipped', 'cancelled');

CREATE TABLE suppressions (
    controller text NOT NULL,
    hash       text NOT NULL,
    request_id text NOT NULL DEFAULT '',
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (controller, hash)
);

-- +goose Down
DROP TABLE suppressions;
DROP TABLE tasks;
ALTER TABLE requests DROP COLUMN tasks_ended;
