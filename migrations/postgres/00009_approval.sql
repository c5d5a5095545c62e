-- Approval of a case for execution in the connected systems.

-- +goose Up
ALTER TABLE requests ADD COLUMN approved_at timestamptz;
ALTER TABLE requests ADD COLUMN approved_by text NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE requests DROP COLUMN approved_by;
ALTER TABLE requests DROP COLUMN approved_at;
