-- The audit trail as hash chains, one per case: every event written from now
-- on carries its position in its case's trail (seq, 1, 2, 3, … without gaps),
-- the hash of the case's event before it and its own hash (SHA-256 over the
-- canonical encoding of its fields, dsar.CanonicalEvent), and the client
-- address the action came from. The request row holds the seq and hash of its
-- last event (audit_seq, audit_hash), so that deleting the last events of a
-- case shows too. `dsar audit verify` recomputes every chain. Events written
-- before this migration have no seq or hash: they are "pre-chain", counted by
-- verify but not covered.
--
-- One chain per case, not one for all: a writer already holds its case's row,
-- so appending needs no lock that every writer would queue on.
--
-- The hashes are computed by the application before the insert, so the
-- append-only trigger of 00001 stays as it is.

-- +goose Up
ALTER TABLE request_events ADD COLUMN seq INTEGER;
ALTER TABLE request_events ADD COLUMN prev_hash TEXT;
ALTER TABLE request_events ADD COLUMN hash TEXT;
ALTER TABLE request_events ADD COLUMN client_ip TEXT NOT NULL DEFAULT '';
-- A second writer that skipped the row lock would fork the chain: refuse it.
CREATE UNIQUE INDEX request_events_seq ON request_events (request_id, seq);
ALTER TABLE requests ADD COLUMN audit_seq INTEGER NOT NULL DEFAULT 0;
ALTER TABLE requests ADD COLUMN audit_hash TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE requests DROP COLUMN audit_hash;
ALTER TABLE requests DROP COLUMN audit_seq;
DROP INDEX request_events_seq;
ALTER TABLE request_events DROP COLUMN client_ip;
ALTER TABLE request_events DROP COLUMN hash;
ALTER TABLE request_events DROP COLUMN prev_hash;
ALTER TABLE request_events DROP COLUMN seq;
