-- Keyset pagination of the lender API: each list is read in (time, id)
-- order within one lender, and an account's replies are listed for its
-- timeline.
CREATE INDEX reminders_lender_due ON reminders (lender, due_at, id);
CREATE INDEX attempts_lender_created ON attempts (lender, created_at, id);
CREATE INDEX promises_lender_created ON promises (lender, created_at, id);
CREATE INDEX replies_account ON replies (lender, account_id, created_at);
