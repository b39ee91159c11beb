package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
)

// AutoAnalyze keeps the statistics of conn's PostgreSQL database fresh
// until the returned function is called, when the server's autovacuum is
// off (as on some test servers; with it on, or on any error reading the
// setting, it does nothing): every half second it analyzes each table that
// has changed by more than 50 rows plus its size at its last analysis. It is
// for benchmarks and drills, whose tables grow from empty within seconds: a
// run without it keeps, for its whole length, the sequential scans planned
// for the empty tables, and its look-ups grow with the tables. A plan made
// for a table stays right while the table is within a factor of two of the
// size it was planned for, so a table is analyzed once per doubling.
// Autovacuum's own threshold (50 rows plus a tenth of the table) suits
// production tables, which take hours to grow by a tenth; applied every half
// second to tables growing from empty it analyzed the same tables over and
// over, and ANALYZE took a third of PostgreSQL's CPU in the bench's dispatch
// run, a cost production does not pay per reminder. onError is told of a
// failed round (nil: ignored).
func AutoAnalyze(ctx context.Context, conn *sql.DB, onError func(error)) (stop func()) {
	if on, err := autovacuumOn(ctx, conn); err != nil || on {
		return func() {}
	}
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(500 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				if err := analyzeChanged(ctx, conn); err != nil && ctx.Err() == nil && onError != nil {
					onError(err)
				}
			}
		}
	}()
	return func() { cancel(); <-done }
}

// analyzeChanged analyzes the tables that changed by more than 50 rows plus
// their size at their last analysis.
func analyzeChanged(ctx context.Context, conn *sql.DB) error {
	rows, err := conn.QueryContext(ctx, `SELECT s.relname FROM pg_stat_user_tables s JOIN pg_class c ON c.oid = s.relid
WHERE s.n_mod_since_analyze > 50 + GREATEST(c.reltuples, 0)`)
	if err != nil {
		return err
	}
	var tables []string
	for rows.Next() {
		var t string
		if err := rows.Scan(&t); err != nil {
			rows.Close()
			return err
		}
		tables = append(tables, t)
	}
	if err := errors.Join(rows.Err(), rows.Close()); err != nil {
		return err
	}
	for _, t := range tables {
		if err := analyzeSampled(ctx, conn, t); err != nil {
			return err
		}
	}
	return nil
}

// autoAnalyzeTarget is the statistics target of AutoAnalyze's analyses: a
// sample of 3,000 rows (300 a unit) instead of the server's default 30,000.
// What a table growing from empty needs from each analysis is its size and
// its key columns' spread, which the smaller sample gives; with the
// default, the analyses of the attempts and events tables, a tenth of a
// second each and several a run, were about a twentieth of the bench's
// dispatch CPU, and took a ninth of that with this target.
const autoAnalyzeTarget = 10

// analyzeSampled analyzes table at autoAnalyzeTarget, in a transaction of
// its own so that the setting ends with it.
func analyzeSampled(ctx context.Context, conn *sql.DB, table string) error {
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, "SET LOCAL default_statistics_target = "+strconv.Itoa(autoAnalyzeTarget))
	if err == nil {
		_, err = tx.ExecContext(ctx, "ANALYZE "+pgx.Identifier{table}.Sanitize())
	}
	if err != nil {
		return errors.Join(fmt.Errorf("analyze %s: %w", table, err), tx.Rollback())
	}
	return tx.Commit()
}

// autovacuumOn reads the server's autovacuum setting.
func autovacuumOn(ctx context.Context, q querier) (bool, error) {
	var on string
	if err := q.QueryRowContext(ctx, "SHOW autovacuum").Scan(&on); err != nil {
		return false, fmt.Errorf("show autovacuum: %w", err)
	}
	return on == "on", nil
}

// AutovacuumOff says whether the store is on a PostgreSQL server whose
// autovacuum is off. Its statistics then go stale as the tables grow, and
// the planner keeps plans made for small tables: the bench measured
// look-ups 20 to 40 times slower (docs/operations.md). Always false on
// SQLite.
func (db *DB) AutovacuumOff(ctx context.Context) (bool, error) {
	if db.backend != Postgres {
		return false, nil
	}
	on, err := autovacuumOn(ctx, db.read)
	return !on && err == nil, err
}
