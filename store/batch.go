package store

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/nudgehq/nudge/groupcommit"
)

// WithReadBatching tunes how concurrent reads on PostgreSQL share round
// trips: the queries of every caller that reads while a batch is out go in
// the next one (cfg.Lanes batches at once, cfg.Max callers each, after
// cfg.Linger). The zero Config takes groupcommit's defaults; SQLite reads
// are not batched.
func WithReadBatching(cfg groupcommit.Config) Option {
	return func(db *DB) {
		if db.backend == Postgres {
			db.reads = groupcommit.New(db.sendReads, cfg)
		}
	}
}

// readQuery is one query of a read batch: its SQL (with ? marks), its
// arguments, and what to do with each row it returns.
type readQuery struct {
	sql  string
	args []any
	row  func(s interface{ Scan(...any) error }) error
}

// readBatch runs queries on the read pool in order. On PostgreSQL they go in
// one round trip, together with the queries of the other callers reading at
// the same moment (db.reads): pgx pipelines a batch (every query is sent,
// then every result read) on one connection. On SQLite, whose queries are
// function calls, they run one after another. The queries see no common
// snapshot on PostgreSQL (each is its own statement under READ COMMITTED),
// as separate reads did before.
func (db *DB) readBatch(ctx context.Context, queries ...readQuery) error {
	if db.backend != Postgres {
		for _, q := range queries {
			if err := db.readEach(ctx, q); err != nil {
				return err
			}
		}
		return nil
	}
	if db.reads == nil {
		return db.sendReads(ctx, [][]readQuery{queries})[0]
	}
	return db.reads.Do(ctx, queries)
}

// sendReads runs the queries of several callers in one pgx batch and returns
// each caller's error. A batch is one implicit transaction on the server, so
// a query that fails aborts the ones after it: the caller whose query failed
// gets the error, and the callers after it are read again in a batch of
// their own (none of their rows was handed to them yet).
func (db *DB) sendReads(ctx context.Context, callers [][]readQuery) []error {
	errs := make([]error, len(callers))
	conn, err := db.read.Conn(ctx)
	if err != nil {
		for i := range errs {
			errs[i] = err
		}
		return errs
	}
	defer conn.Close()
	db.roundTrips.Add(1)
	failed := len(callers)
	err = conn.Raw(func(driverConn any) error {
		sc, ok := driverConn.(*stdlib.Conn)
		if !ok {
			return fmt.Errorf("read batch: the PostgreSQL driver connection is a %T, not pgx's", driverConn)
		}
		var b pgx.Batch
		for _, qs := range callers {
			for _, q := range qs {
				b.Queue(db.rebind(q.sql), q.args...)
			}
		}
		br := sc.Conn().SendBatch(ctx, &b)
		for i, qs := range callers {
			for _, q := range qs {
				if err := readRows(br, q); err != nil {
					errs[i], failed = err, i
					_ = br.Close()
					return nil //nolint:nilerr // the error is caller i's (errs[i]); the callers after it read again
				}
			}
		}
		return br.Close()
	})
	if err != nil && failed == len(callers) {
		// Every row was read but the batch did not end cleanly: report it
		// to every caller, as a failed commit would be.
		for i := range errs {
			errs[i] = err
		}
		return errs
	}
	if rest := callers[min(failed+1, len(callers)):]; len(rest) > 0 {
		copy(errs[failed+1:], db.sendReads(ctx, rest))
	}
	return errs
}

// readRows reads the next result of br into q.
func readRows(br pgx.BatchResults, q readQuery) error {
	rows, err := br.Query()
	if err != nil {
		return err
	}
	defer rows.Close()
	if err := scanRows(rows, q); err != nil {
		return err
	}
	return rows.Err()
}

// readEach runs one query through database/sql.
func (db *DB) readEach(ctx context.Context, q readQuery) error {
	return db.readEachIn(ctx, db.read, q)
}

// readEachIn runs one query on qr (a pool or a transaction).
func (db *DB) readEachIn(ctx context.Context, qr querier, q readQuery) error {
	rows, err := db.query(ctx, qr, q.sql, q.args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	if err := scanRows(rows, q); err != nil {
		return err
	}
	return rows.Err()
}

// scanRows hands every row of rows (pgx's or database/sql's) to q; the
// caller checks rows.Err.
func scanRows(rows interface {
	Next() bool
	Scan(...any) error
}, q readQuery) error {
	for rows.Next() {
		if err := q.row(rows); err != nil {
			return err
		}
	}
	return nil
}
