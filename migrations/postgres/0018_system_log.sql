-- The System Log: every event rendered once as Okta's LogEvent (JSON), with what queries select
-- and order it by. `seq` orders events published in the same millisecond as they were written.
CREATE TABLE system_log (
    seq          BIGSERIAL PRIMARY KEY,
    published_ms BIGINT NOT NULL,
    event_type   TEXT NOT NULL,
    event        TEXT NOT NULL
);
CREATE INDEX system_log_published ON system_log (published_ms);
CREATE INDEX system_log_event_type ON system_log (event_type, seq);

-- The admin calls recorded before, in the new shape.
INSERT INTO system_log (published_ms, event_type, event)
SELECT published * 1000, event_type, json_build_object(
    'uuid', uuid,
    'published', to_char(to_timestamp(published) AT TIME ZONE 'UTC',
                         'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
    'eventType', event_type,
    'version', '0',
    'severity', CASE outcome WHEN 'SUCCESS' THEN 'INFO' ELSE 'WARN' END,
    'displayMessage', display_message,
    'actor', json_build_object('id', actor_id, 'type', 'SystemPrincipal',
                               'alternateId', actor_name, 'displayName', actor_name),
    'client', json_build_object('ipAddress', client_ip, 'userAgent', NULL, 'zone', 'null'),
    'outcome', json_build_object('result', outcome, 'reason', NULL),
    'target', targets::json,
    'transaction', json_build_object('type', 'WEB', 'id', request_id),
    'authenticationContext', json_build_object('authenticationProvider', NULL,
                                               'credentialType', 'API_TOKEN',
                                               'externalSessionId', NULL),
    'debugContext', json_build_object('debugData', json_build_object()))::text
FROM audit_events ORDER BY published, uuid;
DROP TABLE audit_events;
