-- Sigil vault schema, version 1.
-- Shipped migrations are never edited; a change is a new numbered file.
-- Secret values appear only in secrets.sealed and wrapped_keys.wrapped, sealed as SECURITY.md says.

-- Facts about the vault: vault_id (32 hex digits, bound into every sealed blob), created_at,
-- master_key_kind ('key' or 'passphrase'), kdf (Argon2id parameters as JSON, passphrase vaults).
CREATE TABLE vault_meta (
    key   TEXT PRIMARY KEY NOT NULL,
    value TEXT NOT NULL
) WITHOUT ROWID;

-- Data and audit keys, each wrapped (sealed) under the master key. Blobs name their key by id.
CREATE TABLE wrapped_keys (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    purpose    TEXT NOT NULL CHECK (purpose IN ('data', 'audit')),
    state      TEXT NOT NULL CHECK (state IN ('active', 'retired')),
    wrapped    BLOB NOT NULL,
    created_at TEXT NOT NULL,
    wrapped_at TEXT NOT NULL
);
CREATE UNIQUE INDEX wrapped_keys_one_active ON wrapped_keys (purpose) WHERE state = 'active';

CREATE TABLE external_credentials (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    name           TEXT NOT NULL UNIQUE,
    protocol       TEXT NOT NULL CHECK (protocol IN ('oauth2', 'jwt', 'aws-sigv4', 'basic', 'custom', 'none')),
    parameters     TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(parameters)),
    custom_headers TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(custom_headers)),
    created_at     TEXT NOT NULL,
    updated_at     TEXT NOT NULL
);

CREATE TABLE principals (
    id                     INTEGER PRIMARY KEY AUTOINCREMENT,
    external_credential_id INTEGER NOT NULL REFERENCES external_credentials (id) ON DELETE CASCADE,
    name                   TEXT NOT NULL,
    type                   TEXT NOT NULL CHECK (type IN ('named', 'per-user')),
    sequence               INTEGER NOT NULL CHECK (sequence >= 1),
    parameters             TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(parameters)),
    created_at             TEXT NOT NULL,
    updated_at             TEXT NOT NULL,
    UNIQUE (external_credential_id, name)
);

CREATE TABLE named_credentials (
    id                            INTEGER PRIMARY KEY AUTOINCREMENT,
    name                          TEXT NOT NULL UNIQUE,
    url                           TEXT NOT NULL,
    external_credential_id        INTEGER NOT NULL REFERENCES external_credentials (id) ON DELETE RESTRICT,
    generate_authorization_header INTEGER NOT NULL CHECK (generate_authorization_header IN (0, 1)),
    allow_merge_fields_in_header  INTEGER NOT NULL CHECK (allow_merge_fields_in_header IN (0, 1)),
    allow_merge_fields_in_body    INTEGER NOT NULL CHECK (allow_merge_fields_in_body IN (0, 1)),
    custom_headers                TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(custom_headers)),
    client_certificate            TEXT,
    created_at                    TEXT NOT NULL,
    updated_at                    TEXT NOT NULL
);
CREATE INDEX named_credentials_external ON named_credentials (external_credential_id);

CREATE TABLE users (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    name       TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

CREATE TABLE groups (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    name       TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL
);

CREATE TABLE group_members (
    group_id INTEGER NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
    user_id  INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    PRIMARY KEY (group_id, user_id)
) WITHOUT ROWID;
CREATE INDEX group_members_user ON group_members (user_id);

-- Who may use a principal: a user or a group, never both in one row.
CREATE TABLE grants (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    principal_id INTEGER NOT NULL REFERENCES principals (id) ON DELETE CASCADE,
    user_id      INTEGER REFERENCES users (id) ON DELETE CASCADE,
    group_id     INTEGER REFERENCES groups (id) ON DELETE CASCADE,
    created_at   TEXT NOT NULL,
    CHECK ((user_id IS NULL) <> (group_id IS NULL))
);
CREATE UNIQUE INDEX grants_user ON grants (principal_id, user_id) WHERE user_id IS NOT NULL;
CREATE UNIQUE INDEX grants_group ON grants (principal_id, group_id) WHERE group_id IS NOT NULL;
CREATE INDEX grants_by_user ON grants (user_id);
CREATE INDEX grants_by_group ON grants (group_id);

-- One user's authorization of a per-user principal; its secrets (tokens, password) hang off it.
CREATE TABLE user_authorizations (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    principal_id INTEGER NOT NULL REFERENCES principals (id) ON DELETE CASCADE,
    user_id      INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    status       TEXT NOT NULL CHECK (status IN ('authorized', 'needs-reauthorization')),
    created_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL,
    UNIQUE (principal_id, user_id)
);
CREATE INDEX user_authorizations_user ON user_authorizations (user_id);

-- Versioned secret values. The owner is a principal, a user authorization or a named credential;
-- the sealed blob's additional data binds it to (owner_kind, owner_id, field, version), so a blob
-- moved to another row does not open. Each stage labels at most one version of a field.
CREATE TABLE secrets (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    owner_kind TEXT NOT NULL CHECK (owner_kind IN ('principal', 'authorization', 'named-credential')),
    owner_id   INTEGER NOT NULL,
    field      TEXT NOT NULL,
    version    INTEGER NOT NULL CHECK (version >= 1),
    stage      TEXT NOT NULL CHECK (stage IN ('current', 'pending', 'previous')),
    key_id     INTEGER NOT NULL REFERENCES wrapped_keys (id),
    sealed     BLOB NOT NULL,
    created_at TEXT NOT NULL,
    UNIQUE (owner_kind, owner_id, field, version),
    UNIQUE (owner_kind, owner_id, field, stage)
);
CREATE INDEX secrets_by_key ON secrets (key_id);

-- An owner's secrets go with it (triggers, since the owner column is polymorphic).
CREATE TRIGGER principals_delete_secrets AFTER DELETE ON principals BEGIN
    DELETE FROM secrets WHERE owner_kind = 'principal' AND owner_id = OLD.id;
END;
CREATE TRIGGER user_authorizations_delete_secrets AFTER DELETE ON user_authorizations BEGIN
    DELETE FROM secrets WHERE owner_kind = 'authorization' AND owner_id = OLD.id;
END;
CREATE TRIGGER named_credentials_delete_secrets AFTER DELETE ON named_credentials BEGIN
    DELETE FROM secrets WHERE owner_kind = 'named-credential' AND owner_id = OLD.id;
END;

-- Append-only audit log. mac = HMAC-SHA256(audit key, prev_mac || entry), so an edited, removed
-- or reordered entry breaks the chain (`sigil audit verify`). Never holds a secret value.
CREATE TABLE audit_log (
    seq      INTEGER PRIMARY KEY,
    at       TEXT NOT NULL,
    actor    TEXT NOT NULL,
    action   TEXT NOT NULL,
    target   TEXT NOT NULL,
    detail   TEXT NOT NULL DEFAULT '{}',
    key_id   INTEGER NOT NULL REFERENCES wrapped_keys (id),
    prev_mac BLOB NOT NULL,
    mac      BLOB NOT NULL
);
