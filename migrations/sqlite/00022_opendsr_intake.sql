-- The OpenDSR 2.0 intake (docs/opendsr.md): each request an OpenDSR
-- client posted, by its subject_request_id (unique over the service, so
-- that the same ID twice makes one case), the case it became, the callback
-- URLs the client gave and the OpenDSR status last reported to them. No
-- personal data: the subject's identities live in the case.

-- +goose Up
CREATE TABLE opendsr_requests (
    id            text PRIMARY KEY,
    request_id    text NOT NULL UNIQUE REFERENCES requests (id) ON DELETE CASCADE,
    controller    text NOT NULL,
    callback_urls text NOT NULL DEFAULT '',
    status        text NOT NULL,
    api_version   text NOT NULL DEFAULT '',
    created_by    text NOT NULL,
    created_at    TIMESTAMP NOT NULL
);

-- +goose Down
DROP TABLE opendsr_requests;
