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
// queries of several callers shared.
type readEntry struct {
	refs []readRef
	// sig is the kinds of the query's arguments (argKinds) when it may be
	// shared, empty otherwise.
	sig string
}

func (e readEntry) shared() bool { return len(e.refs) > 1 }

// readKey is what queries must have alike to share a statement.
type readKey struct{ sql, sig string }

// argKinds are the argument kinds a shared statement takes, each a letter of
// a signature, with the PostgreSQL array type its values go in.
var argKinds = map[byte]string{'t': "text", 'z': "timestamptz", 'i': "int8", 'b': "bool"}

// planReads orders the queries of callers into the statements of one batch.
// With share, a query joins the latest entry of the same text and argument
// kinds when that entry comes after the caller's previous query's, so each
// caller's queries still run, and hand it their rows, in its order.
func planReads(callers [][]readQuery, share bool) []readEntry {
	var (
		entries []readEntry
		open    map[readKey]int
	)
	for i, qs := range callers {
		last := -1
		for j, q := range qs {
			var sig string
			if share {
				sig = signature(q.args)
			}
			if sig != "" {
				key := readKey{q.sql, sig}
				if k, ok := open[key]; ok && k > last {
					entries[k].refs = append(entries[k].refs, readRef{i, j})
					last = k
					continue
				}
				if open == nil {
					open = map[readKey]int{}
				}
				open[key] = len(entries)
			}
			last = len(entries)
			entries = append(entries, readEntry{refs: []readRef{{i, j}}, sig: sig})
		}
	}
	return entries
}

// signature returns the kinds of args (a letter of argKinds each), or ""
// when one of them has no kind here (a NULL, a list, a named type), or there
// are none or more than 64: such a query is not shared.
func signature(args []any) string {
	if len(args) == 0 || len(args) > 64 {
		return ""
	}
	var sig [64]byte
	for i, a := range args {
		switch a.(type) {
		case string:
			sig[i] = 't'
		case time.Time:
			sig[i] = 'z'
		case int, int64:
			sig[i] = 'i'
		case bool:
			sig[i] = 'b'
		default:
			return ""
		}
	}
	return string(sig[:len(args)])
}

// queue adds e's statement to b: the query with its own arguments, or the
// shared statement with an array of each argument's values.
func (e readEntry) queue(db *DB, b *pgx.Batch, callers [][]readQuery) {
	first := callers[e.refs[0].caller][e.refs[0].query]
	if !e.shared() {
		b.Queue(db.rebind(first.sql), first.args...)
		return
	}
	db.sharedReads.Add(int64(len(e.refs)))
	args := make([]any, len(e.sig))
	for p := range e.sig {
		switch e.sig[p] {
		case 't':
			args[p] = column(callers, e.refs, p, func(a any) string { return a.(string) })
		case 'z':
			args[p] = column(callers, e.refs, p, func(a any) time.Time { return a.(time.Time) })
		case 'i':
			args[p] = column(callers, e.refs, p, func(a any) int64 {
				if n, ok := a.(int); ok {
					return int64(n)
				}
				return a.(int64)
			})
		case 'b':
			args[p] = column(callers, e.refs, p, func(a any) bool { return a.(bool) })
		}
	}
	text := sharedTexts.get(e.sig+"\x00"+first.sql, func() string { return sharedText(first.sql, e.sig) })
	b.Queue(text, args...)
}

// column returns the argument at position p of each query refs names.
func column[T any](callers [][]readQuery, refs []readRef, p int, as func(any) T) []T {
	out := make([]T, len(refs))
	for i, r := range refs {
		out[i] = as(callers[r.caller][r.query].args[p])
	}
	return out
}

// sharedTexts keeps sharedText's answers by signature and query.
var sharedTexts textCache

// sharedText returns the statement that runs query (with ? marks, whose
// arguments are of the kinds sig names) once for each row of arrays of its
// arguments, each result row led by the ordinal (from 1, as text) of the
// arguments it was found with. Inside the LATERAL subquery the query keeps
// its own ORDER BY and LIMIT, and its rows come out of the nested loop in
// the order it gives them.
func sharedText(query, sig string) string {
	var b strings.Builder
	b.Grow(len(query) + 64 + 32*len(sig))
	b.WriteString("SELECT nudge_args.nudge_ord::text, nudge_row.* FROM unnest(")
	for p := range sig {
		if p > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "$%d::%s[]", p+1, argKinds[sig[p]])
	}
	b.WriteString(") WITH ORDINALITY AS nudge_args(")
	for p := range sig {
		fmt.Fprintf(&b, "nudge_p%d, ", p+1)
	}
	b.WriteString("nudge_ord) CROSS JOIN LATERAL (")
	writeNumbered(&b, query, "nudge_args.nudge_p")
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
// later rows are dropped; the batch goes on. For a shared entry it records
// which of its queries were handed a row (handed, one per e.refs). It
// returns the statement's own error.
func readEntryRows(br pgx.BatchResults, callers [][]readQuery, e readEntry, errs []error, handed []bool) error {
	rows, err := br.Query()
	if err != nil {
		return err
	}
	defer rows.Close()
	hand := func(r readRef, s interface{ Scan(...any) error }) {
		q := callers[r.caller][r.query]
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
		handed[ord-1] = true
		hand(e.refs[ord-1], s)
	}
	return rows.Err()
}
