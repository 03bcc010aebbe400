-- An app may hold two client secrets at once, so that a secret can be rolled over without an
-- outage (Okta's /apps/{id}/credentials/secrets). Each app's existing secret becomes its first.
CREATE TABLE client_secrets (
    id          TEXT PRIMARY KEY,
    client_id   TEXT NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
    secret_hash TEXT NOT NULL,
    status      TEXT NOT NULL CHECK (status IN ('ACTIVE', 'INACTIVE')),
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
);
CREATE INDEX client_secrets_client ON client_secrets (client_id, status);

INSERT INTO client_secrets (id, client_id, secret_hash, status, created_at, updated_at)
SELECT 'ocs' || substr(lower(hex(randomblob(9))), 1, 17), id, secret_hash, 'ACTIVE', updated_at,
       updated_at
FROM clients WHERE secret_hash IS NOT NULL;

ALTER TABLE clients DROP COLUMN secret_hash;
