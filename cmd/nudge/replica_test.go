package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"
)

func TestDatabaseReplicaConfig(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "nudge.yaml")
	require.NoError(t, os.WriteFile(path, []byte("database: postgres://nudge@primary:5432/nudge\ndatabase_replica: postgres://nudge@replica:5432/nudge\n"), 0o600))
	noEnv := func(string) (string, bool) { return "", false }
	cfg, err := LoadConfig(path, noEnv)
	require.NoError(t, err)
	require.Equal(t, "postgres://nudge@replica:5432/nudge", cfg.DatabaseReplica)
	opts, err := cfg.replicaOptions()
	require.NoError(t, err)
	require.Len(t, opts, 1)

	cfg, err = LoadConfig(path, func(k string) (string, bool) {
		if k == "NUDGE_DATABASE_REPLICA" {
			return "postgres://nudge@other-replica:5432/nudge", true
		}
		return "", false
	})
	require.NoError(t, err)
	require.Equal(t, "postgres://nudge@other-replica:5432/nudge", cfg.DatabaseReplica, "the environment wins")

	for _, tc := range []struct{ name, database, replica, want string }{
		{"sqlite primary", "sqlite:///var/lib/nudge.db", "postgres://nudge@replica/nudge", "needs a PostgreSQL database"},
		{"not postgres", "postgres://nudge@primary/nudge", "mysql://replica/nudge", "want postgres://"},
		{"no host", "postgres://nudge@primary/nudge", "postgres:///nudge", "missing host"},
		{"no database", "postgres://nudge@primary/nudge", "postgres://nudge@replica:5432", "missing database name"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := Config{Database: tc.database, DatabaseReplica: tc.replica}.replicaOptions()
			require.ErrorContains(t, err, "database_replica (NUDGE_DATABASE_REPLICA)")
			require.ErrorContains(t, err, tc.want)
		})
	}
	none, err := Config{Database: "sqlite:///x.db"}.replicaOptions()
	require.NoError(t, err)
	require.Empty(t, none, "no replica unless one is set")
}

// TestRuntimeRefusesABadReplica checks that serve stops at startup, naming
// the key, before it opens anything.
func TestRuntimeRefusesABadReplica(t *testing.T) {
	t.Parallel()
	mr := miniredis.RunT(t)
	rdb := redis.NewClient(&redis.Options{Addr: mr.Addr()})
	t.Cleanup(func() { _ = rdb.Close() })
	cfg := Config{Database: "sqlite://" + filepath.Join(t.TempDir(), "nudge.db"), DatabaseReplica: "postgres://replica/nudge",
		Secret: strings.Repeat("k", 32)}.WithDefaults()
	cfg.Log.Level = "error"
	a := &app{stdout: os.Stdout, stderr: &lockedBuffer{}}
	_, err := a.newRuntime(context.Background(), cfg, runtimeOptions{rdb: rdb, cadences: map[string][]cadenceSource{}})
	require.ErrorContains(t, err, "database_replica (NUDGE_DATABASE_REPLICA): a read replica needs a PostgreSQL database")
}
