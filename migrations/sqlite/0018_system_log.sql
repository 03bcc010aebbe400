-- The System Log: every event rendered once as Okta's LogEvent (JSON), with what queries select
-- and order it by. `seq` orders events published in the same millisecond as they were written.
CREATE TABLE system_log (
    seq          INTEGER PRIMARY KEY AUTOINCREMENT,
    published_ms INTEGER NOT NULL,
    event_type   TEXT NOT NULL,
    event        TEXT NOT NULL
);
CREATE INDEX system_log_published ON system_log (published_ms);
CREATE INDEX system_log_event_type ON system_log (event_type, seq);

-- The admin calls recorded before, in the new shape.
INSERT INTO system_log (published_ms, event_type, event)
SELECT published * 1000, event_type, json_object(
    'uuid', uuid,
    'published', strftime('%Y-%m-%dT%H:%M:%S.000Z', published, 'unixepoch'),
    'eventType', event_type,
    'version', '0',
    'severity', CASE outcome WHEN 'SUCCESS' THEN 'INFO' ELSE 'WARN' END,
    'displayMessage', display_message,
    'actor', json_object('id', actor_id, 'type', 'SystemPrincipal', 'alternateId', actor_name,
                         'displayName', actor_name),
    'client', json_object('ipAddress', client_ip, 'userAgent', NULL, 'zone', 'null'),
    'outcome', json_object('result', outcome, 'reason', NULL),
    'target', json(targets),
    'transaction', json_object('type', 'WEB', 'id', request_id),
    'authenticationContext', json_object('authenticationProvider', NULL,
                                         'credentialType', 'API_TOKEN',
                                         'externalSessionId', NULL),
    'debugContext', json_object('debugData', json_object()))
FROM audit_events ORDER BY published, uuid;
DROP TABLE audit_events;
