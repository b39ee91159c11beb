-- The operator console (#18): what each attempt said, a work queue for the
-- replies that need a person, and indexes for searching and listing.

-- Which template rendered the attempt's body: name, pack locale and a hash
-- of the template's source ("due_sms@es:3f2a9c1b04de"). The body itself is
-- attempts.body (0004), erased with the borrower; this names no one.
ALTER TABLE attempts ADD COLUMN template TEXT NOT NULL DEFAULT '';

-- Replies needing a person are worked as a queue: assigned to an operator
-- (the key id), then resolved with a note. Resolved replies leave the queue;
-- the audit log keeps both actions. The note is free text about the
-- borrower and is erased with them.
ALTER TABLE replies ADD COLUMN assignee TEXT NOT NULL DEFAULT '';
ALTER TABLE replies ADD COLUMN assigned_at TIMESTAMPTZ;
ALTER TABLE replies ADD COLUMN resolved_by TEXT NOT NULL DEFAULT '';
ALTER TABLE replies ADD COLUMN resolved_at TIMESTAMPTZ;
ALTER TABLE replies ADD COLUMN resolution TEXT NOT NULL DEFAULT '';
CREATE INDEX replies_open ON replies (lender, created_at, id) WHERE needs_person AND resolved_at IS NULL;

-- Search by account id in any case.
CREATE INDEX accounts_lower_id ON accounts (lender, LOWER(id));
-- Lists of deferred and suppressed reminders, and of opt-outs, by time.
CREATE INDEX events_lender_kind_at ON events (lender, kind, at);
CREATE INDEX opt_outs_lender_created ON opt_outs (lender, created_at);
