-- A user's name, how colleagues know them (`dsar user create --name`); empty
-- for the accounts made before.

-- +goose Up
ALTER TABLE users ADD COLUMN name text NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE users DROP COLUMN name;
