package store

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// A read batch's queries often repeat across its callers with other values:
// every handler of a dispatch batch reads its reminder, its account, the
// account's contacts and history the same way. Each statement costs the
// server a bind, an executor start and a result of its own whatever it
// finds, so sendReads sends the queries of several callers that have the
// same text as one statement, which runs the query once per caller over
// arrays of their arguments (a LATERAL join of unnest … WITH ORDINALITY),
// and hands each row to the caller its ordinal names. A probe of 64
// look-ups of an account's history took 7.5 µs of the server's CPU a
// look-up as 64 statements of one batch and 3.4 µs as one such statement.

// readRef names one query of a read batch: callers[caller][query].
type readRef struct{ caller, query int }

// readEntry is one statement of a read batch: one caller's query, or the
// queries of several callers shared (kinds set).
type readEntry struct {
	refs []readRef
	// kinds is the array type of each argument when the entry may be
	// shared (sharedKinds); key is its text and kinds, which queries must
	// match to join it.
	kinds []string
	key   string
}

func (e readEntry) shared() bool { return len(e.refs) > 1 }

// planReads orders the queries of callers into the statements of one batch.
// With share, a query joins the latest entry of the same text and argument
// kinds when that entry comes after the caller's previous query's, so each
// caller's queries still run, and hand it their rows, in its order.
func planReads(callers [][]readQuery, share bool) []readEntry {
	var (
		entries []readEntry
		open    map[string]int
	)
	for i, qs := range callers {
		last := -1
		for j, q := range qs {
			var (
				kinds []string
				key   string
			)
			if share {
				kinds = sharedKinds(q.args)
			}
			if kinds != nil {
				key = q.sql + "\x00" + strings.Join(kinds, ",")
				if k, ok := open[key]; ok && k > last {
					entries[k].refs = append(entries[k].refs, readRef{i, j})
					last = k
					continue
				}
				if open == nil {
					open = map[string]int{}
				}
				open[key] = len(entries)
			}
			last = len(entries)
			entries = append(entries, readEntry{refs: []readRef{{i, j}}, kinds: kinds, key: key})
		}
	}
	return entries
}

// sharedKinds returns the PostgreSQL array type each of args goes in when
// the query is shared, or nil when one of them has no such type here (a
// NULL, a list, a named type) or there are none.
func sharedKinds(args []any) []string {
	if len(args) == 0 {
		return nil
	}
	kinds := make([]string, len(args))
	for i, a := range args {
		switch a.(type) {
		case string:
			kinds[i] = "text"
		case time.Time:
			kinds[i] = "timestamptz"
		case int, int64:
			kinds[i] = "int8"
		case bool:
			kinds[i] = "bool"
		default:
			return nil
		}
	}
	return kinds
}

// queue adds e's statement to b: the query with its own arguments, or the
// shared statement with an array of each argument's values.
func (e readEntry) queue(db *DB, b *pgx.Batch, callers [][]readQuery) {
	if !e.shared() {
		q := callers[e.refs[0].caller][e.refs[0].query]
		b.Queue(db.rebind(q.sql), q.args...)
		return
	}
	db.sharedReads.Add(int64(len(e.refs)))
	first := callers[e.refs[0].caller][e.refs[0].query]
	args := make([]any, len(e.kinds))
	for p, kind := range e.kinds {
		switch kind {
		case "text":
			args[p] = column(callers, e.refs, p, func(a any) string { return a.(string) })
		case "timestamptz":
			args[p] = column(callers, e.refs, p, func(a any) time.Time { return a.(time.Time) })
		case "int8":
			args[p] = column(callers, e.refs, p, func(a any) int64 {
				if n, ok := a.(int); ok {
					return int64(n)
				}
				return a.(int64)
			})
		case "bool":
			args[p] = column(callers, e.refs, p, func(a any) bool { return a.(bool) })
		}
	}
	b.Queue(sharedTexts.get(e.key, func() string { return sharedText(first.sql, e.kinds) }), args...)
}

// column returns the argument at position p of each query refs names.
func column[T any](callers [][]readQuery, refs []readRef, p int, as func(any) T) []T {
	out := make([]T, len(refs))
	for i, r := range refs {
		out[i] = as(callers[r.caller][r.query].args[p])
	}
	return out
}

// sharedTexts keeps sharedText's answers by entry key.
var sharedTexts textCache

// sharedText returns the statement that runs query (with ? marks) once for
// each row of arrays of its arguments, each result row led by the ordinal
// (from 1, as text) of the arguments it was found with. Inside the LATERAL
// subquery the query keeps its own ORDER BY and LIMIT, and its rows come
// out of the nested loop in the order it gives them.
func sharedText(query string, kinds []string) string {
	var b strings.Builder
	b.Grow(len(query) + 64 + 32*len(kinds))
	b.WriteString("SELECT nudge_args.nudge_ord::text, nudge_row.* FROM unnest(")
	for p, kind := range kinds {
		if p > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "$%d::%s[]", p+1, kind)
	}
	b.WriteString(") WITH ORDINALITY AS nudge_args(")
	for p := range kinds {
		fmt.Fprintf(&b, "nudge_p%d, ", p+1)
	}
	b.WriteString("nudge_ord) CROSS JOIN LATERAL (")
	n := 0
	for i := 0; i < len(query); i++ {
		if query[i] == '?' {
			n++
			b.WriteString("nudge_args.nudge_p")
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteByte(query[i])
	}
	b.WriteString(") AS nudge_row")
	return b.String()
}

// sharedRow is a row of a shared statement as its query's row function
// sees it: without the leading ordinal.
type sharedRow struct {
	rows pgx.Rows
	dest []any
}

func (s *sharedRow) Scan(dest ...any) error {
	s.dest = append(append(s.dest[:0], nil), dest...) // pgx skips a nil destination
	return s.rows.Scan(s.dest...)
}

// readEntryRows reads e's result from br and hands each row to the query
// it belongs to. A row function's error is its caller's (errs), whose
// later rows are dropped; the batch goes on. It records which queries
// were handed a row (touched[caller][query]) and returns the statement's
// own error.
func readEntryRows(br pgx.BatchResults, callers [][]readQuery, e readEntry, errs []error, touched [][]bool) error {
	rows, err := br.Query()
	if err != nil {
		return err
	}
	defer rows.Close()
	hand := func(r readRef, s interface{ Scan(...any) error }) {
		q := callers[r.caller][r.query]
		touched[r.caller][r.query] = true
		if errs[r.caller] != nil || q.row == nil {
			return
		}
		if err := q.row(s); err != nil {
			errs[r.caller] = err
		}
	}
	if !e.shared() {
		for rows.Next() {
			hand(e.refs[0], rows)
		}
		return rows.Err()
	}
	s := &sharedRow{rows: rows}
	for rows.Next() {
		ord, err := strconv.Atoi(string(rows.RawValues()[0]))
		if err != nil || ord < 1 || ord > len(e.refs) {
			return fmt.Errorf("shared read: a row for arguments %q of %d", rows.RawValues()[0], len(e.refs))
		}
		hand(e.refs[ord-1], s)
	}
	return rows.Err()
}
