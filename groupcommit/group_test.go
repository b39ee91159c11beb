package groupcommit

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestGroupSharesCalls has many callers hand items at once to a slow
// function: they share calls, each gets its own result, none returns before
// its item is done, and a caller whose context is cancelled does not cancel
// the others' call.
func TestGroupSharesCalls(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		linger time.Duration
	}{
		{"no linger", -1},
		{"linger", 2 * time.Millisecond},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var (
				mu    sync.Mutex
				done  = map[string]bool{}
				calls []int
				inDo  atomic.Int32
			)
			g := New(func(ctx context.Context, items []string) []string {
				require.LessOrEqual(t, inDo.Add(1), int32(2), "at most two calls at a time")
				defer inDo.Add(-1)
				time.Sleep(5 * time.Millisecond)
				out := make([]string, len(items))
				mu.Lock()
				defer mu.Unlock()
				calls = append(calls, len(items))
				for i, it := range items {
					if ctx.Err() != nil {
						out[i] = "cancelled"
						continue
					}
					done[it] = true
					out[i] = "done " + it
				}
				return out
			}, Config{Max: 8, Lanes: 2, Linger: tc.linger})

			const callers = 100
			var wg sync.WaitGroup
			for i := range callers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					ctx, cancel := context.WithCancel(context.Background())
					if i%10 == 0 {
						cancel() // a caller whose task was cancelled meanwhile
					}
					defer cancel()
					id := fmt.Sprintf("item_%03d", i)
					got := g.Do(ctx, id)
					mu.Lock()
					require.True(t, done[id], "%s returns only once done", id)
					mu.Unlock()
					require.Equal(t, "done "+id, got, "%s gets its own result", id)
				}()
			}
			wg.Wait()
			g.mu.Lock()
			require.Zero(t, g.busy, "every lane is given back")
			require.Empty(t, g.queue)
			g.mu.Unlock()
			total := 0
			for _, n := range calls {
				require.LessOrEqual(t, n, 8, "a call holds at most Max items")
				total += n
			}
			require.Equal(t, callers, total)
			require.Less(t, len(calls), callers/2, "concurrent callers share calls: %v", calls)

			// Alone, a caller makes its call by itself (after the linger).
			calls = nil
			require.Equal(t, "done alone", g.Do(context.Background(), "alone"))
			require.Equal(t, []int{1}, calls)
		})
	}
}

// TestGroupLingerGathers shows what the linger is for: while calls are
// shared, callers arriving a little apart share one call, made as soon as it
// is full; a lone caller does not wait.
func TestGroupLingerGathers(t *testing.T) {
	t.Parallel()
	run := func(linger time.Duration) []int { //nolint:unparam // one linger today; the helper reads as the experiment it is
		var (
			mu    sync.Mutex
			calls []int
		)
		g := New(func(_ context.Context, items []int) []int {
			mu.Lock()
			calls = append(calls, len(items))
			mu.Unlock()
			return items
		}, Config{Max: 4, Linger: linger})
		// Alone, a caller does not linger (or this test would take its
		// minute).
		require.Equal(t, -1, g.Do(context.Background(), -1))
		g.last = 2 // as if the calls were being shared
		var wg sync.WaitGroup
		for i := range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				time.Sleep(time.Duration(i) * time.Millisecond)
				require.Equal(t, i, g.Do(context.Background(), i))
			}()
		}
		wg.Wait()
		return calls
	}
	require.Equal(t, []int{1, 4}, run(time.Minute), "a full call does not wait out the linger")
}

// TestGroupLingerForLast has callers come back together, as a fixed set of
// clients does: with LingerForLast a call is made as soon as it holds as
// many items as the last one, not after the linger (an hour here); without
// it, the callers would wait for a full call or the linger.
func TestGroupLingerForLast(t *testing.T) {
	t.Parallel()
	var (
		mu    sync.Mutex
		calls [][]string
	)
	g := New(func(_ context.Context, items []string) []string {
		mu.Lock()
		calls = append(calls, slices.Clone(items))
		mu.Unlock()
		return items
	}, Config{Max: 64, Linger: time.Hour, LingerForLast: true})
	g.last, g.inPlay = 3, 3 // the last call carried three items, none queued behind it
	queued := func(n int) func() bool {
		return func() bool {
			g.mu.Lock()
			defer g.mu.Unlock()
			return len(g.queue) == n && g.lingers == 1
		}
	}
	done := make(chan string, 3)
	do := func(item string) {
		go func() { done <- g.Do(context.Background(), item) }()
	}
	do("a")
	require.Eventually(t, queued(0), 10*time.Second, time.Millisecond, "a lingers for the others")
	do("b")
	require.Eventually(t, queued(1), 10*time.Second, time.Millisecond, "b joins a's call")
	do("c")
	got := make([]string, 0, 3)
	for range 3 {
		select {
		case item := <-done:
			got = append(got, item)
		case <-time.After(10 * time.Second):
			t.Fatal("the call waited out the linger although it held as many items as the last")
		}
	}
	require.ElementsMatch(t, []string{"a", "b", "c"}, got)
	require.Equal(t, [][]string{{"a", "b", "c"}}, calls)
	require.Equal(t, 3, g.last)
}

// TestGroupLingerForLastMerges shows the handed lane's linger: callers that
// queued behind a call wait, when it returns, for its caller to come back,
// so that a fixed set of callers shares one call instead of two
// alternating ones.
func TestGroupLingerForLastMerges(t *testing.T) {
	t.Parallel()
	var (
		mu    sync.Mutex
		calls [][]string
	)
	release := make(chan struct{})
	g := New(func(_ context.Context, items []string) []string {
		if items[0] == "x" {
			<-release
		}
		mu.Lock()
		calls = append(calls, slices.Clone(items))
		mu.Unlock()
		return items
	}, Config{Max: 64, Linger: time.Hour, LingerForLast: true})
	done := make(chan string, 5)
	do := func(item string) {
		go func() { done <- g.Do(context.Background(), item) }()
	}
	state := func(queued, lingers int) func() bool {
		return func() bool {
			g.mu.Lock()
			defer g.mu.Unlock()
			return g.busy == 1 && len(g.queue) == queued && g.lingers == lingers
		}
	}
	do("x") // alone: its call is made at once, and blocks
	require.Eventually(t, state(0, 0), 10*time.Second, time.Millisecond)
	for _, item := range []string{"b", "c", "d"} {
		do(item)
	}
	require.Eventually(t, state(3, 0), 10*time.Second, time.Millisecond, "b, c and d queue behind x's call")
	close(release)
	got := []string{<-done}
	require.Equal(t, []string{"x"}, got, "x's caller is answered")
	require.Eventually(t, state(2, 1), 10*time.Second, time.Millisecond, "b is handed the lane and lingers for x's caller")
	do("x2") // x's caller comes back
	for range 4 {
		select {
		case item := <-done:
			got = append(got, item)
		case <-time.After(10 * time.Second):
			t.Fatal("the handed lane waited out the linger although as many items as were in play had come")
		}
	}
	require.ElementsMatch(t, []string{"x", "b", "c", "d", "x2"}, got)
	require.Len(t, calls, 2, "b, c, d and x2 share one call: %v", calls)
	require.Equal(t, []string{"x"}, calls[0])
	require.ElementsMatch(t, []string{"b", "c", "d", "x2"}, calls[1])
}
