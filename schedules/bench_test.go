package schedules_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/nudgehq/nudge"
	"github.com/nudgehq/nudge/schedules"
)

// noopEnqueuer accepts every reminder and does nothing, so a benchmark
// measures planning alone.
type noopEnqueuer struct{}

func (noopEnqueuer) Enqueue(context.Context, nudge.Reminder, time.Time) error { return nil }

// BenchmarkPlannerTick measures one planning tick over a portfolio of
// benchPortfolio accounts of which due are due, on SQLite. Every iteration
// plans a new cycle (the due accounts' due date moves a day forward), so
// each tick inserts and enqueues due fresh reminders. It reports the account
// rows read per tick, which must stay near due whatever the portfolio size.
func BenchmarkPlannerTick(b *testing.B) {
	const benchPortfolio = 10_000
	for _, due := range []int{10, 100, 1000} {
		b.Run(fmt.Sprintf("due=%d/portfolio=%d", due, benchPortfolio), func(b *testing.B) {
			ctx := context.Background()
			db := openStore(b, b.TempDir())
			activateCadence(b, db)
			idle := make([]nudge.Account, 0, benchPortfolio-due)
			for i := range benchPortfolio - due {
				idle = append(idle, nudge.Account{ID: fmt.Sprintf("I-%06d", i), Lender: testLender, Portfolio: "auto",
					Currency: "USD", AmountDue: "100.00", DueDate: today.AddDays(20), Status: nudge.StatusActive})
			}
			// Far in the future: never due during the benchmark.
			require.NoError(b, db.UpsertAccounts(ctx, idle, t0.AddDate(10, 0, 0)))
			dueAccts := dueAccounts("D", due)
			clock := nudge.NewFixedClock(t0)
			p := newPlanner(db, clock, noopEnqueuer{})
			// The reminders of earlier iterations stay open; catching them
			// up is not what this benchmark measures.
			p.CatchUpGrace = 100 * 365 * 24 * time.Hour
			var rows int64
			b.ResetTimer()
			for i := range b.N {
				b.StopTimer()
				now := t0.AddDate(0, 0, i)
				for j := range dueAccts {
					dueAccts[j].DueDate = today.AddDays(i)
				}
				require.NoError(b, db.UpsertAccounts(ctx, dueAccts, now.Add(-time.Minute)))
				clock.Set(now)
				before := db.RowsRead()
				b.StartTimer()
				st, err := p.Tick(ctx)
				b.StopTimer()
				require.NoError(b, err)
				require.Equal(b, due, st.Planned)
				rows += db.RowsRead() - before
				b.StartTimer()
			}
			b.ReportMetric(float64(rows)/float64(b.N), "rows/op")
		})
	}
}

// BenchmarkTickPendingPromises measures a tick when promises dated today
// are pending (not over yet in the borrowers' zone), on SQLite: every tick
// reads them and their accounts to find those whose date is over, and none
// is. Nothing else is due.
func BenchmarkTickPendingPromises(b *testing.B) {
	for _, n := range []int{100, 1000} {
		b.Run(fmt.Sprintf("promises=%d", n), func(b *testing.B) {
			ctx := context.Background()
			db := openStore(b, b.TempDir())
			activateCadence(b, db)
			accts := dueAccounts("P", n)
			require.NoError(b, db.UpsertAccounts(ctx, accts, t0.AddDate(10, 0, 0)))
			for i, a := range accts {
				require.NoError(b, db.InsertPromise(ctx, nudge.Promise{ID: fmt.Sprintf("prm-%05d", i), Lender: testLender, AccountID: a.ID,
					Amount: "100.00", Currency: "USD", Due: today, Status: nudge.PromisePending, Channel: nudge.SMS, CreatedAt: t0.Add(-time.Hour)}))
			}
			p := newPlanner(db, nudge.NewFixedClock(t0), noopEnqueuer{})
			b.ResetTimer()
			for range b.N {
				st, err := p.Tick(ctx)
				require.NoError(b, err)
				require.Zero(b, st.BrokenPromises)
			}
		})
	}
}

// BenchmarkTimeline measures the pure step planning of one account, without
// any I/O.
func BenchmarkTimeline(b *testing.B) {
	c, err := schedules.Parse("bench.yaml", []byte(testCadence))
	require.NoError(b, err)
	a := dueAccount("A-1", 1)
	in := schedules.DueInput{Account: a, Location: newYork, Since: t0.Add(-time.Hour), Now: t0}
	b.ReportAllocs()
	for b.Loop() {
		res := c.Due(in)
		if len(res.Due) != 1 {
			b.Fatalf("due %d steps, want 1", len(res.Due))
		}
	}
}
