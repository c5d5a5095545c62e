-- The officers' queue: one controller's open cases, most urgent first, alone
-- or filtered by one request type (see the PostgreSQL migration of the same
-- number). SQLite uses a partial index only when the query's WHERE clause
-- names the same status list as literals; kept in step with PostgreSQL.

-- +goose Up
CREATE INDEX requests_queue ON requests (controller, deadline, id)
    WHERE status IN ('received', 'awaiting_verification', 'in_progress', 'awaiting_subject');
CREATE INDEX requests_queue_type ON requests (controller, type, deadline, id)
    WHERE status IN ('received', 'awaiting_verification', 'in_progress', 'awaiting_subject');

-- +goose Down
DROP INDEX requests_queue_type;
DROP INDEX requests_queue;
