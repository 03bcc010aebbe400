-- What the seed file last said about each object it names, as a keyed digest, so that applying
-- an unchanged entry again leaves the object alone (a password changed at sign-in survives a
-- restart) while a changed entry updates it.
CREATE TABLE seed_entries (
    kind   TEXT NOT NULL,
    key    TEXT NOT NULL,
    digest TEXT NOT NULL,
    PRIMARY KEY (kind, key)
);
