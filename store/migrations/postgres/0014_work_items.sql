-- Work items (#21): what a cadence's task step hands to a person (a call
-- list entry, a field visit, a legal review, a letter). One per reminder.
CREATE TABLE work_items (
    id             TEXT PRIMARY KEY,
    lender         TEXT NOT NULL,
    account_id     TEXT NOT NULL,
    reminder_id    TEXT NOT NULL UNIQUE,
    cadence        TEXT NOT NULL DEFAULT '',
    step           TEXT NOT NULL DEFAULT '',
    kind           TEXT NOT NULL,
    instructions   TEXT NOT NULL DEFAULT '',
    channel        TEXT NOT NULL DEFAULT '',
    address        TEXT NOT NULL DEFAULT '',
    status         TEXT NOT NULL,
    assignee       TEXT NOT NULL DEFAULT '',
    outcome        TEXT NOT NULL DEFAULT '',
    note           TEXT NOT NULL DEFAULT '',
    promise_amount TEXT NOT NULL DEFAULT '',
    promise_due    DATE,
    created_at     TIMESTAMPTZ NOT NULL,
    assigned_at    TIMESTAMPTZ,
    completed_at   TIMESTAMPTZ
);
CREATE INDEX work_items_queue ON work_items (lender, kind, status, id);
CREATE INDEX work_items_account ON work_items (lender, account_id);
