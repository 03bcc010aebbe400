-- One row that readiness checks write, so that a database that answers but cannot be written
-- (read-only, full, a standby) is reported as not ready.
CREATE TABLE health_checks (
    id BIGINT PRIMARY KEY,
    checked_at BIGINT NOT NULL
);
