package bench

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestWorkerRSSRow reports a real worker process's memory when the run had
// one, and says so; the bench process's otherwise.
func TestWorkerRSSRow(t *testing.T) {
	r := &Report{Dispatch: DispatchResult{Pipeline: WorkerRun{PeakRSS: 120 << 20}, Raw: WorkerRun{PeakRSS: 40 << 20}}}
	row := r.workerRSSRow()
	require.Contains(t, row.Result, "bench process")
	require.Equal(t, "MISSED", row.Verdict, "120 MiB is over the target")

	r.Scale = []ScaleRun{{Workers: 2, PeakRSS: []int64{10 << 20, 10 << 20}}, {Workers: 1, Reminders: 20000, PeakRSS: []int64{82 << 20}}}
	row = r.workerRSSRow()
	require.Contains(t, row.Result, "82")
	require.Contains(t, row.Result, "nudge worker")
	require.Contains(t, row.Ceiling, "bench process 120")
	require.Equal(t, "ok", row.Verdict)
}

// TestSQLiteDispatchRow reports the dispatch over SQLite beside its own raw
// Asynq rate, against the share it reached before #16.
func TestSQLiteDispatchRow(t *testing.T) {
	run := func(rate float64) *DispatchResult {
		return &DispatchResult{Raw: WorkerRun{Done: 1000, Elapsed: time.Second}, Pipeline: WorkerRun{Done: int(rate * 1000), Elapsed: time.Second}}
	}
	find := func(r *Report) (Row, bool) {
		for _, row := range r.Rows() {
			if row.Measure == "dispatch on SQLite: reminders processed/s" {
				return row, true
			}
		}
		return Row{}, false
	}
	_, ok := find(&Report{})
	require.False(t, ok, "no row without a SQLite run")
	row, ok := find(&Report{SQLite: run(SQLiteDispatchFloor + 0.01)})
	require.True(t, ok)
	require.Equal(t, "ok", row.Verdict)
	require.Contains(t, row.Ceiling, "raw Asynq 1000/s")
	row, _ = find(&Report{SQLite: run(SQLiteDispatchFloor - 0.01)})
	require.Equal(t, "MISSED", row.Verdict)
}
