-- When the subject answered while no officer has worked the case since:
-- the queue marks such cases as having something new.

-- +goose Up
ALTER TABLE requests ADD COLUMN subject_replied_at TIMESTAMP;

-- +goose Down
ALTER TABLE requests DROP COLUMN subject_replied_at;
