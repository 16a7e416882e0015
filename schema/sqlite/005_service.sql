-- Sigil vault schema, version 5: who may call the service (`sigil serve`), and as what.
--
-- Every table here decides who may call or what a caller may do, so each row carries `mac` (as in
-- 004_catalog_macs: HMAC-SHA256 under the catalog key over the vault id, the table, the row's key
-- and its authenticated columns) and each table has a row-set MAC in `catalog_tables`.

-- A user's password for the service's Basic authentication: libsodium's crypto_pwhash_str string
-- (Argon2id, with its own salt and cost parameters). A hash, never sealed, never reversible.
CREATE TABLE user_passwords (
    user_id    INTEGER PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    hash       TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    mac        BLOB
);

-- API keys for applications (`Authorization: Bearer sigil_<key_id>_<secret>`). `key_id` is the
-- public half, used to find the row; `hash` is the SHA-256 of the whole key, which is shown once
-- and stored nowhere. `expires_at` is Unix seconds (NULL: never); a revoked key keeps its row.
CREATE TABLE api_keys (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    key_id     TEXT NOT NULL UNIQUE,
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    hash       BLOB NOT NULL,
    created_at TEXT NOT NULL,
    expires_at INTEGER,
    revoked_at TEXT,
    mac        BLOB
);
CREATE INDEX api_keys_user ON api_keys (user_id);

-- The roles of the apply file's `roles:`: a user or a group, never both in one row. `act_as` lets
-- an `app` sign as another user (`"as"`); it is 0 for every other role.
CREATE TABLE role_grants (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    role       TEXT NOT NULL CHECK (role IN ('admin', 'operator', 'app')),
    user_id    INTEGER REFERENCES users (id) ON DELETE CASCADE,
    group_id   INTEGER REFERENCES groups (id) ON DELETE CASCADE,
    act_as     INTEGER NOT NULL DEFAULT 0 CHECK (act_as IN (0, 1)),
    created_at TEXT NOT NULL,
    mac        BLOB,
    CHECK ((user_id IS NULL) <> (group_id IS NULL))
);
CREATE UNIQUE INDEX role_grants_user ON role_grants (role, user_id) WHERE user_id IS NOT NULL;
CREATE UNIQUE INDEX role_grants_group ON role_grants (role, group_id) WHERE group_id IS NOT NULL;

-- The apply file's `service:` settings (the inbound authenticators), as JSON. At most one row.
CREATE TABLE service_settings (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    settings   TEXT NOT NULL CHECK (json_valid(settings)),
    updated_at TEXT NOT NULL,
    mac        BLOB
);
