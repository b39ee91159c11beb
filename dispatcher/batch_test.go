package dispatcher

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/nudgehq/nudge"
)

// TestOutcomeBatcherSharesCommits has many handlers record at once through
// a slow store: they share transactions, each gets its own result, none
// returns before its outcome is written, and a handler whose context is
// cancelled does not cancel the others' write.
func TestOutcomeBatcherSharesCommits(t *testing.T) {
	t.Parallel()
	var (
		mu      sync.Mutex
		written = map[string]bool{}
		batches []int
		inWrite atomic.Int32
	)
	b := NewOutcomeBatcher(func(ctx context.Context, os []nudge.Outcome) []nudge.OutcomeResult {
		require.LessOrEqual(t, inWrite.Add(1), int32(2), "at most two writes at a time")
		defer inWrite.Add(-1)
		time.Sleep(5 * time.Millisecond)
		out := make([]nudge.OutcomeResult, len(os))
		mu.Lock()
		defer mu.Unlock()
		batches = append(batches, len(os))
		for i, o := range os {
			if ctx.Err() != nil {
				out[i].Err = ctx.Err()
				continue
			}
			written[o.AttemptID] = true
			out[i].AttemptChanged = o.AttemptID[len(o.AttemptID)-1]%2 == 0
		}
		return out
	}, 8, 2)

	const handlers = 100
	var wg sync.WaitGroup
	for i := range handlers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithCancel(context.Background())
			if i%10 == 0 {
				cancel() // a handler whose task was cancelled meanwhile
			}
			defer cancel()
			id := fmt.Sprintf("att_%03d", i)
			res := b.Record(ctx, nudge.Outcome{AttemptID: id})
			mu.Lock()
			require.True(t, written[id], "%s returns only once written", id)
			mu.Unlock()
			require.NoError(t, res.Err)
			require.Equal(t, i%2 == 0, res.AttemptChanged, "%s gets its own result", id)
		}()
	}
	wg.Wait()
	b.mu.Lock()
	require.Zero(t, b.writing, "every lane is given back")
	require.Empty(t, b.queue)
	b.mu.Unlock()
	total := 0
	for _, n := range batches {
		require.LessOrEqual(t, n, 8, "a batch holds at most max outcomes")
		total += n
	}
	require.Equal(t, handlers, total)
	require.Less(t, len(batches), handlers/2, "concurrent handlers share transactions: %v", batches)

	// Alone, a handler writes at once, in a batch of its own.
	batches = nil
	res := b.Record(context.Background(), nudge.Outcome{AttemptID: "att_alone"})
	require.NoError(t, res.Err)
	require.Equal(t, []int{1}, batches)
}
