-- Terminal store, version 1. Append-only: later changes go in new files.

CREATE TABLE sync_state (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE customers (
    seq             INTEGER PRIMARY KEY,          -- rowid, also the FTS row id
    id              TEXT NOT NULL UNIQUE,         -- UUIDv7, client-generated
    organization_id TEXT NOT NULL,
    branch_id       TEXT,
    first_name      TEXT NOT NULL,
    surname         TEXT NOT NULL,
    phone           TEXT,                         -- E.164, the phone match key
    email           TEXT,                         -- lower-cased, the email match key
    identification  TEXT,                         -- V-12345678 / J-12345678-9
    passport_number TEXT,                         -- upper-cased, no spaces or dashes
    date_of_birth   TEXT,                         -- YYYY-MM-DD
    address         TEXT,
    city            TEXT,
    notes           TEXT,
    source          TEXT NOT NULL,
    service_type    TEXT,
    is_active       INTEGER NOT NULL DEFAULT 1,
    last_activity   TEXT,                         -- RFC 3339, UTC, milliseconds
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL,
    merged_into     TEXT,                         -- set on a tombstone
    clocks          TEXT NOT NULL                 -- HLC of each field's last write (rows::encode_clocks)
);

-- Exact and prefix lookup by every identifier. Not unique on the terminal: pulled pages may
-- briefly hold a key twice until the remap that follows them is applied; the server's unique
-- indexes are the authority (DESIGN.md I1). Deliberately not partial (`WHERE x IS NOT NULL`):
-- with a partial index in the schema SQLite re-prepares every statement that binds a parameter
-- on each new binding, which made each keystroke's lookup about ten times slower.
-- No index on merged_into either: `merged_into IS NULL` holds for nearly every row, and an index
-- on it tempts the planner to scan customers and probe FTS row by row.
CREATE INDEX customers_phone ON customers(phone);
CREATE INDEX customers_email ON customers(email);
CREATE INDEX customers_identification ON customers(identification);
CREATE INDEX customers_passport ON customers(passport_number);
CREATE INDEX customers_created ON customers(created_at);

-- Names, accent- and case-insensitive, with prefix indexes for as-you-type search.
CREATE VIRTUAL TABLE customers_fts USING fts5(
    first_name, surname,
    content = 'customers', content_rowid = 'seq',
    tokenize = 'unicode61 remove_diacritics 2',
    prefix = '2 3'
);

CREATE TRIGGER customers_fts_insert AFTER INSERT ON customers BEGIN
    INSERT INTO customers_fts(rowid, first_name, surname) VALUES (new.seq, new.first_name, new.surname);
END;
CREATE TRIGGER customers_fts_delete AFTER DELETE ON customers BEGIN
    INSERT INTO customers_fts(customers_fts, rowid, first_name, surname) VALUES ('delete', old.seq, old.first_name, old.surname);
END;
CREATE TRIGGER customers_fts_update AFTER UPDATE OF first_name, surname ON customers BEGIN
    INSERT INTO customers_fts(customers_fts, rowid, first_name, surname) VALUES ('delete', old.seq, old.first_name, old.surname);
    INSERT INTO customers_fts(rowid, first_name, surname) VALUES (new.seq, new.first_name, new.surname);
END;

CREATE TABLE customer_preferences (
    customer_id TEXT PRIMARY KEY,
    data        TEXT NOT NULL,                    -- JSON of pos_core::Preferences
    clocks      TEXT NOT NULL DEFAULT '{}'
) WITHOUT ROWID;

CREATE TABLE sales (
    seq             INTEGER PRIMARY KEY,
    id              TEXT NOT NULL UNIQUE,
    organization_id TEXT NOT NULL,
    customer_id     TEXT NOT NULL,
    branch_id       TEXT,
    terminal_id     TEXT,
    lines           TEXT NOT NULL,                -- JSON array of pos_core::SaleLine
    total_minor     INTEGER NOT NULL,
    currency        TEXT NOT NULL,
    payment_method  TEXT NOT NULL,
    sold_at         TEXT NOT NULL
);
CREATE INDEX sales_customer ON sales(customer_id, sold_at);

-- Local changes waiting for the server, in the order they were made.
CREATE TABLE outbox (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    change_id  TEXT NOT NULL UNIQUE,
    entity     TEXT NOT NULL,                     -- customer | preferences | sale
    entity_id  TEXT NOT NULL,
    payload    TEXT NOT NULL,                     -- JSON of pos_core::wire::Change
    created_at TEXT NOT NULL,
    state      TEXT NOT NULL DEFAULT 'pending',   -- pending | rejected
    rejection  TEXT,                              -- JSON field errors when rejected
    attempts   INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX outbox_state ON outbox(state, seq);
