-- Sigil vault schema, version 4: the catalog is authenticated.
--
-- Sealed blobs were already bound to their place; the rest of the catalog (endpoints, which external
-- credential a named credential uses, principals, grants, users, groups, authorizations, secret
-- stages) was plain columns that anyone able to write the file could change. Now every such row
-- carries `mac`: HMAC-SHA256 under the catalog key (derived from the audit key, which only the
-- master key unwraps) over the vault id, the table, the row's key and its authenticated columns.
-- `catalog_tables` holds, for each of those tables, a MAC over its row count and its rows' MACs in
-- key order, so a row added or removed without the key is found as well. SECURITY.md lists the
-- columns. Sigil computes the MACs of an existing vault when it applies this migration (it has the
-- key then), in the same transaction.
ALTER TABLE external_credentials ADD COLUMN mac BLOB;
ALTER TABLE principals ADD COLUMN mac BLOB;
ALTER TABLE named_credentials ADD COLUMN mac BLOB;
ALTER TABLE users ADD COLUMN mac BLOB;
ALTER TABLE groups ADD COLUMN mac BLOB;
ALTER TABLE group_members ADD COLUMN mac BLOB;
ALTER TABLE grants ADD COLUMN mac BLOB;
ALTER TABLE user_authorizations ADD COLUMN mac BLOB;
ALTER TABLE secrets ADD COLUMN mac BLOB;
-- An issued credential's row MAC binds its value to its principal and user (the sealed blob binds
-- only its row id); issued values are a cache, so the table has no row-set MAC.
ALTER TABLE issued_credentials ADD COLUMN mac BLOB;

CREATE TABLE catalog_tables (
    name      TEXT PRIMARY KEY NOT NULL,
    row_count INTEGER NOT NULL,
    mac       BLOB NOT NULL
) WITHOUT ROWID;
