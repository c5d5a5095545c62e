-- A new request of the same type from the same subject to the same
-- controller while one is open is linked to it and flagged, not merged.

-- +goose Up
ALTER TABLE requests ADD COLUMN duplicate_of TEXT NOT NULL DEFAULT '';
CREATE INDEX requests_same_subject ON requests (controller, type, lower(subject_email), created_at)
    WHERE status IN ('received', 'awaiting_verification', 'in_progress', 'awaiting_subject');

-- +goose Down
DROP INDEX requests_same_subject;
ALTER TABLE requests DROP COLUMN duplicate_of;
