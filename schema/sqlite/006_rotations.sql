-- Sigil vault schema, version 6: rotations of secrets (`sigil rotate`) and their policies, in the shape
-- AWS Secrets Manager made familiar: start (a new value becomes `pending`), test (the pending value used for real),
-- finish (pending becomes `current`, current `previous`, in one transaction), roll back, clean up.
--
-- One row per owner of secrets: its latest rotation and the step it has reached, so that a rotation
-- interrupted at any point is resumed by running the next step. The row decides which value becomes
-- current and when the previous one may be deleted, so it carries `mac` (as in 004_catalog_macs) and
-- the table a row-set MAC in `catalog_tables`.
CREATE TABLE rotations (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    owner_kind  TEXT NOT NULL CHECK (owner_kind IN ('principal', 'authorization', 'named-credential')),
    owner_id    INTEGER NOT NULL,
    -- The secret fields rotated together, as a JSON array of names (sorted).
    fields      TEXT NOT NULL,
    -- How the new value was made: `supplied` (by the operator), `generated` (by Sigil).
    rotator     TEXT NOT NULL,
    step        TEXT NOT NULL CHECK (step IN ('started', 'tested', 'finished', 'rolled-back', 'cleaned')),
    started_at  TEXT NOT NULL,
    tested_at   TEXT,
    finished_at TEXT,
    updated_at  TEXT NOT NULL,
    -- Why the last test failed (never a secret), cleared by a test that passes.
    last_error  TEXT,
    mac         BLOB,
    UNIQUE (owner_kind, owner_id)
);

-- A rotation goes with its owner (as the owner's secrets do).
CREATE TRIGGER principals_delete_rotations AFTER DELETE ON principals BEGIN
    DELETE FROM rotations WHERE owner_kind = 'principal' AND owner_id = OLD.id;
END;
CREATE TRIGGER user_authorizations_delete_rotations AFTER DELETE ON user_authorizations BEGIN
    DELETE FROM rotations WHERE owner_kind = 'authorization' AND owner_id = OLD.id;
END;
CREATE TRIGGER named_credentials_delete_rotations AFTER DELETE ON named_credentials BEGIN
    DELETE FROM rotations WHERE owner_kind = 'named-credential' AND owner_id = OLD.id;
END;

-- The apply file's `rotation:` policies (RotationPolicy as JSON, sorted keys), on an external
-- credential (its principals inherit it) or on one principal. A policy decides when a secret is
-- rotated and how, so its row carries `mac` and the table a row-set MAC.
CREATE TABLE rotation_policies (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    owner_kind TEXT NOT NULL CHECK (owner_kind IN ('external-credential', 'principal')),
    owner_id   INTEGER NOT NULL,
    policy     TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    mac        BLOB,
    UNIQUE (owner_kind, owner_id)
);
CREATE TRIGGER external_credentials_delete_rotation_policies AFTER DELETE ON external_credentials BEGIN
    DELETE FROM rotation_policies WHERE owner_kind = 'external-credential' AND owner_id = OLD.id;
END;
CREATE TRIGGER principals_delete_rotation_policies AFTER DELETE ON principals BEGIN
    DELETE FROM rotation_policies WHERE owner_kind = 'principal' AND owner_id = OLD.id;
END;

-- When an issued credential's refresh token expires, when its provider says so (a token response's
-- `refresh_token_expires_in`, which RFC 6749 does not define but several providers send), in Unix
-- seconds: the expiry calendar's "connect again by" date. Bookkeeping, like `expires_at`.
ALTER TABLE issued_credentials ADD COLUMN refresh_expires_at INTEGER;
