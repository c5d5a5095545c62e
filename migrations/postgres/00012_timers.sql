-- Timers derived from the case: from when a case's reminders and
-- verification timers count, and when the next one is due. Intake no longer
-- writes future reminder rows into the outbox; a planner writes each as its
-- time comes. Cases from before keep the rows they have (wake_at is null).

-- +goose Up
ALTER TABLE requests ADD COLUMN timers_from timestamptz;
ALTER TABLE requests ADD COLUMN wake_at timestamptz;
CREATE INDEX requests_wake ON requests (wake_at) WHERE wake_at IS NOT NULL;

-- +goose Down
DROP INDEX requests_wake;
ALTER TABLE requests DROP COLUMN wake_at;
ALTER TABLE requests DROP COLUMN timers_from;
