-- What `q` on the Users API matches: the login, first and last name and email, lowercased by
-- authd (Unicode, the same on both backends) and one per line, so that a search is a prefix
-- match at a line start. Rows from before are filled in when migrating.
ALTER TABLE users ADD COLUMN search_terms TEXT;
