-- Records retention: when a closed case's retention has run out its
-- personal data is removed (dsar.RemovePersonalData) and the case records
-- when. Its audit events lose their client address, reason and free-text
-- data (dsar.RedactEvent) and are marked redacted: the trail stays
-- append-only but for that one change, which the trigger allows once per
-- event and only on those fields. The removal's own event carries the seal
-- (dsar.AuditSeal) that keeps the redacted events verifiable.

-- +goose Up
ALTER TABLE requests ADD COLUMN personal_data_removed_at timestamptz;
CREATE INDEX requests_retention ON requests (controller, closed_at, id)
    WHERE closed_at IS NOT NULL AND personal_data_removed_at IS NULL;
ALTER TABLE request_events ADD COLUMN redacted boolean NOT NULL DEFAULT false;

-- +goose StatementBegin
CREATE FUNCTION request_events_redact_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND NOT OLD.redacted AND NEW.redacted
        AND NEW.id = OLD.id AND NEW.request_id = OLD.request_id AND NEW.at = OLD.at
        AND NEW.actor = OLD.actor AND NEW.kind = OLD.kind
        AND NEW.from_status = OLD.from_status AND NEW.to_status = OLD.to_status
        AND NEW.seq IS NOT DISTINCT FROM OLD.seq AND NEW.prev_hash IS NOT DISTINCT FROM OLD.prev_hash
        AND NEW.hash IS NOT DISTINCT FROM OLD.hash
        AND NEW.client_ip = '' AND NEW.reason = '' THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'request_events is append-only';
END;
$$;
-- +goose StatementEnd
DROP TRIGGER request_events_no_update ON request_events;
CREATE TRIGGER request_events_no_update BEFORE UPDATE OR DELETE ON request_events
    FOR EACH ROW EXECUTE FUNCTION request_events_redact_only();

-- +goose Down
DROP TRIGGER request_events_no_update ON request_events;
CREATE TRIGGER request_events_no_update BEFORE UPDATE OR DELETE ON request_events
    FOR EACH ROW EXECUTE FUNCTION request_events_append_only();
DROP FUNCTION request_events_redact_only;
ALTER TABLE request_events DROP COLUMN redacted;
DROP INDEX requests_retention;
ALTER TABLE requests DROP COLUMN personal_data_removed_at;
