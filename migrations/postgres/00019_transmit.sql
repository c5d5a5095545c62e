-- Direct transmission of a portability case's package to another
-- organisation (GDPR Art 20(2)): where the subject asked it to go (a
-- portability recipient's key, or "other" with the organisation named),
-- and how the transmission stands (state, tries, the last answer, when it
-- was received or failed, the receipt, what was sent) as JSON.

-- +goose Up
ALTER TABLE requests ADD COLUMN transmit_to text NOT NULL DEFAULT '';
ALTER TABLE requests ADD COLUMN transmit_organisation text NOT NULL DEFAULT '';
ALTER TABLE requests ADD COLUMN transmission text NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE requests DROP COLUMN transmission;
ALTER TABLE requests DROP COLUMN transmit_organisation;
ALTER TABLE requests DROP COLUMN transmit_to;
