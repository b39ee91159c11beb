-- Send-time optimisation (#19): per account, channel and local hour of the
-- day (0-23, in the borrower's primary zone), how many contacts the
-- provider accepted (trials) and how many got a response within the settle
-- time (successes: a reply on the same channel other than an opt-out, wrong number or
-- complaint, an answered call, a promise). portfolio, language and zone
-- are the account's when it was counted: the optimiser pools the counts of
-- similar borrowers over them.
CREATE TABLE send_time_counts (
    lender     TEXT NOT NULL,
    account_id TEXT NOT NULL,
    channel    TEXT NOT NULL,
    hour       INTEGER NOT NULL,
    portfolio  TEXT NOT NULL DEFAULT '',
    language   TEXT NOT NULL DEFAULT '',
    zone       TEXT NOT NULL DEFAULT '',
    trials     INTEGER NOT NULL DEFAULT 0,
    successes  INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (lender, account_id, channel, hour)
);

-- Per lender: the contacts created before rolled_until are in
-- send_time_counts (store.RollupSendTimes moves it forward).
CREATE TABLE send_time_rollups (
    lender       TEXT PRIMARY KEY,
    rolled_until TIMESTAMPTZ NOT NULL
);
