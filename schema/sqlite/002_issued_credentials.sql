-- Sigil vault schema, version 2: credentials Sigil obtains from a provider.

-- What a provider issued for one principal and, for a per-user principal, one user: AWS STS
-- temporary credentials (AssumeRole), OAuth 2.0 access tokens. `sealed` holds the secret fields,
-- sealed like a secret and bound to (row id, kind, fence); `parameters_digest` is the SHA-256 of
-- the non-secret parameters the value was obtained with (role, scope...), so a value obtained
-- under an older configuration is never used.
--
-- The refresh lease lets one refresher at a time, in any process, ask the provider: `fence`
-- increases with every lease granted and is never reused. A value is written only under the
-- newest lease (`fence` unchanged since it was granted), so a slow refresher whose lease lapsed
-- cannot overwrite the value a newer one obtained. Times in `*_until`/`expires_at` are Unix seconds.
CREATE TABLE issued_credentials (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    principal_id      INTEGER NOT NULL REFERENCES principals (id) ON DELETE CASCADE,
    user_id           INTEGER REFERENCES users (id) ON DELETE CASCADE,
    kind              TEXT NOT NULL CHECK (kind IN ('aws-sts', 'oauth2')),
    parameters_digest TEXT,
    key_id            INTEGER REFERENCES wrapped_keys (id),
    sealed            BLOB,
    written_fence     INTEGER NOT NULL DEFAULT 0,
    obtained_at       TEXT,
    expires_at        INTEGER,
    fence             INTEGER NOT NULL DEFAULT 0,
    lease_holder      TEXT,
    lease_until       INTEGER,
    last_error        TEXT,
    last_error_at     TEXT,
    CHECK ((key_id IS NULL) = (sealed IS NULL))
);
CREATE UNIQUE INDEX issued_credentials_named ON issued_credentials (principal_id) WHERE user_id IS NULL;
CREATE UNIQUE INDEX issued_credentials_per_user ON issued_credentials (principal_id, user_id) WHERE user_id IS NOT NULL;
CREATE INDEX issued_credentials_by_key ON issued_credentials (key_id);

-- A user's issued credentials go with their authorization of the principal.
CREATE TRIGGER user_authorizations_delete_issued AFTER DELETE ON user_authorizations BEGIN
    DELETE FROM issued_credentials WHERE principal_id = OLD.principal_id AND user_id = OLD.user_id;
END;
