-- A counter per user that every change to their groups bumps (a membership added or ended,
-- one of their groups renamed or deleted), so that a replica may keep a user's groups in
-- memory and tell from the user row, which every token request reads anyway, whether they are
-- still right. Triggers do it, so no write path can forget to.
ALTER TABLE users ADD COLUMN groups_revision BIGINT NOT NULL DEFAULT 0;

CREATE FUNCTION bump_member_groups_revision() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE users SET groups_revision = groups_revision + 1
        WHERE id = CASE WHEN TG_OP = 'DELETE' THEN OLD.user_id ELSE NEW.user_id END;
    RETURN NULL;
END
$$;

-- Deferred to commit: adding a member locks the group's row before the user's, as renaming
-- the group does, so the two cannot deadlock. Also fires when a group's deletion removes its
-- memberships.
CREATE CONSTRAINT TRIGGER group_members_groups_revision
    AFTER INSERT OR DELETE ON group_members
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION bump_member_groups_revision();

CREATE FUNCTION bump_renamed_group_members() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE users SET groups_revision = groups_revision + 1
        WHERE id IN (SELECT user_id FROM group_members WHERE group_id = NEW.id);
    RETURN NULL;
END
$$;

CREATE TRIGGER groups_rename_groups_revision AFTER UPDATE OF name ON groups
    FOR EACH ROW WHEN (OLD.name IS DISTINCT FROM NEW.name)
    EXECUTE FUNCTION bump_renamed_group_members();
