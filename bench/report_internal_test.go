package bench

import (
	"testing"

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
