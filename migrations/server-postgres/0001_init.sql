-- Sync server schema, version 1 (PostgreSQL). Append-only. Every table is keyed by organisation and
-- no query crosses organisations, so the schema can be sharded by organisation. Keys that are
-- looked up in batches (`id IN (…)`, `phone IN (…)`) lead their index: with the organisation
-- first, PostgreSQL plans large IN lists as "scan the organisation, filter", which reads the
-- whole organisation per batch.

CREATE TABLE server_secrets (name TEXT PRIMARY KEY, value TEXT NOT NULL);

CREATE TABLE organizations (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    seq        BIGINT NOT NULL DEFAULT 0,   -- the organisation's change sequence (pull cursor)
    created_at TEXT NOT NULL
);

CREATE TABLE branches (
    organization_id TEXT NOT NULL REFERENCES organizations(id),
    id              TEXT NOT NULL,
    name            TEXT NOT NULL,
    created_at      TEXT NOT NULL,
    PRIMARY KEY (organization_id, id),
    UNIQUE (organization_id, name)
);

CREATE TABLE users (
    organization_id TEXT NOT NULL REFERENCES organizations(id),
    id              TEXT NOT NULL,
    username        TEXT NOT NULL UNIQUE,       -- global: sign-in names no organisation
    password_hash   TEXT NOT NULL,               -- argon2id PHC string
    role            TEXT NOT NULL,               -- cashier | manager | admin
    created_at      TEXT NOT NULL,
    PRIMARY KEY (organization_id, id)
);

CREATE TABLE refresh_tokens (
    token_hash      TEXT PRIMARY KEY,            -- SHA-256 of the token
    organization_id TEXT NOT NULL,
    family_id       TEXT NOT NULL,               -- one sign-in; reuse of a spent token revokes it
    user_id         TEXT NOT NULL,
    expires_at      TEXT NOT NULL,
    used            BIGINT NOT NULL DEFAULT 0,
    revoked         BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX refresh_tokens_family ON refresh_tokens(family_id);

CREATE TABLE registration_codes (
    code_hash       TEXT PRIMARY KEY,
    organization_id TEXT NOT NULL,
    branch_id       TEXT,
    expires_at      TEXT NOT NULL,
    used_at         TEXT
);

CREATE TABLE devices (
    organization_id TEXT NOT NULL,
    id              TEXT NOT NULL UNIQUE,
    branch_id       TEXT,
    name            TEXT NOT NULL,
    secret_hash     TEXT NOT NULL,
    revoked         BIGINT NOT NULL DEFAULT 0,
    created_at      TEXT NOT NULL,
    PRIMARY KEY (organization_id, id)
);

-- Customers: `data` is the whole record with field clocks (JSON); the columns beside it are
-- copies for unique keys, filters and the pull sequence.
CREATE TABLE customers (
    organization_id TEXT NOT NULL,
    id              TEXT NOT NULL,
    seq             BIGINT NOT NULL,
    phone           TEXT,
    email           TEXT,
    identification  TEXT,
    passport_number TEXT,
    merged_into     TEXT,
    is_active       BIGINT NOT NULL,
    created_at      TEXT NOT NULL,
    data            TEXT NOT NULL,
    PRIMARY KEY (id, organization_id)
);
-- DESIGN.md I1: no two live customers share a key. Tombstones carry no keys, and NULLs never
-- collide, so plain unique indexes enforce it across every server instance.
CREATE UNIQUE INDEX customers_phone ON customers(phone, organization_id);
CREATE UNIQUE INDEX customers_email ON customers(email, organization_id);
CREATE UNIQUE INDEX customers_identification ON customers(identification, organization_id);
CREATE UNIQUE INDEX customers_passport ON customers(passport_number, organization_id);
CREATE INDEX customers_seq ON customers(organization_id, seq);

CREATE TABLE customer_preferences (
    organization_id TEXT NOT NULL,
    customer_id     TEXT NOT NULL,
    seq             BIGINT NOT NULL,
    data            TEXT NOT NULL,               -- {"preferences": …, "clocks": …}
    PRIMARY KEY (customer_id, organization_id)
);
CREATE INDEX customer_preferences_seq ON customer_preferences(organization_id, seq);

CREATE TABLE sales (
    organization_id TEXT NOT NULL,
    id              TEXT NOT NULL,
    seq             BIGINT NOT NULL,
    customer_id     TEXT NOT NULL,
    sold_at         TEXT NOT NULL,
    data            TEXT NOT NULL,
    PRIMARY KEY (id, organization_id)
);
CREATE INDEX sales_seq ON sales(organization_id, seq);
CREATE INDEX sales_customer ON sales(organization_id, customer_id);

-- Exactly-once: every pushed change id with the answer it got, written with its effect.
CREATE TABLE applied_changes (
    organization_id TEXT NOT NULL,
    change_id       TEXT NOT NULL,
    device_id       TEXT NOT NULL,
    outcome         TEXT NOT NULL,
    applied_at      TEXT NOT NULL,
    PRIMARY KEY (change_id, organization_id)
);

CREATE TABLE review_items (
    organization_id TEXT NOT NULL,
    id              TEXT NOT NULL,
    customer_a      TEXT NOT NULL,
    customer_b      TEXT NOT NULL,
    match_key       TEXT NOT NULL,
    status          TEXT NOT NULL DEFAULT 'open', -- open | merged | dismissed
    created_at      TEXT NOT NULL,
    resolved_at     TEXT,
    resolved_by     TEXT,
    PRIMARY KEY (organization_id, id)
);

-- What each merge folded into its survivor, so no pushed data is lost (DESIGN.md I2).
CREATE TABLE merge_log (
    organization_id TEXT NOT NULL,
    id              TEXT NOT NULL,
    target_id       TEXT NOT NULL,
    source_id       TEXT NOT NULL,
    change_id       TEXT,
    data            TEXT NOT NULL,
    merged_at       TEXT NOT NULL,
    merged_by       TEXT,
    PRIMARY KEY (organization_id, id)
);
