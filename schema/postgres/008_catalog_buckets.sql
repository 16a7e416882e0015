-- Sigil vault schema, version 8: row sets authenticated in buckets, so that a request can check the
-- rows it reads without reading whole tables.
--
-- Until now `catalog_tables` held, for each authenticated table, one MAC over all of its rows' MACs:
-- checking that no row was added, removed or put back from an older copy meant reading every row
-- of the table, which a catalog of 100,000 authorized users makes slow. Now a table's rows fall
-- into buckets by an integer column (`value / 256`: the key's first column, at most 256 rows
-- each; `user_id` for group memberships, since one group may hold every user), each bucket
-- has a MAC over its row count and its rows' MACs in key order (here), and `catalog_tables` holds a
-- MAC over the table's row count and its buckets (number, row count, MAC) in order. A row read on
-- its own is checked with its bucket and its table's bucket list: a row put back from an older
-- copy, or a row removed from the bucket, fails. SECURITY.md ("Catalog authentication") has the
-- exact inputs. Sigil converts an existing vault's row-set MACs when it applies this migration (it
-- has the key then), table by table, only where the old MAC still authenticates: a table changed
-- without the key stays refused.
CREATE TABLE catalog_buckets (
    name      TEXT COLLATE "C" NOT NULL,
    bucket    BIGINT NOT NULL,
    row_count BIGINT NOT NULL,
    mac       BYTEA NOT NULL,
    PRIMARY KEY (name, bucket)
);
