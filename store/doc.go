// Package store is Nudge's system of record over SQL. It implements
// nudge.Store on two backends chosen by URL: PostgreSQL through pgx for
// production (postgres://… or postgresql://…) and SQLite through the pure-Go
// modernc.org/sqlite driver as the embedded default (sqlite:///abs/path.db).
//
// The SQL is written once with ? placeholders and rebound for PostgreSQL;
// the few backend differences (column types, advisory locks, row locks) live
// in the dialect and in the per-backend migrations embedded under
// migrations/. Open never changes the schema: call (*DB).Migrate.
//
// Every stored time is UTC with microsecond precision (SQLite keeps unix
// microseconds in INTEGER columns, PostgreSQL uses timestamptz), so both
// backends order and compare times alike; a zero time.Time is stored as NULL.
// Dates are TEXT YYYY-MM-DD in SQLite and date in PostgreSQL.
//
// Writes that must be atomic across processes run in one transaction: SQLite
// writes go through a single connection that begins transactions with BEGIN
// IMMEDIATE, and PostgreSQL transactions take transaction-scoped advisory
// locks keyed by lender and account where a check precedes an insert.
package store
