-- The directory revision: one counter that every change to what a process holds in memory
-- (authorization servers with their policies, scopes and claims; apps and their secrets;
-- signing keys; trusted origins) bumps in the transaction that makes the change. Triggers do
-- it, so no write path can forget to; another process on the same file (the CLI, a second
-- server) learns of a change by polling the counter.
CREATE TABLE directory_revision (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    revision INTEGER NOT NULL
);
INSERT INTO directory_revision (id, revision) VALUES (1, 0);

CREATE TRIGGER authorization_servers_insert_directory_revision AFTER INSERT ON authorization_servers
BEGIN
    UPDATE directory_revision SET revision = revision + 1 WHERE id = 1;
END;

CREATE TRIGGER authorization_servers_update_directory_revision AFTER UPDATE ON authorization_servers
BEGIN
    UPDATE directory_revision SET revision = revision + 1 WHERE id = 1;
END;

CREATE TRIGGER authorization_servers_delete_directory_revision AFTER DELETE ON authorization_servers
BEGIN
    UPDATE directory_revision SET revision = revision + 1 WHERE id = 1;
END;

CREATE TRIGGER clients_insert_directory_revision AFTER INSERT ON clients
BEGIN
    UPDATE directory_revision SET revision = revision + 1 WHERE id = 1;
END;

CREATE TRIGGER clients_update_directory_revision AFTER UPDATE ON clients
BEGIN
    UPDATE directory_revision SET revision = revision + 1 WHERE id = 1;
END;

CREATE TRIGGER clients_delete_directory_revision AFTER DELETE ON clients
BEGIN
    UPDATE directory_revision SET revision = revision + 1 WHERE id = 1;
END;

CREATE TRIGGER client_secrets_insert_directory_revision AFTER INSERT ON client_secrets
BEGIN
    UPDATE directory_revision SET revision = revision + 1 WHERE id = 1;
END;

CREATE TRIGGER client_secrets_update_directory_revision AFTER UPDATE ON client_secrets
BEGIN
    UPDATE directory_revision SET revision = revision + 1 WHERE id = 1;
END;

CREATE TRIGGER client_secrets_delete_directory_revision AFTER DELETE ON client_secrets
BEGIN
    UPDATE directory_revision SET revision = revision + 1 WHERE id = 1;
END;

CREATE TRIGGER signing_keys_insert_directory_revision AFTER INSERT ON signing_keys
BEGIN
    UPDATE directory_revision SET revision = revision + 1 WHERE id = 1;
END;

CREATE TRIGGER signing_keys_update_directory_revision AFTER UPDATE ON signing_keys
BEGIN
    UPDATE directory_revision SET revision = revision + 1 WHERE id = 1;
END;

CREATE TRIGGER signing_keys_delete_directory_revision AFTER DELETE ON signing_keys
BEGIN
    UPDATE directory_revision SET revision = revision + 1 WHERE id = 1;
END;

CREATE TRIGGER trusted_origins_insert_directory_revision AFTER INSERT ON trusted_origins
BEGIN
    UPDATE directory_revision SET revision = revision + 1 WHERE id = 1;
END;

CREATE TRIGGER trusted_origins_update_directory_revision AFTER UPDATE ON trusted_origins
BEGIN
    UPDATE directory_revision SET revision = revision + 1 WHERE id = 1;
END;

CREATE TRIGGER trusted_origins_delete_directory_revision AFTER DELETE ON trusted_origins
BEGIN
    UPDATE directory_revision SET revision = revision + 1 WHERE id = 1;
END;
