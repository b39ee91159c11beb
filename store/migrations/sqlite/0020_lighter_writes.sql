-- Fewer index entries per dispatched reminder (#16). reminders_account
-- (lender, account_id) is a prefix of the reminders' natural key (lender,
-- account_id, cadence, step, cycle), whose unique index serves the same
-- look-ups. attempts_created (created_at) served only the listing of every
-- lender's attempts at once; lender-scoped reads use attempts_lender_created.
DROP INDEX IF EXISTS reminders_account;
DROP INDEX IF EXISTS attempts_created;
