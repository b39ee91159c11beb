-- The two reminder indexes that lead with the status now hold only the
-- reminders their readers look for (#16). reminders_pending serves the
-- catch-up's read of open reminders due by a time (PendingReminders), in
-- the order it reads them; reminders_status_updated serves the reconciler's
-- read of unknown reminders and the dead letters' of failed ones, least or
-- most recently updated first. A reminder that is sent, suppressed,
-- expired or canceled (most of them) was written into both for nothing:
-- each move to such a status wrote two index entries no read used, and the
-- indexes grew with the whole history instead of with the open reminders.
-- The readers state the statuses as literals in their SQL, so PostgreSQL
-- proves the conditions in generic plans as well as custom ones. SQLite
-- keeps the whole indexes: its planner uses a partial index only when the
-- query repeats the index's condition.
DROP INDEX IF EXISTS reminders_pending;
CREATE INDEX reminders_pending ON reminders (next_at, id)
  WHERE status IN ('planned', 'queued', 'deferred');
DROP INDEX IF EXISTS reminders_status_updated;
CREATE INDEX reminders_status_updated ON reminders (status, updated_at, id)
  WHERE status IN ('unknown', 'failed');
