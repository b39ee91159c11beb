-- events_lender_kind_at serves the reads that filter a lender's events by
-- kind and time: the console's decision lists and counts (decision and
-- enqueued events, store.decidedWhere) and the KPIs' opt-out and payment
-- reads. The attempt, callback and planned events that make up most of the
-- log are never read through it, yet each wrote an entry (#16: one index
-- entry fewer for most of a sent reminder's events and for every status
-- callback's). The kinds the readers name are literals in their SQL, so
-- PostgreSQL proves the predicate in generic plans as well as custom ones.
-- SQLite keeps the whole index: its planner uses a partial index only when
-- the query repeats the index's condition.
DROP INDEX IF EXISTS events_lender_kind_at;
CREATE INDEX events_lender_kind_at ON events (lender, kind, at)
  WHERE kind IN ('decision', 'enqueued', 'opt_out', 'payment');
