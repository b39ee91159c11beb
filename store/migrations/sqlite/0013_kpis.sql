-- KPIs (#19): what an attempt cost, and daily rollups of the KPI counters.

-- SMS segments the provider billed (its answer to the send) and call
-- seconds (the call's final status callback); 0 while unknown.
ALTER TABLE attempts ADD COLUMN segments INTEGER NOT NULL DEFAULT 0;
ALTER TABLE attempts ADD COLUMN call_seconds INTEGER NOT NULL DEFAULT 0;

-- One row per lender, UTC day of the attempts' creation (days since
-- 1970-01-01) and dimension values: the KPI counters of store.KPICounts,
-- recomputed by the rollup job (store.RollupKPIs). arm is 'none' until
-- experiments exist.
CREATE TABLE kpi_daily (
    lender          TEXT NOT NULL,
    day             INTEGER NOT NULL,
    cadence         TEXT NOT NULL,
    cadence_version INTEGER NOT NULL,
    step            TEXT NOT NULL,
    channel         TEXT NOT NULL,
    language        TEXT NOT NULL,
    arm             TEXT NOT NULL,
    sent            INTEGER NOT NULL DEFAULT 0,
    delivered       INTEGER NOT NULL DEFAULT 0,
    contactable     INTEGER NOT NULL DEFAULT 0,
    contacted       INTEGER NOT NULL DEFAULT 0,
    right_party     INTEGER NOT NULL DEFAULT 0,
    replied         INTEGER NOT NULL DEFAULT 0,
    promised        INTEGER NOT NULL DEFAULT 0,
    promise_kept    INTEGER NOT NULL DEFAULT 0,
    opted_out       INTEGER NOT NULL DEFAULT 0,
    complained      INTEGER NOT NULL DEFAULT 0,
    cycles          INTEGER NOT NULL DEFAULT 0,
    cured           INTEGER NOT NULL DEFAULT 0,
    roll1_base      INTEGER NOT NULL DEFAULT 0,
    roll1           INTEGER NOT NULL DEFAULT 0,
    roll2_base      INTEGER NOT NULL DEFAULT 0,
    roll2           INTEGER NOT NULL DEFAULT 0,
    segments        INTEGER NOT NULL DEFAULT 0,
    call_minutes    INTEGER NOT NULL DEFAULT 0,
    emails          INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (lender, day, cadence, cadence_version, step, channel, language, arm)
);

-- Per lender: the rollup covers the days before rolled_until (a day
-- number), computed with cure_days; a query for later days computes them
-- live.
CREATE TABLE kpi_rollups (
    lender       TEXT PRIMARY KEY,
    rolled_until INTEGER NOT NULL,
    cure_days    INTEGER NOT NULL,
    updated_at   INTEGER
);

-- The KPI computation looks up, for each attempt, the account's payments
-- and opt-outs in the days after it (its replies through replies_account).
-- These indexes are partial, so the events the send path appends
-- (decisions, attempts, callbacks) are not indexed by them.
CREATE INDEX events_payments ON events (lender, account_id, at) WHERE kind = 'payment';
CREATE INDEX events_opt_outs ON events (lender, account_id, at) WHERE kind = 'opt_out';
