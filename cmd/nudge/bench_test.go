package main

import (
	"context"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/stretchr/testify/require"

	"github.com/nudgehq/nudge"
	"github.com/nudgehq/nudge/bench"
)

// redisDBBenchWorkers is the database of NUDGE_TEST_REDIS_ADDR the
// scale-out test owns (7 to 15 are other tests', which flush them).
const redisDBBenchWorkers = 4

func TestBenchWorkersFlag(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		args []string
		want string
	}{
		{name: "negative", args: []string{"--workers", "-1"}, want: "--workers -1: each count of worker processes must be 1 to 64"},
		{name: "zero in a list", args: []string{"--workers", "0,2"}, want: "--workers 0,2: each count"},
		{name: "too many", args: []string{"--workers", "1,65"}, want: "--workers 1,65: each count"},
		{name: "not a number", args: []string{"--workers", "two"}, want: `invalid argument "two" for "--workers"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			// The flag is checked before anything is opened: no service is needed.
			_, _, err := runCLI(t, append([]string{"bench", "--redis-db", "10"}, tt.args...)...)
			require.ErrorContains(t, err, tt.want)
		})
	}
}

func TestWorkerCounts(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   []int
		want []int
	}{
		{name: "default", in: []int{0}, want: nil},
		{name: "none", in: nil, want: nil},
		{name: "one count", in: []int{3}, want: []int{3}},
		{name: "list", in: []int{1, 2, 4}, want: []int{1, 2, 4}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := workerCounts(tt.in)
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
		})
	}
}

// TestBenchWorkerProcesses runs the harness with two real worker processes
// (this test binary, run as nudge) over a few reminders, on SQLite and
// miniredis or on the services NUDGE_TEST_* name, and checks that they
// worked off every reminder and that the report shows what was measured.
func TestBenchWorkerProcesses(t *testing.T) {
	t.Parallel()
	exe, err := os.Executable()
	require.NoError(t, err)
	database := "sqlite://" + filepath.Join(t.TempDir(), "bench.db")
	if admin := os.Getenv("NUDGE_TEST_DATABASE_URL"); admin != "" {
		u, err := url.Parse(admin)
		require.NoError(t, err)
		u.Path = "/nudge_bench_workers_test" // the bench resets databases named bench only
		database = u.String()
	}
	cfg := bench.QuickConfig(database)
	cfg.ResetDatabase = strings.HasPrefix(database, "postgres")
	cfg.RedisDB, cfg.RedisBenchmark = redisDBBenchWorkers, "none"
	if cfg.RedisAddr = os.Getenv("NUDGE_TEST_REDIS_ADDR"); cfg.RedisAddr == "" {
		require.NotEqual(t, "1", os.Getenv("NUDGE_TEST_REQUIRE_SERVICES"), "NUDGE_TEST_REDIS_ADDR is not set")
		cfg.RedisAddr = miniredis.RunT(t).Addr()
	}
	cfg.Sizes, cfg.Due, cfg.Dispatch, cfg.Queued, cfg.Concurrency = []int{40}, 20, 50, 40, 4
	cfg.Workers, cfg.WorkerExe, cfg.WorkerEnv = []int{2}, exe, []string{e2eChildEnv + "=1"}
	cfg.SQLite = true // a second dispatch over SQLite when the run is on PostgreSQL
	cfg.Progress = testLog{t}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	rep, err := bench.Run(ctx, cfg)
	require.NoError(t, err)

	require.Len(t, rep.Scale, 1)
	run := rep.Scale[0]
	require.Equal(t, 2, run.Workers)
	require.Equal(t, 50, run.Final, "every reminder ends final")
	require.Equal(t, 50, run.Sent, "every reminder is sent through the stand-in Twilio")
	require.Len(t, run.WorkerCPU, 2)
	require.Len(t, run.PeakRSS, 2)
	for i, rss := range run.PeakRSS {
		require.Positive(t, rss, "worker %d's peak RSS", i+1)
	}
	require.Positive(t, run.WorkerCPUPerReminder(), "the workers' CPU is measured")
	require.Positive(t, run.PerSecond())

	var table strings.Builder
	require.NoError(t, rep.WriteTable(&table))
	require.Contains(t, table.String(), "WORKER PROCESSES")
	if strings.HasPrefix(database, "postgres") {
		require.NotNil(t, rep.SQLite, "the dispatch ran again over SQLite")
		require.Equal(t, 50, rep.SQLite.Pipeline.Done)
		require.Equal(t, 50, rep.SQLite.Sent, "every reminder is sent on SQLite too")
		require.Contains(t, table.String(), "dispatch on SQLite")
	} else {
		require.Nil(t, rep.SQLite, "a run on SQLite has its dispatch row already")
	}
	var md strings.Builder
	require.NoError(t, rep.WriteMarkdown(&md, "nudge bench --workers 2", ""))
	require.Contains(t, md.String(), "## Scale-out")
	require.Contains(t, md.String(), "| 2 | ")
}

// testLog writes the harness's progress lines to the test log.
type testLog struct{ t *testing.T }

func (l testLog) Write(p []byte) (int, error) {
	l.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

// TestTwilioMPS checks that twilio.mps sets the SMS sender's budget, which
// the workers share through Redis, and that a short code without it keeps
// Twilio's default.
func TestTwilioMPS(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		mps  float64
		want float64
	}{
		{name: "default for a short code", mps: 0, want: 100},
		{name: "configured", mps: 450, want: 450},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rt := &runtime{logger: slog.New(slog.DiscardHandler), cfg: Config{PublicURL: "http://127.0.0.1:8080",
				Twilio: TwilioConfig{AccountSID: "AC" + strings.Repeat("0", 32), AuthToken: "token", From: "55501", MPS: tt.mps,
					BaseURL: "http://127.0.0.1:1", VoiceFrom: "+18005550199"}}}
			require.NoError(t, rt.buildSenders(nil))
			key, mps := rt.senderRate(&nudge.Message{Channel: nudge.SMS, Lender: "l", To: "+12125550123"})
			require.Equal(t, "twilio:sms:55501", key)
			require.InDelta(t, tt.want, mps, 0)
		})
	}
}
