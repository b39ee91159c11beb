package store_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestKPIReadWithoutJIT checks that the KPIs' live read runs with
// PostgreSQL's JIT compiler off (on by default, it spent 2.4 s compiling a
// 3.6 s live day at 1M accounts), and only inside its own transaction.
func TestKPIReadWithoutJIT(t *testing.T) {
	t.Parallel()
	db := postgresOpener(t)(t)
	ctx := context.Background()
	before, err := db.PoolSetting(ctx, "jit")
	require.NoError(t, err)
	jit, err := db.KPIReadSetting(ctx, "jit")
	require.NoError(t, err)
	require.Equal(t, "off", jit)
	after, err := db.PoolSetting(ctx, "jit")
	require.NoError(t, err)
	require.Equal(t, before, after, "SET LOCAL must not leak into the pool's other queries")
}
