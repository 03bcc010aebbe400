-- A counter per user that every change to their groups bumps (a membership added or ended,
-- one of their groups renamed or deleted), so that a process may keep a user's groups in
-- memory and tell from the user row, which every token request reads anyway, whether they are
-- still right. Triggers do it, so no write path can forget to.
ALTER TABLE users ADD COLUMN groups_revision INTEGER NOT NULL DEFAULT 0;

CREATE TRIGGER group_members_insert_groups_revision AFTER INSERT ON group_members
BEGIN
    UPDATE users SET groups_revision = groups_revision + 1 WHERE id = NEW.user_id;
END;

-- Also when a group's deletion removes its memberships.
CREATE TRIGGER group_members_delete_groups_revision AFTER DELETE ON group_members
BEGIN
    UPDATE users SET groups_revision = groups_revision + 1 WHERE id = OLD.user_id;
END;

CREATE TRIGGER groups_rename_groups_revision AFTER UPDATE OF name ON groups
WHEN NEW.name IS NOT OLD.name
BEGIN
    UPDATE users SET groups_revision = groups_revision + 1
    WHERE id IN (SELECT user_id FROM group_members WHERE group_id = NEW.id);
END;
