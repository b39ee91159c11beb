package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"

	// The pgx database/sql driver, registered as "pgx".
	_ "github.com/jackc/pgx/v5/stdlib"
	// The pure-Go SQLite driver, registered as "sqlite".
	_ "modernc.org/sqlite"

	"github.com/nudgehq/nudge"
	"github.com/nudgehq/nudge/groupcommit"
)

// Backend names the SQL engine behind a DB.
type Backend string

// The supported backends.
const (
	SQLite   Backend = "sqlite"
	Postgres Backend = "postgres"
)

// DefaultPostgresMaxConns is the connection pool size used for PostgreSQL
// unless the URL sets pool_max_conns.
const DefaultPostgresMaxConns = 10

// SQLiteBusyTimeout is the busy_timeout, in milliseconds, set on every SQLite
// connection: how long a writer waits for another process's write lock.
const SQLiteBusyTimeout = 10000

// DB is the SQL system of record. It implements nudge.Store and is safe for
// concurrent use.
type DB struct {
	backend Backend
	// read serves queries outside write transactions.
	read *sql.DB
	// write serves writes. For SQLite it holds one connection whose
	// transactions begin with BEGIN IMMEDIATE; for PostgreSQL it is read.
	write *sql.DB
	// addrKey keys opt-out address hashes (see WithSecret).
	addrKey []byte
	// secret reports whether the store has the deployment's secret (and
	// addrKey); without it opt-out hashes are plain.
	secret bool
	// reads lets concurrent read batches share one round trip on
	// PostgreSQL (see WithReadBatching).
	reads *groupcommit.Group[[]readQuery, error]
	// links lets concurrent IssueLink calls share one transaction.
	links *groupcommit.Group[linkIssue, linkIssued]
	// nextLinkPurge is when (Unix nanoseconds of issue time) issuing
	// links next deletes expired ones; 0: at the next issue.
	nextLinkPurge atomic.Int64
	// replicaURL is the read replica WithReplica names; replica is its pool,
	// read only by dashboards, ops lists and exports (see replicaOrRead).
	replicaURL string
	replica    *sql.DB

	rowsRead atomic.Int64
	// roundTrips counts the statements, batches and transaction boundaries
	// sent through the store's helpers (see RoundTrips).
	roundTrips atomic.Int64
	// sharedReads counts the queries of read batches answered by a
	// statement shared with other callers' (readshare.go).
	sharedReads atomic.Int64
	// afterKPIChunk, when set (by tests), runs after each committed chunk
	// of a KPI rollup pass.
	afterKPIChunk func()
}

var _ nudge.Store = (*DB)(nil)

// Open connects to the database named by rawURL without changing its schema;
// call Migrate before use. Accepted forms:
//
//	sqlite:///abs/path/nudge.db   (also sqlite:relative.db, file:/abs/path.db)
//	sqlite::memory:               (one private in-memory database)
//	postgres://user@host:5432/db?sslmode=disable   (also postgresql://)
//
// A PostgreSQL URL may carry pool_max_conns=N to size the connection pool
// (DefaultPostgresMaxConns otherwise). Open pings the database. Options
// (WithSecret) tune the store.
func Open(ctx context.Context, rawURL string, opts ...Option) (*DB, error) {
	var (
		db  *DB
		err error
	)
	switch {
	case strings.HasPrefix(rawURL, "postgres://"), strings.HasPrefix(rawURL, "postgresql://"):
		db, err = openPostgres(rawURL)
	case strings.HasPrefix(rawURL, "sqlite:"), strings.HasPrefix(rawURL, "file:"):
		db, err = openSQLite(rawURL)
	default:
		return nil, fmt.Errorf("open store: unsupported database URL scheme in %q (want sqlite:///path or postgres://…)", redactURL(rawURL))
	}
	if err != nil {
		return nil, fmt.Errorf("open store %s: %w", redactURL(rawURL), err)
	}
	if db.backend == Postgres {
		db.reads = groupcommit.New(db.sendReads, groupcommit.Config{})
	}
	db.links = groupcommit.New(db.issueLinks, groupcommit.Config{})
	for _, o := range opts {
		o(db)
	}
	if db.replicaURL != "" {
		if err := db.openReplica(); err != nil {
			_ = db.Close()
			return nil, err
		}
	}
	if err := db.Ping(ctx); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("open store %s: %w", redactURL(rawURL), err)
	}
	return db, nil
}

// SQLitePath returns the file path named by a sqlite: or file: URL, or
// ":memory:" for an in-memory database.
func SQLitePath(rawURL string) (string, error) {
	rest, ok := strings.CutPrefix(rawURL, "sqlite:")
	if !ok {
		rest, ok = strings.CutPrefix(rawURL, "file:")
	}
	if !ok {
		return "", fmt.Errorf("sqlite URL %q: want the sqlite: or file: scheme", rawURL)
	}
	if i := strings.IndexByte(rest, '?'); i >= 0 {
		return "", fmt.Errorf("sqlite URL %q: query parameters are not supported (the store sets its own pragmas)", rawURL)
	}
	switch {
	case rest == ":memory:" || rest == "//:memory:":
		return ":memory:", nil
	case strings.HasPrefix(rest, "///"):
		rest = rest[2:]
	case strings.HasPrefix(rest, "//"):
		// sqlite://relative/path or sqlite://localhost/abs/path.
		host, path, _ := strings.Cut(rest[2:], "/")
		if host == "localhost" {
			rest = "/" + path
		} else {
			rest = rest[2:]
		}
	}
	p, err := url.PathUnescape(rest)
	if err != nil {
		return "", fmt.Errorf("sqlite URL %q: %w", rawURL, err)
	}
	if p == "" {
		return "", fmt.Errorf("sqlite URL %q: missing database path", rawURL)
	}
	return p, nil
}

func sqliteDSN(path string, immediate bool) string {
	q := url.Values{}
	q.Add("_pragma", "busy_timeout("+strconv.Itoa(SQLiteBusyTimeout)+")")
	q.Add("_pragma", "foreign_keys(1)")
	if path != ":memory:" {
		q.Add("_pragma", "journal_mode(WAL)")
		q.Add("_pragma", "synchronous(NORMAL)")
	}
	if immediate {
		q.Set("_txlock", "immediate")
	}
	return "file:" + path + "?" + q.Encode()
}

func openSQLite(rawURL string) (*DB, error) {
	path, err := SQLitePath(rawURL)
	if err != nil {
		return nil, err
	}
	if path == ":memory:" {
		// One connection serves reads and writes: every connection to
		// :memory: would otherwise be a different database.
		w, err := sql.Open("sqlite", sqliteDSN(path, true))
		if err != nil {
			return nil, err
		}
		w.SetMaxOpenConns(1)
		w.SetMaxIdleConns(1)
		w.SetConnMaxLifetime(0)
		w.SetConnMaxIdleTime(0)
		return &DB{backend: SQLite, read: w, write: w}, nil
	}
	w, err := sql.Open("sqlite", sqliteDSN(path, true))
	if err != nil {
		return nil, err
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	r, err := sql.Open("sqlite", sqliteDSN(path, false))
	if err != nil {
		_ = w.Close()
		return nil, err
	}
	r.SetMaxOpenConns(8)
	r.SetMaxIdleConns(8)
	return &DB{backend: SQLite, read: r, write: w}, nil
}

func openPostgres(rawURL string) (*DB, error) {
	driverURL, maxConns, err := postgresURL(rawURL)
	if err != nil {
		return nil, err
	}
	p, err := sql.Open("pgx", driverURL)
	if err != nil {
		return nil, err
	}
	p.SetMaxOpenConns(maxConns)
	p.SetMaxIdleConns(maxConns)
	return &DB{backend: Postgres, read: p, write: p}, nil
}

// redactURL hides the password of a database URL for error messages.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.User == nil {
		return raw
	}
	return u.Redacted()
}

// Backend reports which SQL engine the DB uses.
func (db *DB) Backend() Backend { return db.backend }

// RowsRead reports how many account rows the DB has read since Open, across
// GetAccount, DueAccounts and AccountsByAddress. Tests use it to check that
// planning reads only what is due.
func (db *DB) RowsRead() int64 { return db.rowsRead.Load() }

// RoundTrips returns how many round trips to the database the store has made:
// each statement, each read batch (one on PostgreSQL however many queries
// it holds), and each transaction's begin and commit. The benchmark reports
// it per reminder.
func (db *DB) RoundTrips() int64 { return db.roundTrips.Load() }

// Ping checks that the database answers.
func (db *DB) Ping(ctx context.Context) error {
	if err := db.read.PingContext(ctx); err != nil {
		return fmt.Errorf("ping %s: %w", db.backend, err)
	}
	if db.write != db.read {
		if err := db.write.PingContext(ctx); err != nil {
			return fmt.Errorf("ping %s writer: %w", db.backend, err)
		}
	}
	if db.replica != nil {
		if err := db.replica.PingContext(ctx); err != nil {
			return fmt.Errorf("ping %s replica %s: %w", db.backend, redactURL(db.replicaURL), err)
		}
	}
	return nil
}

// Close closes every connection.
func (db *DB) Close() error {
	err := db.read.Close()
	if db.write != db.read {
		err = errors.Join(err, db.write.Close())
	}
	if db.replica != nil {
		err = errors.Join(err, db.replica.Close())
	}
	return err
}

// inTx runs fn in a write transaction and commits when fn returns nil.
func (db *DB) inTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	db.roundTrips.Add(2) // begin and commit (or rollback)
	tx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// lock takes a transaction-scoped lock named key. On SQLite the transaction
// already holds the database write lock (BEGIN IMMEDIATE), so it does nothing.
func (db *DB) lock(ctx context.Context, tx *sql.Tx, key string) error {
	return db.lockAll(ctx, tx, key)
}

// lockAll takes the transaction-scoped locks named keys, in the order given,
// in one statement (a no-op on SQLite, as lock). Callers that take several
// give them in a fixed order so that concurrent transactions cannot deadlock.
func (db *DB) lockAll(ctx context.Context, tx *sql.Tx, keys ...string) error {
	if db.backend != Postgres || len(keys) == 0 {
		return nil
	}
	return db.runIn(ctx, tx, lockAllQuery(keys))
}

// lockAllQuery is lockAll's statement (PostgreSQL), for a pipelined
// transaction to queue.
func lockAllQuery(keys []string) readQuery {
	name := fmt.Sprintf("advisory locks %q", keys)
	if len(keys) == 1 {
		return readQuery{sql: "SELECT pg_advisory_xact_lock(hashtext(?))", args: []any{keys[0]}, name: name}
	}
	return readQuery{sql: `SELECT pg_advisory_xact_lock(hashtext(k)) FROM unnest(?::text[]) WITH ORDINALITY AS t(k, n) ORDER BY n`,
		args: []any{keys}, name: name}
}

// forUpdate is the row-lock suffix for a SELECT inside a write transaction.
func (db *DB) forUpdate() string {
	if db.backend == Postgres {
		return " FOR UPDATE"
	}
	return ""
}
