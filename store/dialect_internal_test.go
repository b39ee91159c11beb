package store

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestRebindKeepsAnswersWithinItsBudget checks that rebind numbers the
// marks the same from its cache as without it, that SQLite's text is left
// alone, and that once the cache's budget is spent texts are still rebound,
// only not kept.
func TestRebindKeepsAnswersWithinItsBudget(t *testing.T) {
	pg, lite := &DB{backend: Postgres}, &DB{backend: SQLite}
	q := "SELECT a FROM t WHERE b = ? AND c IN (?, ?) -- rebind test"
	want := "SELECT a FROM t WHERE b = $1 AND c IN ($2, $3) -- rebind test"
	require.Equal(t, want, pg.rebind(q))
	cached, ok := rebound.m.Load(q)
	require.True(t, ok, "a constant text is kept")
	require.Equal(t, want, cached)
	require.Equal(t, want, pg.rebind(q), "from the cache")
	require.Equal(t, q, lite.rebind(q))
	require.Equal(t, "SELECT 1", pg.rebind("SELECT 1"))

	// Spend the budget: texts past it are rebound every time and not kept.
	// The cache is emptied after, for the package's other tests.
	t.Cleanup(func() { rebound.m.Clear(); rebound.bytes.Store(0) })
	for i := 0; rebound.bytes.Load() <= maxReboundBytes; i++ {
		pg.rebind(fmt.Sprintf("SELECT ? -- filler %d %s", i, strings.Repeat("x", 4096)))
	}
	late := "SELECT ?, ? -- after the budget"
	require.Equal(t, "SELECT $1, $2 -- after the budget", pg.rebind(late))
	_, ok = rebound.m.Load(late)
	require.False(t, ok, "a text past the budget is not kept")
}
