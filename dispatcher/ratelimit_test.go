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

func TestRateLimiterNeverExceedsRate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		rate  float64
		burst int
	}{
		{name: "toll-free 3 per second", rate: 3, burst: 1},
		{name: "ten per second", rate: 10, burst: 1},
		{name: "burst of five", rate: 5, burst: 5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rdb := testRedis(t, false)
			clock := nudge.NewFixedClock(noon)
			lim := NewRateLimiter(rdb, clock)
			key := fmt.Sprintf("test-%s-%d", t.Name(), time.Now().UnixNano())
			// Twenty takers hammer the bucket at 100 instants spread over one
			// simulated second.
			var granted atomic.Int64
			for step := range 100 {
				clock.Set(noon.Add(time.Duration(step) * 10 * time.Millisecond))
				var wg sync.WaitGroup
				for range 20 {
					wg.Go(func() {
						ok, wait, err := lim.Take(context.Background(), key, tt.rate, tt.burst)
						if err != nil {
							t.Error(err)
							return
						}
						if ok {
							granted.Add(1)
						} else if wait <= 0 || wait > time.Second {
							t.Errorf("wait %v out of range", wait)
						}
					})
				}
				wg.Wait()
			}
			// Over [0, 1 s): the initial burst plus what refilled since.
			want := int64(tt.burst) + int64(tt.rate*0.99)
			require.Equal(t, want, granted.Load())
		})
	}
}

func TestRateLimiterWait(t *testing.T) {
	t.Parallel()
	rdb := testRedis(t, false)
	clock := nudge.NewFixedClock(noon)
	lim := NewRateLimiter(rdb, clock)
	key := fmt.Sprintf("wait-%d", time.Now().UnixNano())
	ok, _, err := lim.Take(context.Background(), key, 4, 1)
	require.NoError(t, err)
	require.True(t, ok)
	ok, wait, err := lim.Take(context.Background(), key, 4, 1)
	require.NoError(t, err)
	require.False(t, ok)
	require.Equal(t, 250*time.Millisecond, wait)
	clock.Advance(wait)
	ok, _, err = lim.Take(context.Background(), key, 4, 1)
	require.NoError(t, err)
	require.True(t, ok)

	_, _, err = lim.Take(context.Background(), key, 0, 1)
	require.ErrorContains(t, err, "must be positive")
}

func TestRateLimiterServerTime(t *testing.T) {
	t.Parallel()
	rdb := testRedis(t, false)
	lim := NewRateLimiter(rdb, nil)
	key := fmt.Sprintf("time-%d", time.Now().UnixNano())
	ok, _, err := lim.Take(context.Background(), key, 1, 1)
	require.NoError(t, err)
	require.True(t, ok)
	ok, wait, err := lim.Take(context.Background(), key, 1, 1)
	require.NoError(t, err)
	require.False(t, ok)
	require.Greater(t, wait, time.Duration(0))
	require.LessOrEqual(t, wait, time.Second)
}

// TestRateLimiterScriptFlushed: takes that share a pipeline after Redis lost
// its scripts (a restart, SCRIPT FLUSH) load the script again and answer.
func TestRateLimiterScriptFlushed(t *testing.T) {
	t.Parallel()
	rdb := testRedis(t, false)
	clock := nudge.NewFixedClock(noon)
	lim := NewRateLimiter(rdb, clock)
	key := fmt.Sprintf("flushed-%d", time.Now().UnixNano())
	ctx := context.Background()
	ok, _, err := lim.Take(ctx, key, 1, 10)
	require.NoError(t, err)
	require.True(t, ok)
	require.NoError(t, rdb.ScriptFlush(ctx).Err())
	var (
		wg      sync.WaitGroup
		granted atomic.Int64
	)
	for range 12 {
		wg.Go(func() {
			ok, _, err := lim.Take(ctx, key, 1, 10)
			if err != nil {
				t.Error(err)
			}
			if ok {
				granted.Add(1)
			}
		})
	}
	wg.Wait()
	require.Equal(t, int64(9), granted.Load(), "the burst of ten, one taken before the flush")
}

// TestRateLimiterReserve: reservations are handed out in turn, each at
// its own instant a token's refill apart, never beyond the reach, and the
// rate holds over the instants at which the tokens are used.
func TestRateLimiterReserve(t *testing.T) {
	t.Parallel()
	rdb := testRedis(t, false)
	clock := nudge.NewFixedClock(noon)
	lim := NewRateLimiter(rdb, clock)
	key := fmt.Sprintf("reserve-%d", time.Now().UnixNano())
	ctx := context.Background()
	var uses []time.Duration
	for range 11 {
		ok, wait, err := lim.Reserve(ctx, key, 10, 1, time.Second)
		require.NoError(t, err)
		require.True(t, ok)
		uses = append(uses, wait)
	}
	for i, w := range uses {
		require.Equal(t, time.Duration(i)*100*time.Millisecond, w, "reservation %d", i)
	}
	ok, wait, err := lim.Reserve(ctx, key, 10, 1, time.Second)
	require.NoError(t, err)
	require.False(t, ok, "the next free token is beyond the reach")
	require.Equal(t, 1100*time.Millisecond, wait)
	ok, _, err = lim.Take(ctx, key, 10, 1)
	require.NoError(t, err)
	require.False(t, ok, "a plain take does not jump the reservations")

	clock.Advance(1100 * time.Millisecond)
	ok, wait, err = lim.Reserve(ctx, key, 10, 1, 0)
	require.NoError(t, err)
	require.True(t, ok, "once every reserved token has refilled, the next is free")
	require.Zero(t, wait)
}
