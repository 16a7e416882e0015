-- Sigil vault schema, version 3: how a named credential trusts its server.

-- JSON {"caBundle": PEM text or absent, "pins": ["sha256/BASE64", ...]}: the CA certificates that
-- replace the system's roots for this endpoint, and optional SPKI pins (RFC 7469 form); NULL means
-- the system's roots and no pins. Not secret.
ALTER TABLE named_credentials ADD COLUMN trust TEXT CHECK (trust IS NULL OR json_valid(trust));
