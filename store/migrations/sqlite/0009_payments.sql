-- Payments on the borrower's page (#18): a lender's payment portal link, its
-- payment-plan rules and the secret its payment webhook is signed with; the
-- plan a promise belongs to; and the payments received, one row per payment
-- id of the lender (a repeated webhook finds its row and changes nothing).

-- payment_url is a template over {account}, {amount} and {currency}
-- (RFC 6570 level 1), validated where it is set; '' means none.
ALTER TABLE lenders ADD COLUMN payment_url TEXT NOT NULL DEFAULT '';
-- Plan rules: most instalments (0 or 1 offers no plan), smallest instalment
-- (a decimal amount, '' for none), days between instalments and the latest
-- instalment date, counted in days from the day the plan is made.
ALTER TABLE lenders ADD COLUMN plan_max_instalments INTEGER NOT NULL DEFAULT 0;
ALTER TABLE lenders ADD COLUMN plan_min_instalment TEXT NOT NULL DEFAULT '';
ALTER TABLE lenders ADD COLUMN plan_interval_days INTEGER NOT NULL DEFAULT 0;
ALTER TABLE lenders ADD COLUMN plan_max_days INTEGER NOT NULL DEFAULT 0;
-- The payment webhook's signing secret, sealed (AES-256-GCM under a key
-- derived from the deployment's secret, bound to the lender id); '' for none.
ALTER TABLE lenders ADD COLUMN payment_webhook_secret TEXT NOT NULL DEFAULT '';

-- The plan an instalment belongs to; '' for a single promise.
ALTER TABLE promises ADD COLUMN plan_id TEXT NOT NULL DEFAULT '';
CREATE INDEX promises_plan ON promises (lender, account_id, plan_id) WHERE plan_id <> '';

CREATE TABLE payments (
    lender      TEXT NOT NULL,
    id          TEXT NOT NULL,
    account_id  TEXT NOT NULL,
    amount      TEXT NOT NULL,
    currency    TEXT NOT NULL DEFAULT '',
    paid_at     INTEGER,
    source      TEXT NOT NULL DEFAULT '',
    received_at INTEGER NOT NULL,
    PRIMARY KEY (lender, id)
);
CREATE INDEX payments_account ON payments (lender, account_id);
