package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"

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

// readQuery is one query of a read batch or of a pipelined write
// transaction: its SQL (with ? marks), its arguments, what to do with each
// row it returns (nil for a statement that returns none), and, in a write
// transaction, the name its error carries.
type readQuery struct {
	sql  string
	args []any
	row  func(s interface{ Scan(...any) error }) error
	name string
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
// each caller's error; queries of several callers with the same text go as
// one statement (planReads, readshare.go). A batch is one implicit
// transaction on the server, so a statement that fails aborts the ones after
// it: the caller whose query failed gets the error, and the queries after it
// that were handed no row are read again in a batch of their own, each
// caller's in its order (a shared statement that failed is read again query
// by query, to find whose it was). A caller handed part of a query's rows
// before its statement failed gets the error.
func (db *DB) sendReads(ctx context.Context, callers [][]readQuery) []error {
	return db.sendReadsSharing(ctx, callers, true)
}

func (db *DB) sendReadsSharing(ctx context.Context, callers [][]readQuery, share bool) []error {
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
	entries := planReads(callers, share)
	failed, failure := len(entries), error(nil)
	var handed []bool // the shared statement last read: which of its queries were handed a row
	err = conn.Raw(func(driverConn any) error {
		sc, ok := driverConn.(*stdlib.Conn)
		if !ok {
			return fmt.Errorf("read batch: the PostgreSQL driver connection is a %T, not pgx's", driverConn)
		}
		var b pgx.Batch
		for _, e := range entries {
			e.queue(db, &b, callers)
		}
		br := sc.Conn().SendBatch(ctx, &b)
		for k, e := range entries {
			if e.shared() {
				handed = make([]bool, len(e.refs))
			}
			if err := readEntryRows(br, callers, e, errs, handed); err != nil {
				failed, failure = k, err
				_ = br.Close()
				return nil //nolint:nilerr // the error is failure's, handled below
			}
		}
		return br.Close()
	})
	if err != nil && failed == len(entries) {
		// Every row was read but the batch did not end cleanly: report it
		// to every caller, as a failed commit would be.
		for i := range errs {
			errs[i] = err
		}
		return errs
	}
	if failed == len(entries) {
		return errs
	}
	// The statement entries[failed] failed: its query's caller gets the
	// error (or, when it was shared, each caller it handed a row); the
	// queries of that statement and of those after it whose callers have
	// no error are read again. A caller's queries are in entries of rising
	// index (planReads), so they are gathered in its order.
	f := entries[failed]
	for n, r := range f.refs {
		if (!f.shared() || handed[n]) && errs[r.caller] == nil {
			errs[r.caller] = failure
		}
	}
	rest := make([][]readQuery, len(callers))
	for _, e := range entries[failed:] {
		for _, r := range e.refs {
			if errs[r.caller] == nil {
				rest[r.caller] = append(rest[r.caller], callers[r.caller][r.query])
			}
		}
	}
	var again [][]readQuery
	var whose []int
	for i, qs := range rest {
		if len(qs) > 0 {
			again, whose = append(again, qs), append(whose, i)
		}
	}
	if len(again) > 0 {
		for n, err := range db.sendReadsSharing(ctx, again, share && !f.shared()) {
			errs[whose[n]] = err
		}
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
	if q.row == nil {
		// A statement run for its effect (a lock, an update): its rows, if
		// any, are read and dropped.
		for rows.Next() {
		}
		return nil
	}
	for rows.Next() {
		if err := q.row(rows); err != nil {
			return err
		}
	}
	return nil
}

// runIn runs one statement of a write transaction on tx (database/sql, one
// round trip), naming it in its error.
func (db *DB) runIn(ctx context.Context, tx *sql.Tx, q readQuery) error {
	var err error
	if q.row == nil {
		_, err = db.exec(ctx, tx, q.sql, q.args...)
	} else {
		err = db.readEachIn(ctx, tx, q)
	}
	if err != nil {
		return fmt.Errorf("%s: %w", q.name, err)
	}
	return nil
}

// pipeRollbackTimeout bounds the ROLLBACK a failed pipelined transaction
// sends, on a context of its own: the caller's may be what ended it.
const pipeRollbackTimeout = 5 * time.Second

// pipeTx is a write transaction on PostgreSQL whose statements go to the
// server in steps, each step one pgx batch (one round trip): BEGIN goes with
// the first step, COMMIT with the last. A transaction that reads, decides in
// Go, then writes so costs two round trips instead of one per statement plus
// begin and commit. The server runs a batch's statements one after another,
// as separate statements would be run, so locks are taken in the order they
// are queued. Use it through inPipeTx.
type pipeTx struct {
	db    *DB
	conn  *pgx.Conn
	begun bool
	// genericPlans sends pipeGenericPlans with BEGIN.
	genericPlans bool
}

// pipeGenericPlans goes with the BEGIN of a pipelined transaction whose
// every statement is a look-up or write by key over an index, with a plan
// that does not depend on the values (inPipeTx's generic): the server then plans
// each statement once per connection instead of on every run. A generic plan
// of = ANY or unnest over a parameter is costed for an array of unknown
// length, so under the default plan_cache_mode the plan cache keeps choosing
// custom plans, and planning was the largest part of the server's CPU per
// status callback (19%, perf of the backends in BenchmarkStatusCallback).
// SET LOCAL ends with the transaction.
const pipeGenericPlans = "SET LOCAL plan_cache_mode = force_generic_plan"

// inPipeTx runs a pipelined transaction on a connection of the write pool:
// fn sends the steps that read (tx.send) and returns the statements that
// write, which go in one last batch with COMMIT. When fn or any statement
// fails the transaction is rolled back: a failed statement makes the server
// skip the rest of its batch, COMMIT included, so nothing of the
// transaction is written. A statement's error names it.
//
// generic asks for generic plans (pipeGenericPlans), only for a transaction
// whose statements all read and write by key through an index whatever the
// values: the generic plan of a statement whose index is partial or whose
// best plan depends on its values could be far worse than a custom one (a
// lock by provider id whose = ANY could not prove the partial index's
// predicate read the attempts in id order, 8a70545).
func (db *DB) inPipeTx(ctx context.Context, generic bool, fn func(tx *pipeTx) ([]readQuery, error)) error {
	c, err := db.write.Conn(ctx)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer c.Close()
	return c.Raw(func(driverConn any) error {
		sc, ok := driverConn.(*stdlib.Conn)
		if !ok {
			return fmt.Errorf("write transaction: the PostgreSQL driver connection is a %T, not pgx's", driverConn)
		}
		tx := &pipeTx{db: db, conn: sc.Conn(), genericPlans: generic}
		last, err := fn(tx)
		if err == nil && (tx.begun || len(last) > 0) {
			err = tx.send(ctx, append(last, readQuery{sql: "COMMIT", name: "commit"})...)
		}
		if err != nil {
			tx.rollback(ctx)
		}
		return err
	})
}

// send runs qs in one round trip, after BEGIN when the transaction has not
// begun, and hands each query's rows to it in order. It stops at the first
// statement that fails and returns its error, named.
func (tx *pipeTx) send(ctx context.Context, qs ...readQuery) error {
	var b pgx.Batch
	begin := 0
	if !tx.begun {
		b.Queue("BEGIN")
		begin++
		if tx.genericPlans {
			b.Queue(pipeGenericPlans)
			begin++
		}
	}
	for _, q := range qs {
		b.Queue(tx.db.rebind(q.sql), q.args...)
	}
	tx.db.roundTrips.Add(1)
	br := tx.conn.SendBatch(ctx, &b)
	tx.begun = true
	for range begin {
		if _, err := br.Exec(); err != nil {
			_ = br.Close()
			return fmt.Errorf("begin: %w", err)
		}
	}
	for _, q := range qs {
		if err := readRows(br, q); err != nil {
			_ = br.Close()
			return fmt.Errorf("%s: %w", q.name, err)
		}
	}
	return br.Close()
}

// rollback ends a transaction that failed. When the server has already
// ended it (a failed COMMIT, or none begun) there is nothing to send; when
// the ROLLBACK itself fails the connection is closed, so that the pool
// never hands out one still inside a transaction.
func (tx *pipeTx) rollback(ctx context.Context) {
	if !tx.begun || tx.conn.IsClosed() || tx.conn.PgConn().TxStatus() == 'I' {
		return
	}
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), pipeRollbackTimeout)
	defer cancel()
	tx.db.roundTrips.Add(1)
	if _, err := tx.conn.Exec(rctx, "ROLLBACK"); err != nil {
		_ = tx.conn.Close(rctx)
	}
}
