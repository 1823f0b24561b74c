-- Version 2 (SQLite): columns the customer REST API filters, searches and orders by, copied from `data`
-- on every write (the record stays the source of truth). Existing rows are filled by the server
-- in the same transaction that applies this file (names need the accent folding of pos-core).
ALTER TABLE customers ADD COLUMN search_name TEXT;    -- folded "first_name surname"
ALTER TABLE customers ADD COLUMN sort_surname TEXT;   -- folded "surname first_name"
ALTER TABLE customers ADD COLUMN source TEXT;
ALTER TABLE customers ADD COLUMN branch_id TEXT;
ALTER TABLE customers ADD COLUMN city TEXT;           -- folded
ALTER TABLE customers ADD COLUMN updated_at TEXT;
ALTER TABLE customers ADD COLUMN last_activity TEXT;
CREATE INDEX customers_created ON customers(organization_id, created_at);

-- Open review items per organisation; sales in a time window (auto-collection).
CREATE INDEX review_items_status ON review_items(organization_id, status);
CREATE INDEX sales_sold_at ON sales(organization_id, sold_at);
