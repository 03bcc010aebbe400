-- The directory revision: one counter that every change to what replicas hold in memory
-- (authorization servers with their policies, scopes and claims; apps and their secrets;
-- signing keys; trusted origins) bumps in the transaction that makes the change. A trigger does
-- it, so no write path can forget to. Replicas LISTEN on `authd_directory` for the new value
-- and poll the counter as a safety net.
CREATE TABLE directory_revision (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    revision BIGINT NOT NULL
);
INSERT INTO directory_revision (id, revision) VALUES (1, 0);

CREATE FUNCTION bump_directory_revision() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    bumped BIGINT;
BEGIN
    UPDATE directory_revision SET revision = revision + 1 WHERE id = 1
        RETURNING revision INTO bumped;
    PERFORM pg_notify('authd_directory', bumped::text);
    RETURN NULL;
END
$$;

-- Deferred to commit, so the counter's row lock is the last lock a transaction takes (it can
-- close no deadlock) and is held only while committing; it also orders revisions as commits.
CREATE CONSTRAINT TRIGGER authorization_servers_directory_revision
    AFTER INSERT OR UPDATE OR DELETE ON authorization_servers
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION bump_directory_revision();
CREATE CONSTRAINT TRIGGER clients_directory_revision
    AFTER INSERT OR UPDATE OR DELETE ON clients
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION bump_directory_revision();
CREATE CONSTRAINT TRIGGER client_secrets_directory_revision
    AFTER INSERT OR UPDATE OR DELETE ON client_secrets
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION bump_directory_revision();
CREATE CONSTRAINT TRIGGER signing_keys_directory_revision
    AFTER INSERT OR UPDATE OR DELETE ON signing_keys
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION bump_directory_revision();
CREATE CONSTRAINT TRIGGER trusted_origins_directory_revision
    AFTER INSERT OR UPDATE OR DELETE ON trusted_origins
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION bump_directory_revision();
