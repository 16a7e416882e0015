-- Sigil vault schema, version 7: one rotator at a time per owner of secrets, across processes.
--
-- `sigil serve` rotates due secrets by itself, and several processes (replicas, a `sigil rotate due
-- --run` from cron) may try the same owner at once. As with the refresh lease of 002, a lease is
-- granted to one holder until `lease_until` (Unix seconds), and `fence` increases with every grant
-- and is never reused: a rotation step taken under a lease checks, in its own transaction, that
-- `fence` is still the one it was granted, so a holder whose lease lapsed (a paused or stuck
-- process) cannot take a step after another holder took over. Bookkeeping, not catalog: no MAC.
CREATE TABLE rotation_leases (
    owner_kind   TEXT NOT NULL CHECK (owner_kind IN ('principal', 'authorization', 'named-credential')),
    owner_id     INTEGER NOT NULL,
    fence        INTEGER NOT NULL DEFAULT 0,
    lease_holder TEXT,
    lease_until  INTEGER,
    PRIMARY KEY (owner_kind, owner_id)
);

CREATE TRIGGER principals_delete_rotation_leases AFTER DELETE ON principals BEGIN
    DELETE FROM rotation_leases WHERE owner_kind = 'principal' AND owner_id = OLD.id;
END;
CREATE TRIGGER user_authorizations_delete_rotation_leases AFTER DELETE ON user_authorizations BEGIN
    DELETE FROM rotation_leases WHERE owner_kind = 'authorization' AND owner_id = OLD.id;
END;
CREATE TRIGGER named_credentials_delete_rotation_leases AFTER DELETE ON named_credentials BEGIN
    DELETE FROM rotation_leases WHERE owner_kind = 'named-credential' AND owner_id = OLD.id;
END;
