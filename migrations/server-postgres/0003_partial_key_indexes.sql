-- Version 3 (PostgreSQL): the unique key indexes leave out rows without that key. Tombstones hold no
-- keys and most customers have no passport, so a push wrote an index entry for a NULL in about
-- four of ten key-index insertions. NULLs never collided, so DESIGN.md I1 is enforced exactly as
-- before; `phone IN (…)`, `phone = …` and `phone LIKE …` all imply `phone IS NOT NULL`, so
-- lookups still use these indexes. Rebuilding them holds a lock on customers for a few
-- seconds per million rows.
DROP INDEX customers_phone;
DROP INDEX customers_email;
DROP INDEX customers_identification;
DROP INDEX customers_passport;
CREATE UNIQUE INDEX customers_phone ON customers(phone, organization_id) WHERE phone IS NOT NULL;
CREATE UNIQUE INDEX customers_email ON customers(email, organization_id) WHERE email IS NOT NULL;
CREATE UNIQUE INDEX customers_identification ON customers(identification, organization_id)
    WHERE identification IS NOT NULL;
CREATE UNIQUE INDEX customers_passport ON customers(passport_number, organization_id)
    WHERE passport_number IS NOT NULL;
