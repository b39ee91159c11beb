-- An account's attempts and promises in (created_at, id) order, as the
-- dispatcher's account snapshot reads them for every reminder it sends
-- (store.AccountSnapshot: the history window and the active promise).
-- Without statistics (the store never runs ANALYZE) SQLite read them
-- through the lender's keyset indexes of 0003, which give that order
-- without a sort, and so visited every attempt the lender made in the
-- history window, each one's row fetched to test its account: a send's
-- cost grew with the lender's traffic (the dispatch bench fell from 323
-- reminders/s at 3,000 reminders to 104/s at 20,000). The account indexes
-- now end with the order, so the look-up is an equality on the account
-- followed by a range in order. PostgreSQL keeps its indexes: with
-- statistics it reads by account and sorts the few rows.
DROP INDEX IF EXISTS attempts_account;
CREATE INDEX attempts_account ON attempts (lender, account_id, created_at, id);
DROP INDEX IF EXISTS promises_account;
CREATE INDEX promises_account ON promises (lender, account_id, created_at, id);
