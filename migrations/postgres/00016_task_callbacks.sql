-- The messages of the systems' callbacks to their tasks (HTTP connector),
-- by their webhook-id: a callback whose ID was seen before is a replay and
-- is refused. The row is written in the transaction that records the
-- callback, so an answer that failed to be recorded can be sent again.

-- +goose Up
CREATE TABLE task_callbacks (
    task_id     text NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
    webhook_id  text NOT NULL,
    received_at timestamptz NOT NULL,
    PRIMARY KEY (task_id, webhook_id)
);

-- +goose Down
DROP TABLE task_callbacks;
