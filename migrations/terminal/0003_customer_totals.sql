-- The manager's totals (by source, branch and active flag) and the customer list's count read
-- this index alone instead of scanning every row: on a million customers 1.2 s -> 0.23 s and
-- 0.27 s -> 0.07 s. Live customers are those with merged_into NULL, hence its first column.
CREATE INDEX customers_totals ON customers(merged_into, source, branch_id, is_active);
