package store

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
)

// readQuery is one query of a read batch: its SQL (with ? marks), its
// arguments, and what to do with each row it returns.
type readQuery struct {
	sql  string
	args []any
	row  func(s interface{ Scan(...any) error }) error
}

// readBatch runs queries on the read pool in order. On PostgreSQL they go in
// one round trip: pgx pipelines a batch (every query is sent, then every
// result read) on one connection. On SQLite, whose queries are function calls,
// they run one after another. The queries see no common snapshot on
// PostgreSQL (each is its own statement under READ COMMITTED), as separate
// reads did before.
func (db *DB) readBatch(ctx context.Context, queries ...readQuery) error {
	if db.backend != Postgres {
		for _, q := range queries {
			if err := db.readEach(ctx, q); err != nil {
				return err
			}
		}
		return nil
	}
	conn, err := db.read.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	db.roundTrips.Add(1)
	return conn.Raw(func(driverConn any) error {
		sc, ok := driverConn.(*stdlib.Conn)
		if !ok {
			return fmt.Errorf("read batch: the PostgreSQL driver connection is a %T, not pgx's", driverConn)
		}
		var b pgx.Batch
		for _, q := range queries {
			b.Queue(db.rebind(q.sql), q.args...)
		}
		br := sc.Conn().SendBatch(ctx, &b)
		for _, q := range queries {
			if err := readRows(br, q); err != nil {
				_ = br.Close()
				return err
			}
		}
		return br.Close()
	})
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
	rows, err := db.query(ctx, db.read, q.sql, q.args...)
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
