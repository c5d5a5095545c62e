-- A completion's summary apart from a refusal's text, so that a case can
-- carry both: a partial refusal (ground, text, the part refused and what
-- was granted) and the completion of the rest. And which objection of
-- Art 21 an objection request makes.

-- +goose Up
ALTER TABLE requests ADD COLUMN summary text NOT NULL DEFAULT '';
ALTER TABLE requests ADD COLUMN refused_part text NOT NULL DEFAULT '';
ALTER TABLE requests ADD COLUMN granted_part text NOT NULL DEFAULT '';
ALTER TABLE requests ADD COLUMN objection text NOT NULL DEFAULT '';
UPDATE requests SET summary = decision_text, decision_text = '' WHERE status = 'completed';

-- +goose Down
UPDATE requests SET decision_text = summary WHERE status = 'completed';
ALTER TABLE requests DROP COLUMN objection;
ALTER TABLE requests DROP COLUMN granted_part;
ALTER TABLE requests DROP COLUMN refused_part;
ALTER TABLE requests DROP COLUMN summary;
