package webhooks_test

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/nudgehq/nudge"
	"github.com/nudgehq/nudge/channels/twilio"
	"github.com/nudgehq/nudge/store"
	"github.com/nudgehq/nudge/store/storetest"
	"github.com/nudgehq/nudge/web"
	"github.com/nudgehq/nudge/web/webhooks"
)

// benchClients is about how many HTTP clients post callbacks at once (a
// multiple of GOMAXPROCS), as in `nudge bench` (--webhook-clients).
const benchClients = 8

// BenchmarkStatusCallback posts signed "delivered" callbacks for sent SMS
// attempts to the status webhook over loopback HTTP from benchClients
// clients, as `nudge bench` does: each callback moves its attempt and writes
// an event. It runs on PostgreSQL when NUDGE_TEST_DATABASE_URL is set (a
// database of its own), else on SQLite, and reports per callback the CPU of
// this process (handler and clients) and of the PostgreSQL backends, the
// store's shared writes and its round trips. Profile the handler with
// -cpuprofile.
func BenchmarkStatusCallback(b *testing.B) {
	ctx := context.Background()
	db, raw := benchStore(b)
	seedSentAttempts(b, raw, db.Backend(), b.N)
	srv := web.NewServer(nil, nil)
	ts := httptest.NewServer(srv)
	b.Cleanup(ts.Close)
	counted := &countingStore{DB: db}
	(&webhooks.TwilioSMS{AuthToken: authToken, PublicURL: ts.URL, Store: counted, Clock: nudge.SystemClock}).Register(srv)
	target := ts.URL + twilio.StatusCallbackPath
	client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{
		MaxIdleConnsPerHost: benchClients, MaxConnsPerHost: benchClients,
	}}
	b.Cleanup(client.CloseIdleConnections)
	var next atomic.Int64
	b.SetParallelism((benchClients + runtime.GOMAXPROCS(0) - 1) / runtime.GOMAXPROCS(0))
	self0, db0, trips0 := processCPU(), databaseCPU(b, raw), db.RoundTrips()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := postCallback(ctx, client, target, benchSID(int(next.Add(1)-1))); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "callbacks/s")
	b.ReportMetric(float64((processCPU()-self0).Microseconds())/float64(b.N), "self-cpu-µs/callback")
	b.ReportMetric(float64(counted.writes.Load())/float64(b.N), "writes/callback")
	b.ReportMetric(float64(counted.wall.Load())/1e3/float64(counted.writes.Load()), "µs/write")
	b.ReportMetric(float64(db.RoundTrips()-trips0)/float64(b.N), "round-trips/callback")
	if db := databaseCPU(b, raw); db > 0 {
		b.ReportMetric(float64((db-db0).Microseconds())/float64(b.N), "db-cpu-µs/callback")
	}
}

// processCPU is the user and system CPU this process has used.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// databaseCPU is the CPU used by the PostgreSQL backends connected to raw's
// database, when they run on this machine (/proc); zero on SQLite.
func databaseCPU(b *testing.B, raw *sql.DB) time.Duration {
	b.Helper()
	rows, err := raw.QueryContext(context.Background(), "SELECT pid FROM pg_stat_activity WHERE datname = current_database()")
	if err != nil {
		return 0
	}
	defer rows.Close()
	var total time.Duration
	for rows.Next() {
		var pid int
		require.NoError(b, rows.Scan(&pid))
		stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			return 0
		}
		// utime and stime are the 14th and 15th fields, the 12th and 13th after the name.
		f := strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+1:]))
		u, _ := strconv.ParseInt(f[11], 10, 64)
		s, _ := strconv.ParseInt(f[12], 10, 64)
		total += time.Duration(u+s) * time.Second / 100 // USER_HZ
	}
	require.NoError(b, rows.Err())
	return total
}

// countingStore counts the store's shared writes of outcomes (one
// transaction each, unless a batch must be written outcome by outcome).
type countingStore struct {
	*store.DB
	writes atomic.Int64
	wall   atomic.Int64 // nanoseconds spent in the writes
}

func (c *countingStore) RecordOutcomes(ctx context.Context, outcomes []nudge.Outcome) []nudge.OutcomeResult {
	c.writes.Add(1)
	start := time.Now()
	defer func() { c.wall.Add(int64(time.Since(start))) }()
	return c.DB.RecordOutcomes(ctx, outcomes)
}

// postCallback posts a signed "delivered" callback for message sid.
func postCallback(ctx context.Context, client *http.Client, target, sid string) error {
	form := statusForm(sid, "delivered", "")
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, strings.NewReader(form.Encode()))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set(twilio.SignatureHeader, twilio.SignRequest(authToken, target, form))
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusNoContent {
		return fmt.Errorf("%s: %s", resp.Status, msg)
	}
	return nil
}

// benchSID is the provider id of seeded attempt i.
func benchSID(i int) string { return fmt.Sprintf("SM%032x", i) }

// benchStore opens a migrated store of the benchmark's own and a raw
// connection to the same database.
func benchStore(b *testing.B) (*store.DB, *sql.DB) {
	b.Helper()
	ctx := context.Background()
	dbURL, driver, dsn := "", "", ""
	if admin := os.Getenv("NUDGE_TEST_DATABASE_URL"); admin != "" {
		dbURL = storetest.PostgresDatabase(b, admin, "nudge_bench_webhooks_")
		d, err := store.PostgresDriverURL(dbURL)
		require.NoError(b, err)
		driver, dsn = "pgx", d
	} else {
		path := filepath.Join(b.TempDir(), "nudge.db")
		dbURL, driver, dsn = "sqlite://"+path, "sqlite", "file:"+path+"?_pragma=busy_timeout(10000)"
	}
	db, err := store.Open(ctx, dbURL)
	require.NoError(b, err)
	b.Cleanup(func() { require.NoError(b, db.Close()) })
	require.NoError(b, db.Migrate(ctx))
	raw, err := sql.Open(driver, dsn)
	require.NoError(b, err)
	b.Cleanup(func() { require.NoError(b, raw.Close()) })
	return db, raw
}

// seedSentAttempts inserts n sent SMS attempts, attempt i with provider id
// benchSID(i), spread over accounts of ten attempts each.
func seedSentAttempts(b *testing.B, raw *sql.DB, backend store.Backend, n int) {
	b.Helper()
	ctx := context.Background()
	tx, err := raw.BeginTx(ctx, nil)
	require.NoError(b, err)
	defer func() { _ = tx.Rollback() }()
	q := `INSERT INTO attempts (id, reminder_id, lender, account_id, channel, address, status, provider_id, created_at, sending_at, sent_at, updated_at, body, template, segments)
VALUES (?, ?, ?, ?, 'sms', ?, 'sent', ?, ?, ?, ?, ?, ?, 'late_sms', 1)`
	if backend == store.Postgres {
		for i := 1; strings.Contains(q, "?"); i++ {
			q = strings.Replace(q, "?", fmt.Sprintf("$%d", i), 1)
		}
	}
	stmt, err := tx.PrepareContext(ctx, q)
	require.NoError(b, err)
	at := time.Now().UTC().Add(-time.Hour)
	var ts any = at
	if backend != store.Postgres {
		ts = at.Truncate(time.Microsecond).UnixMicro() // as the store keeps times on SQLite
	}
	body := "Acme Auto Finance: your payment of $412.50 was due on Nov 20. Pay at https://pay.example/p/abc123 or reply STOP to opt out."
	for i := range n {
		_, err := stmt.ExecContext(ctx, fmt.Sprintf("att-%06d", i), fmt.Sprintf("rem-%06d", i), lenderID, fmt.Sprintf("A-%05d", i/10),
			fmt.Sprintf("+1212555%04d", i%10000), benchSID(i), ts, ts, ts, ts, body)
		require.NoError(b, err)
	}
	require.NoError(b, tx.Commit())
	_, err = raw.ExecContext(ctx, "ANALYZE")
	require.NoError(b, err)
}
