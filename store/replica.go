package store

import (
	"context"
	"fmt"
	"net/url"
	"strings"
)

// WithReplica names a PostgreSQL read replica (a hot standby of the primary)
// that Open connects to beside the primary. Only read-only dashboard, list
// and export paths use it: the operator overview, funnel and lists, queue
// counts and dead letters. The send path, claims, read batches and anything
// that reads before it writes stay on the primary. A replica may be seconds
// behind: a just-sent attempt may not show on a dashboard yet. Its sessions
// are read-only (default_transaction_read_only), so a write sent there by
// mistake fails instead of diverging. An empty url means no replica.
func WithReplica(url string) Option {
	return func(db *DB) { db.replicaURL = url }
}

// CheckReplicaURL reports what is wrong with a replica URL: it must be a
// postgres:// or postgresql:// URL with a host and a database.
func CheckReplicaURL(raw string) error {
	if !strings.HasPrefix(raw, "postgres://") && !strings.HasPrefix(raw, "postgresql://") {
		return fmt.Errorf("replica URL %q: want postgres://user@host:5432/db (a read replica of a PostgreSQL primary)", redactURL(raw))
	}
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("replica URL: %w", err)
	}
	if u.Host == "" {
		return fmt.Errorf("replica URL %q: missing host", redactURL(raw))
	}
	if strings.Trim(u.Path, "/") == "" {
		return fmt.Errorf("replica URL %q: missing database name", redactURL(raw))
	}
	return nil
}

// openReplica opens the pool of db.replicaURL.
func (db *DB) openReplica() error {
	if db.backend != Postgres {
		return fmt.Errorf("open store: a read replica needs a PostgreSQL primary, not %s", db.backend)
	}
	if err := CheckReplicaURL(db.replicaURL); err != nil {
		return fmt.Errorf("open store: %w", err)
	}
	u, err := url.Parse(db.replicaURL)
	if err != nil {
		return fmt.Errorf("open store: replica URL: %w", err)
	}
	q := u.Query()
	q.Set("default_transaction_read_only", "on")
	u.RawQuery = q.Encode()
	r, err := openPostgres(u.String())
	if err != nil {
		return fmt.Errorf("open store replica %s: %w", redactURL(db.replicaURL), err)
	}
	db.replica = r.read
	return nil
}

// HasReplica reports whether the store reads dashboards through a replica.
func (db *DB) HasReplica() bool { return db.replica != nil }

// replicaOrRead is the pool read-only dashboard and list queries use: the
// replica when there is one, else the primary's read pool.
func (db *DB) replicaOrRead() querier {
	if db.replica != nil {
		return db.replica
	}
	return db.read
}

// eachOn runs query on q (a pool or a transaction) and hands every row's
// scan to fn.
func (db *DB) eachOn(ctx context.Context, q querier, what, query string, args []any, fn func(scan func(...any) error) error) error {
	rows, err := db.query(ctx, q, query, args...)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	defer rows.Close()
	for rows.Next() {
		if err := fn(rows.Scan); err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return nil
}
