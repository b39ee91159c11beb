package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/nudgehq/nudge/store"
)

// PostgresDatabase creates a database of t's own (named prefix plus random
// hex) on the PostgreSQL server of the admin URL, drops it when t ends,
// and returns its URL. Register it before opening the store on it, so that
// the store (closed by a later cleanup) is closed before the drop.
func PostgresDatabase(t testing.TB, admin, prefix string) string {
	t.Helper()
	dbURL, drop, err := store.CreateDatabase(context.Background(), admin, prefix)
	require.NoError(t, err, "PostgreSQL at NUDGE_TEST_DATABASE_URL must answer")
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		require.NoError(t, drop(ctx))
	})
	return dbURL
}
