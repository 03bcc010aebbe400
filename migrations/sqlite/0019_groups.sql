-- Okta's groups, their members, and app assignments. `Everyone` (BUILT_IN) is one row made
-- here with this installation's own id; its members are not stored, as every user is one.
CREATE TABLE groups (
    id                    TEXT PRIMARY KEY,
    kind                  TEXT NOT NULL,   -- OKTA_GROUP or BUILT_IN
    name                  TEXT NOT NULL,
    name_lower            TEXT NOT NULL UNIQUE,
    description           TEXT,
    created_at            INTEGER NOT NULL,
    updated_at            INTEGER NOT NULL,
    membership_updated_at INTEGER NOT NULL
);
CREATE UNIQUE INDEX groups_one_built_in ON groups (kind) WHERE kind = 'BUILT_IN';

CREATE TABLE group_members (
    group_id TEXT NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
    user_id  TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    added_at INTEGER NOT NULL,
    PRIMARY KEY (group_id, user_id)
);
CREATE INDEX group_members_user ON group_members (user_id, group_id);

CREATE TABLE app_user_assignments (
    app_id     TEXT NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    user_name  TEXT,
    profile    TEXT NOT NULL,   -- JSON object
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (app_id, user_id)
);
CREATE INDEX app_user_assignments_user ON app_user_assignments (user_id);

CREATE TABLE app_group_assignments (
    app_id     TEXT NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
    group_id   TEXT NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
    priority   INTEGER NOT NULL,
    profile    TEXT NOT NULL,   -- JSON object
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (app_id, group_id)
);
CREATE INDEX app_group_assignments_group ON app_group_assignments (group_id);

-- An app's groups claim in the org server's ID tokens (JSON), authd's own field.
ALTER TABLE clients ADD COLUMN groups_claim TEXT;

INSERT INTO groups (id, kind, name, name_lower, description, created_at, updated_at,
                    membership_updated_at)
VALUES ('00g' || substr(lower(hex(randomblob(9))), 1, 17), 'BUILT_IN', 'Everyone', 'everyone',
        'All users in your organization', unixepoch(), unixepoch(), unixepoch());

-- Apps made before assignments existed were open to every user: they stay so, through
-- Everyone. Apps made from now on are open to those assigned, as in Okta.
INSERT INTO app_group_assignments (app_id, group_id, priority, profile, updated_at)
SELECT c.id, g.id, 0, '{}', unixepoch() FROM clients c, groups g WHERE g.kind = 'BUILT_IN';
