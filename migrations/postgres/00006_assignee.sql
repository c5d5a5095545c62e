-- Who works a case.

-- +goose Up
ALTER TABLE requests ADD COLUMN assignee text NOT NULL DEFAULT '';
CREATE INDEX requests_assignee ON requests (assignee, deadline, id)
    WHERE status IN ('received', 'awaiting_verification', 'in_progress', 'awaiting_subject');

-- +goose Down
DROP INDEX requests_assignee;
ALTER TABLE requests DROP COLUMN assignee;
