-- The officers' queue: one controller's open cases, most urgent first
-- (store.Requests.List with status = the open statuses, controller = one
-- key, sort = deadline, keyset cursor on (deadline, id)), alone or filtered
-- by one request type. Partial indexes over the open cases only (about a
-- seventh of the table): the controller's queue is a prefix of the index in
-- the order of the page, so a page reads its 51 rows and no more, also for a
-- small controller or a rare type, where requests_open (deadline, id) would
-- skip over every other controller's open cases. The planner uses them when
-- the query's status list is known at planning time (a custom plan, which
-- pgx's prepared statements get because the generic plan costs far more).

-- +goose Up
CREATE INDEX requests_queue ON requests (controller, deadline, id)
    WHERE status IN ('received', 'awaiting_verification', 'in_progress', 'awaiting_subject');
CREATE INDEX requests_queue_type ON requests (controller, type, deadline, id)
    WHERE status IN ('received', 'awaiting_verification', 'in_progress', 'awaiting_subject');

-- +goose Down
DROP INDEX requests_queue_type;
DROP INDEX requests_queue;
