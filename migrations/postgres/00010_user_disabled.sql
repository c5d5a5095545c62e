-- Accounts an admin disabled (an officer who left): they cannot sign in,
-- get no reminders and cannot be assigned cases; their trail stays.

-- +goose Up
ALTER TABLE users ADD COLUMN disabled_at timestamptz;

-- +goose Down
ALTER TABLE users DROP COLUMN disabled_at;
