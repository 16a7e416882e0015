-- Sigil vault schema, version 7: one rotator at a time per owner of secrets, across processes (PostgreSQL).
--
-- `sigil serve` rotates due secrets by itself, and several processes (replicas, a `sigil rotate due
-- --run` from cron) may try the same owner at once. As with the refresh lease of 002, a lease is
-- granted to one holder until `lease_until` (Unix seconds), and `fence` increases with every grant
-- and is never reused: a rotation step taken under a lease checks, in its own transaction, that
-- `fence` is still the one it was granted, so a holder whose lease lapsed (a paused or stuck
-- process) cannot take a step after another holder took over. Bookkeeping, not catalog: no MAC.
CREATE TABLE rotation_leases (
    owner_kind   TEXT COLLATE "C" NOT NULL CHECK (owner_kind IN ('principal', 'authorization', 'named-credential')),
    owner_id     BIGINT NOT NULL,
    fence        BIGINT NOT NULL DEFAULT 0,
    lease_holder TEXT COLLATE "C",
    lease_until  BIGINT,
    PRIMARY KEY (owner_kind, owner_id)
);

-- Each trigger runs the function of the same name.
CREATE FUNCTION principals_delete_rotation_leases() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM rotation_leases WHERE owner_kind = 'principal' AND owner_id = OLD.id;
    RETURN NULL;
END;
$$;
CREATE TRIGGER principals_delete_rotation_leases AFTER DELETE ON principals
    FOR EACH ROW EXECUTE FUNCTION principals_delete_rotation_leases();

CREATE FUNCTION user_authorizations_delete_rotation_leases() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM rotation_leases WHERE owner_kind = 'authorization' AND owner_id = OLD.id;
    RETURN NULL;
END;
$$;
CREATE TRIGGER user_authorizations_delete_rotation_leases AFTER DELETE ON user_authorizations
    FOR EACH ROW EXECUTE FUNCTION user_authorizations_delete_rotation_leases();

CREATE FUNCTION named_credentials_delete_rotation_leases() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM rotation_leases WHERE owner_kind = 'named-credential' AND owner_id = OLD.id;
    RETURN NULL;
END;
$$;
CREATE TRIGGER named_credentials_delete_rotation_leases AFTER DELETE ON named_credentials
    FOR EACH ROW EXECUTE FUNCTION named_credentials_delete_rotation_leases();
