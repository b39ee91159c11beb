package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/nudgehq/nudge/drill"
)

// redisDBDrill is the database of NUDGE_TEST_REDIS_ADDR the drills use.
// Each test that uses the shared Redis owns a database: bench 5; here 3
// (sender failover), 4 (bench workers), 6 (fairness), 7 (email), 8, 11
// (replicas), 12 (kill) and 14 (cancel); response 9, web/webhooks 10,
// dispatcher 13, schedules 15.
const redisDBDrill = 8

// redisDBFailover is the database the sender-failover drill uses, apart
// from the other drills' so that it runs beside them.
const redisDBFailover = 3

// redisDBFairness is the database the fairness drill uses, apart from
// redisDBDrill so that it runs beside TestDrills.
const redisDBFairness = 6

// TestDrills runs, at a reduced size, the reliability drills that fit in CI
// time: provider bursts and faults, webhooks, replicas, worker kills and,
// on PostgreSQL, killed database connections. Each counts from the
// provider's side. The
// processes are this test binary run as nudge. Redis is database
// redisDBDrill of NUDGE_TEST_REDIS_ADDR or an in-process miniredis;
// PostgreSQL a fresh database on NUDGE_TEST_DATABASE_URL, else SQLite.
func TestDrills(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("the drills run nudge processes for a minute or two")
	}
	exe, err := os.Executable()
	require.NoError(t, err)
	o := drill.Options{
		Exe: exe, Env: []string{e2eChildEnv + "=1"}, Dir: t.TempDir(),
		Database:  os.Getenv("NUDGE_TEST_DATABASE_URL"),
		Reminders: 100, Deadline: 2 * time.Minute, KillEvery: 2 * time.Second, Burst: 1, Concurrency: 8,
		Miniredis: true,
	}
	if addr := os.Getenv("NUDGE_TEST_REDIS_ADDR"); addr != "" {
		o.RedisAddr, o.RedisDB = addr, redisDBDrill
	} else if os.Getenv("NUDGE_TEST_REQUIRE_SERVICES") == "1" {
		t.Fatal("NUDGE_TEST_REQUIRE_SERVICES=1 but NUDGE_TEST_REDIS_ADDR is not set")
	}
	if o.Database == "" && os.Getenv("NUDGE_TEST_REQUIRE_SERVICES") == "1" {
		t.Fatal("NUDGE_TEST_REQUIRE_SERVICES=1 but NUDGE_TEST_DATABASE_URL is not set")
	}
	names := []string{"provider-bursts", "provider-faults", "webhooks", "replicas", "worker-kill"}
	if o.Database != "" {
		names = append(names, "db-kill")
	}
	// One after another: they share the Redis database.
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			o := o
			if name == "worker-kill" {
				// The run must outlast the first kill, however fast the
				// machine, and last long enough for a second one.
				o.Reminders, o.KillEvery, o.Deadline = 300, time.Second, 4*time.Minute
			}
			if name == "db-kill" {
				// Likewise the first kill of the database's connections:
				// 100 reminders can be done before 3.5 s.
				o.Reminders, o.DBKillEvery = 300, 500*time.Millisecond
			}
			runDrill(t, o, name)
		})
	}
}

// TestFairnessDrill runs the fairness drill small: one lender with 3,000
// reminders and another with 30 due at the same instant, all enqueued
// before the workers start. Every one of the second lender's must reach the
// provider before the first lender's count there reaches 5% of its own.
// It uses its own Redis database or an in-process miniredis, so it runs
// beside TestDrills.
func TestFairnessDrill(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("the drill runs nudge processes for a minute")
	}
	exe, err := os.Executable()
	require.NoError(t, err)
	o := drill.Options{
		Exe: exe, Env: []string{e2eChildEnv + "=1"}, Dir: t.TempDir(),
		Database: os.Getenv("NUDGE_TEST_DATABASE_URL"),
		Big:      3000, Small: 30, Deadline: 75 * time.Second, Concurrency: 8,
		Miniredis: true,
	}
	if addr := os.Getenv("NUDGE_TEST_REDIS_ADDR"); addr != "" {
		o.RedisAddr, o.RedisDB = addr, redisDBFairness
	}
	var log bytes.Buffer
	o.Log = &log
	results, err := drill.Run(context.Background(), o, "fairness")
	var table bytes.Buffer
	require.NoError(t, drill.WriteTable(&table, results))
	t.Logf("%s\n%s", log.String(), table.String())
	require.NoError(t, err)
	require.Len(t, results, 1)
	r := results[0]
	require.Empty(t, r.Skipped)
	require.True(t, r.Passed(), "%v", r.Problems)
	require.NotNil(t, r.Fairness)
	require.Equal(t, 3000, r.Fairness.Big)
	require.Equal(t, 30, r.Fairness.Small)
	require.Less(t, r.Fairness.Share(), drill.FairnessBound)
	require.Zero(t, r.Duplicates, "sent twice")
	require.Zero(t, r.NeverSent, "the small lender's reminders all sent")
}

// TestSenderFailoverDrill runs the sender-failover drills small, SMS and
// then voice: 100 reminders through a pool of two senders (caller IDs)
// whose first refuses every request for 6 s (a breaker cool-down of 2 s);
// the second half of the accounts is due after the failure. Redis is database redisDBFailover of
// NUDGE_TEST_REDIS_ADDR or an in-process miniredis, so it runs beside
// TestDrills.
func TestSenderFailoverDrill(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("the drill runs nudge processes for half a minute")
	}
	exe, err := os.Executable()
	require.NoError(t, err)
	o := drill.Options{
		Exe: exe, Env: []string{e2eChildEnv + "=1"}, Dir: t.TempDir(),
		Database:  os.Getenv("NUDGE_TEST_DATABASE_URL"),
		Reminders: 100, Deadline: 2 * time.Minute, Concurrency: 8,
		SenderFailure: 6 * time.Second, BreakerCooldown: 2 * time.Second,
		Miniredis: true,
	}
	if addr := os.Getenv("NUDGE_TEST_REDIS_ADDR"); addr != "" {
		o.RedisAddr, o.RedisDB = addr, redisDBFailover
	}
	runDrill(t, o, "sender-failover")
	runDrill(t, o, "sender-failover-voice")
}

// TestRedisFailoverDrills runs the Sentinel and Cluster drills at a reduced
// size: each starts its own redis-server processes on loopback (a primary,
// a replica and three sentinels; three primaries with a replica each) and
// kills the primary serving the queues mid-run. They need redis-server and
// redis-cli, which CI installs.
func TestRedisFailoverDrills(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("the drills run nudge processes for a few minutes")
	}
	for _, bin := range []string{"redis-server", "redis-cli"} {
		if _, err := exec.LookPath(bin); err != nil {
			if os.Getenv("NUDGE_TEST_REQUIRE_SERVICES") == "1" {
				t.Fatalf("NUDGE_TEST_REQUIRE_SERVICES=1 but %s is not installed", bin)
			}
			t.Skip(err)
		}
	}
	exe, err := os.Executable()
	require.NoError(t, err)
	for _, name := range []string{"redis-sentinel", "redis-cluster"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			runDrill(t, drill.Options{
				Exe: exe, Env: []string{e2eChildEnv + "=1"}, Dir: t.TempDir(),
				Database:  os.Getenv("NUDGE_TEST_DATABASE_URL"),
				Reminders: 150, Deadline: 5 * time.Minute, Concurrency: 8,
			}, name)
		})
	}
}

// runDrill runs drill name with o and requires every reminder sent once.
func runDrill(t *testing.T, o drill.Options, name string) {
	t.Helper()
	var log bytes.Buffer
	o.Log = &log
	results, err := drill.Run(context.Background(), o, name)
	var table bytes.Buffer
	require.NoError(t, drill.WriteTable(&table, results))
	t.Logf("%s\n%s", log.String(), table.String())
	require.NoError(t, err)
	require.Len(t, results, 1)
	r := results[0]
	require.Empty(t, r.Skipped, "drill %s was skipped", name)
	require.True(t, r.Passed(), "drill %s: %v", name, r.Problems)
	require.Equal(t, o.Reminders, r.Sent, "every reminder reached the provider")
	require.Zero(t, r.Duplicates, "sent twice")
	require.Zero(t, r.NeverSent, "never sent")
	require.Zero(t, r.Unknown, "left unknown after reconciliation")
	require.Zero(t, r.FailedTransient, "failed for a transient cause")
	require.Zero(t, r.Lost)
	require.LessOrEqual(t, r.MaxCalls, drill.MaxProviderCalls)
}
