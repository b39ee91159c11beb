package store

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestPlanReadsSharesInEachCallersOrder checks which queries planReads
// puts in one statement: the same text with arguments of the same kinds,
// never so that a caller's query would run before its earlier one, never a
// query with an argument of no array type, and none without share.
func TestPlanReadsSharesInEachCallersOrder(t *testing.T) {
	a := func(args ...any) readQuery { return readQuery{sql: "SELECT a WHERE x = ?", args: args} }
	b := func(args ...any) readQuery { return readQuery{sql: "SELECT b WHERE x = ?", args: args} }
	refs := func(entries []readEntry) [][]readRef {
		var out [][]readRef
		for _, e := range entries {
			out = append(out, e.refs)
		}
		return out
	}
	callers := [][]readQuery{{a("1"), b("1")}, {a("2"), b("2")}, {b("3"), a("3")}}
	require.Equal(t, [][]readRef{
		{{0, 0}, {1, 0}},
		{{0, 1}, {1, 1}, {2, 0}},
		{{2, 1}}, // after its b, so not in the first statement
	}, refs(planReads(callers, true)))
	require.Len(t, planReads(callers, false), 6, "without share, one statement a query")

	callers = [][]readQuery{{a("1")}, {a(1)}, {a(int64(2))}, {a(nil)}, {a([]string{"x"})}, {a(time.Time{})}, {a("2")}}
	require.Equal(t, [][]readRef{{{0, 0}, {6, 0}}, {{1, 0}, {2, 0}}, {{3, 0}}, {{4, 0}}, {{5, 0}}},
		refs(planReads(callers, true)), "strings with strings, integers with integers; a NULL or a list alone")
	require.Equal(t, "tizb", signature([]any{"x", 1, time.Now(), true}))
	require.Empty(t, signature(nil), "a query without arguments is not shared")
}

func TestSharedTextRunsTheQueryPerArguments(t *testing.T) {
	require.Equal(t, "SELECT nudge_args.nudge_ord::text, nudge_row.* FROM unnest($1::text[], $2::timestamptz[]) "+
		"WITH ORDINALITY AS nudge_args(nudge_p1, nudge_p2, nudge_ord) CROSS JOIN LATERAL "+
		"(SELECT id FROM t WHERE a = nudge_args.nudge_p1 AND at >= nudge_args.nudge_p2 ORDER BY at LIMIT 1) AS nudge_row",
		sharedText("SELECT id FROM t WHERE a = ? AND at >= ? ORDER BY at LIMIT 1", "tz"))
}
