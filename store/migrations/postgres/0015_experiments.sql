-- Champion/challenger experiments (#19): the arm of a cadence experiment
-- each account was assigned, once and for good, and the arm each reminder
-- was planned in ('' outside any experiment), which the KPIs group by.
CREATE TABLE experiment_arms (
    lender      TEXT NOT NULL,
    experiment  TEXT NOT NULL,
    account_id  TEXT NOT NULL,
    cadence     TEXT NOT NULL,
    arm         TEXT NOT NULL,
    assigned_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (lender, experiment, account_id)
);

ALTER TABLE reminders ADD COLUMN arm TEXT NOT NULL DEFAULT '';
