-- The customer database of docs/examples/sample-sql.yaml, and the role the
-- service connects as (docs/connectors.md, "SQL connector").
CREATE SCHEMA shop;

CREATE TABLE shop.customers (
    customer_no integer PRIMARY KEY,
    name        text NOT NULL,
    email       text,
    phone       text,
    street      text,
    postcode    text,
    city        text,
    note        text,
    restricted  boolean NOT NULL DEFAULT false
);
-- The connector finds a subject's rows by lower(email).
CREATE INDEX ON shop.customers (lower(email));

CREATE TABLE shop.newsletter (
    email         text PRIMARY KEY,
    subscribed_at timestamptz NOT NULL DEFAULT now(),
    topics        text[] NOT NULL DEFAULT '{}',
    paused        boolean NOT NULL DEFAULT false
);
CREATE INDEX ON shop.newsletter (lower(email));
