package store

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nudgehq/nudge"
)

// querier is what *sql.DB and *sql.Tx share.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// maxParams bounds the bound parameters of one statement (SQLite allows
// 32766, PostgreSQL 65535).
const maxParams = 30000

// rebind turns ? placeholders into $1, $2, … for PostgreSQL. Queries in this
// package never put a ? inside a string literal.
func (db *DB) rebind(q string) string {
	if db.backend != Postgres || !strings.Contains(q, "?") {
		return q
	}
	return rebound.get(q, func() string { return rebindText(q) })
}

// rebound keeps rebind's answers, keyed by the text with ? marks: most
// statements are constants, and rebinding each on every call was about 2% of
// a dispatch run's worker CPU.
var rebound textCache

// textCache keeps statement texts made from other texts. Statements built
// for a batch's size (IN lists, VALUES rows) vary with it, so it keeps texts
// until they take maxReboundBytes (key and text counted) and makes the
// others every time.
type textCache struct {
	m     sync.Map
	bytes atomic.Int64
}

const maxReboundBytes = 1 << 20

// get returns the text made from key, making it with build when not kept.
func (c *textCache) get(key string, build func() string) string {
	if r, ok := c.m.Load(key); ok {
		return r.(string)
	}
	r := build()
	if c.bytes.Load() < maxReboundBytes && c.bytes.Add(int64(len(key)+len(r))) <= maxReboundBytes {
		c.m.Store(key, r)
	}
	return r
}

// rebindText is rebind without the cache.
func rebindText(q string) string {
	var b strings.Builder
	b.Grow(len(q) + 16)
	writeNumbered(&b, q, "$")
	return b.String()
}

// writeNumbered writes q to b with its n-th ? mark replaced by prefix and n
// (from 1).
func writeNumbered(b *strings.Builder, q, prefix string) {
	n := 0
	for i := 0; i < len(q); i++ {
		if q[i] == '?' {
			n++
			b.WriteString(prefix)
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteByte(q[i])
	}
}

func (db *DB) exec(ctx context.Context, q querier, query string, args ...any) (sql.Result, error) {
	db.roundTrips.Add(1)
	return q.ExecContext(ctx, db.rebind(query), args...)
}

func (db *DB) query(ctx context.Context, q querier, query string, args ...any) (*sql.Rows, error) {
	db.roundTrips.Add(1)
	return q.QueryContext(ctx, db.rebind(query), args...)
}

func (db *DB) queryRow(ctx context.Context, q querier, query string, args ...any) *sql.Row {
	db.roundTrips.Add(1)
	return q.QueryRowContext(ctx, db.rebind(query), args...)
}

// placeholders returns "?, ?, …" with n marks.
func placeholders(n int) string {
	if n <= 0 {
		return ""
	}
	return strings.Repeat("?, ", n-1) + "?"
}

// valuesRows returns "(?, ?), (?, ?)" for rows rows of cols columns.
func valuesRows(rows, cols int) string {
	one := "(" + placeholders(cols) + ")"
	var b strings.Builder
	for i := range rows {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(one)
	}
	return b.String()
}

// tv converts a time for storage: NULL when zero, otherwise UTC truncated to
// the microsecond, as unix microseconds (SQLite) or a timestamp (PostgreSQL).
func (db *DB) tv(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	t = t.UTC().Truncate(time.Microsecond)
	if db.backend == Postgres {
		return t
	}
	return t.UnixMicro()
}

// dv converts a date for storage: NULL when zero, otherwise YYYY-MM-DD.
func dv(d nudge.Date) any {
	if d.IsZero() {
		return nil
	}
	return d.String()
}

// zeroCycle stands for a zero cycle date in the reminders natural key, which
// must not be NULL for the unique constraint to hold.
const zeroCycle = "0001-01-01"

func cycleValue(d nudge.Date) string {
	if d.IsZero() {
		return zeroCycle
	}
	return d.String()
}

// timeCol scans a stored time (unix microseconds or a timestamp) into a UTC
// time.Time; NULL becomes the zero time.
type timeCol struct{ t *time.Time }

// Scan implements sql.Scanner.
func (c timeCol) Scan(src any) error {
	switch v := src.(type) {
	case nil:
		*c.t = time.Time{}
	case int64:
		*c.t = time.UnixMicro(v).UTC()
	case time.Time:
		*c.t = v.UTC()
	default:
		return fmt.Errorf("scan time: unsupported source type %T", src)
	}
	return nil
}

// dateCol scans a stored date (text or a timestamp) into a nudge.Date; NULL
// and the zero cycle become the zero Date.
type dateCol struct{ d *nudge.Date }

// Scan implements sql.Scanner.
func (c dateCol) Scan(src any) error {
	var s string
	switch v := src.(type) {
	case nil:
		*c.d = nudge.Date{}
		return nil
	case string:
		s = v
	case []byte:
		s = string(v)
	case time.Time:
		s = v.Format(nudge.DateLayout)
	default:
		return fmt.Errorf("scan date: unsupported source type %T", src)
	}
	if len(s) > len(nudge.DateLayout) {
		s = s[:len(nudge.DateLayout)]
	}
	if s == "" || s == zeroCycle {
		*c.d = nudge.Date{}
		return nil
	}
	d, err := nudge.ParseDate(s)
	if err != nil {
		return fmt.Errorf("scan date: %w", err)
	}
	*c.d = d
	return nil
}

// rowsAffected returns the affected row count of res, wrapping errors.
func rowsAffected(res sql.Result) (int64, error) {
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("rows affected: %w", err)
	}
	return n, nil
}

// inList returns the condition "col IN (?, …)" over vals (strings) with its
// arguments. On PostgreSQL it is "col = ?" for one value and otherwise
// "col = ANY(?::text[])" with one array argument: the statement's text is
// then one of two whatever the number of values, so that each connection
// prepares it once, rather than once for every length a batch happens to
// have (#16). One value keeps a statement of its own because the server
// plans "= ANY" of a parameter afresh on every call (a generic plan
// estimates the array's length), while "= ?" gets a generic plan after a
// few calls; the read of a single reminder is the common case.
func (db *DB) inList(col string, vals []any) (string, []any) {
	if db.backend == Postgres {
		if len(vals) == 1 {
			return col + ` = ?`, vals
		}
		return col + ` = ANY(?::text[])`, []any{stringsOf(vals)}
	}
	return col + ` IN (` + placeholders(len(vals)) + `)`, vals
}

// stringsOf returns vals, which are strings, as a []string.
func stringsOf(vals []any) []string {
	out := make([]string, len(vals))
	for i, v := range vals {
		out[i], _ = v.(string)
	}
	return out
}
