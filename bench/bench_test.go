package bench_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/stretchr/testify/require"

	"github.com/nudgehq/nudge/bench"
)

// redisTestDB is the database of NUDGE_TEST_REDIS_ADDR this package's test
// owns. The others: cmd/nudge 3, 4, 6, 7, 8, 11, 12 and 14; response 9,
// web/webhooks 10, dispatcher 13, schedules 15.
const redisTestDB = 5

// redisAddr returns NUDGE_TEST_REDIS_ADDR, or a fresh miniredis.
func redisAddr(t *testing.T) string {
	t.Helper()
	if addr := os.Getenv("NUDGE_TEST_REDIS_ADDR"); addr != "" {
		return addr
	}
	if os.Getenv("NUDGE_TEST_REQUIRE_SERVICES") == "1" {
		t.Fatal("NUDGE_TEST_REQUIRE_SERVICES=1 but NUDGE_TEST_REDIS_ADDR is not set")
	}
	mr := miniredis.RunT(t)
	return mr.Addr()
}

// TestQuickRun runs the harness in quick mode on SQLite and checks that the
// table and the Markdown report have every row, with figures that were
// actually measured.
func TestQuickRun(t *testing.T) {
	t.Parallel()
	cfg := bench.QuickConfig("sqlite://" + filepath.Join(t.TempDir(), "bench.db"))
	cfg.RedisAddr, cfg.RedisDB = redisAddr(t), redisTestDB
	cfg.RedisBenchmark = "none"
	cfg.Sizes, cfg.Due, cfg.Dispatch, cfg.Queued, cfg.KPIAccounts = []int{60, 300}, 20, 60, 60, 300
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	rep, err := bench.Run(ctx, cfg)
	require.NoError(t, err)

	require.Len(t, rep.Planning, 2)
	for _, p := range rep.Planning {
		require.Equal(t, 20, p.Planned, "portfolio of %d", p.Accounts)
		require.Positive(t, p.Tick)
		require.EqualValues(t, 20, p.RowsRead, "a tick reads the due accounts only")
	}
	require.Equal(t, 60, rep.Dispatch.Raw.Done)
	require.Equal(t, 60, rep.Dispatch.Pipeline.Done)
	require.Equal(t, 60, rep.Dispatch.Sent, "every dispatched reminder is recorded as sent")
	require.NotEmpty(t, rep.Dispatch.Calls)
	require.Positive(t, rep.EvalSHA.PerSecond)
	require.Equal(t, 60, rep.Webhooks.Callbacks)
	require.Positive(t, rep.Webhooks.Handler)
	require.Positive(t, rep.Dispatch.Pipeline.PeakRSS)
	require.Equal(t, 300, rep.KPIs.Accounts)
	require.Positive(t, rep.KPIs.Attempts, "the seeded year has attempts")
	require.Positive(t, rep.KPIs.Year)
	require.Positive(t, rep.KPIs.LiveDay)
	require.Positive(t, rep.KPIs.HourlyPass)

	var table strings.Builder
	require.NoError(t, rep.WriteTable(&table))
	for _, name := range bench.RowNames {
		require.Contains(t, table.String(), name)
	}
	require.Contains(t, table.String(), "planning 60 accounts, 20 due")
	require.Contains(t, table.String(), "planning 300 accounts, 20 due")

	var md strings.Builder
	require.NoError(t, rep.WriteMarkdown(&md, "nudge bench --quick", "Profile notes."))
	for _, want := range []string{"## Machine", "nudge bench --quick", "## Results", "## Planning", "## Dispatch",
		"## Webhooks", "## Memory", "## Analysis", "Profile notes."} {
		require.Contains(t, md.String(), want)
	}
	for _, name := range bench.RowNames {
		require.Contains(t, md.String(), "| "+name+" |")
	}
}

func TestConfigRejects(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		edit func(*bench.Config)
		want string
	}{
		{name: "redis database 0", edit: func(c *bench.Config) { c.RedisDB = 0 }, want: "redis db 0"},
		{name: "no database", edit: func(c *bench.Config) { c.Database = "" }, want: "database is required"},
		{name: "sizes shrink", edit: func(c *bench.Config) { c.Sizes = []int{2000, 1000} }, want: "sizes must grow"},
		{name: "no worker processes", edit: func(c *bench.Config) { c.Workers = []int{2, 0} }, want: "workers[1] = 0"},
		{name: "too many worker processes", edit: func(c *bench.Config) { c.Workers = []int{bench.MaxWorkers + 1} }, want: "must be 1 to 64"},
		{name: "size below due", edit: func(c *bench.Config) { c.Sizes = []int{10} }, want: "smaller than due"},
		{name: "reset a database not named bench", edit: func(c *bench.Config) {
			c.Database, c.ResetDatabase = "postgres://postgres@127.0.0.1:1/nudge?sslmode=disable", true
		}, want: "refusing to drop"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg := bench.QuickConfig("sqlite://" + filepath.Join(t.TempDir(), "bench.db"))
			cfg.RedisDB = redisTestDB
			tt.edit(&cfg)
			_, err := bench.Run(context.Background(), cfg)
			require.ErrorContains(t, err, tt.want)
		})
	}
}
