-- KPI rollups by the hour (#19): kpi_daily holds, besides the closed days,
-- the closed hours of the current day, so a query computes at most the
-- hours since the last rollup pass from the ledger.

-- The rollup covers the attempts created before rolled_hour (hours since
-- 1970-01-01 UTC): every day before its day, and its day up to that hour.
-- rolled_until now is the day of the last pass that recomputed the settle
-- window (store.KPISettleDays before it), which runs once a UTC day.
ALTER TABLE kpi_rollups ADD COLUMN rolled_hour BIGINT NOT NULL DEFAULT 0;
UPDATE kpi_rollups SET rolled_hour = rolled_until * 24;
