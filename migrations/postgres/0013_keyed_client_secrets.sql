-- Client secrets were kept as their bare SHA-256 digest (hex). They are now a keyed hash that
-- names its scheme; the digests of earlier versions are marked `sha256:` here and re-keyed
-- (`hmac-sha256:`) when the server starts, which needs the digest and AUTHD_SECRET_KEY but not
-- the secrets.
UPDATE client_secrets SET secret_hash = 'sha256:' || secret_hash WHERE secret_hash NOT LIKE '%:%';
