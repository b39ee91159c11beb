package store

import (
	"context"
	"database/sql"
	"errors"
	"strings"
)

// PipeWrite runs a pipelined write transaction (PostgreSQL): the statements
// of first in one step, then, unless fail is set (fn's own error), those of
// last with COMMIT. A statement named "name: SQL" carries that name.
func (db *DB) PipeWrite(ctx context.Context, first, last []string, fail error) error {
	toQueries := func(stmts []string) []readQuery {
		var qs []readQuery
		for _, s := range stmts {
			name, q, _ := strings.Cut(s, ": ")
			qs = append(qs, readQuery{name: name, sql: q})
		}
		return qs
	}
	return db.inPipeTx(ctx, false, func(tx *pipeTx) ([]readQuery, error) {
		if err := tx.send(ctx, toQueries(first)...); err != nil {
			return nil, err
		}
		if fail != nil {
			return nil, fail
		}
		return toQueries(last), nil
	})
}

// ExecWrite runs one statement on the write pool, outside the store's API.
func (db *DB) ExecWrite(ctx context.Context, q string) error {
	_, err := db.write.ExecContext(ctx, q)
	return err
}

// CountRows returns the single integer q reads.
func (db *DB) CountRows(ctx context.Context, q string) (int, error) {
	var n int
	err := db.read.QueryRowContext(ctx, q).Scan(&n)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	return n, err
}
