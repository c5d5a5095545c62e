-- Records retention: when a closed case's retention has run out its
-- personal data is removed (dsar.RemovePersonalData) and the case records
-- when. Its audit events lose their client address, reason and free-text
-- data (dsar.RedactEvent) and are marked redacted: the trail stays
-- append-only but for that one change, which the trigger allows once per
-- event and only on those fields. The removal's own event carries the seal
-- (dsar.AuditSeal) that keeps the redacted events verifiable.

-- +goose Up
ALTER TABLE requests ADD COLUMN personal_data_removed_at TIMESTAMP;
CREATE INDEX requests_retention ON requests (controller, closed_at, id)
    WHERE closed_at IS NOT NULL AND personal_data_removed_at IS NULL;
ALTER TABLE request_events ADD COLUMN redacted BOOLEAN NOT NULL DEFAULT 0;

DROP TRIGGER request_events_no_update;
-- +goose StatementBegin
CREATE TRIGGER request_events_no_update BEFORE UPDATE ON request_events
WHEN NOT (OLD.redacted = 0 AND NEW.redacted = 1
    AND NEW.id = OLD.id AND NEW.request_id = OLD.request_id AND NEW.at = OLD.at
    AND NEW.actor = OLD.actor AND NEW.kind = OLD.kind
    AND NEW.from_status = OLD.from_status AND NEW.to_status = OLD.to_status
    AND NEW.seq IS OLD.seq AND NEW.prev_hash IS OLD.prev_hash AND NEW.hash IS OLD.hash
    AND NEW.client_ip = '' AND NEW.reason = '')
BEGIN
    SELECT RAISE(ABORT, 'request_events is append-only');
END;
-- +goose StatementEnd

-- +goose Down
DROP TRIGGER request_events_no_update;
-- +goose StatementBegin
CREATE TRIGGER request_events_no_update BEFORE UPDATE ON request_events
BEGIN
    SELECT RAISE(ABORT, 'request_events is append-only');
END;
-- +goose StatementEnd
ALTER TABLE request_events DROP COLUMN redacted;
DROP INDEX requests_retention;
ALTER TABLE requests DROP COLUMN personal_data_removed_at;
