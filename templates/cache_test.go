package templates

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestCacheKeepsUpToMaxCached(t *testing.T) {
	t.Parallel()
	var c cache[int, int]
	calls := 0
	square := func(k int) func() (int, error) {
		return func() (int, error) { calls++; return k * k, nil }
	}
	for k := range maxCached + 10 {
		v, err := c.get(k, square(k))
		require.NoError(t, err)
		require.Equal(t, k*k, v)
	}
	require.Equal(t, maxCached+10, calls)
	v, err := c.get(3, square(3))
	require.NoError(t, err)
	require.Equal(t, 9, v)
	require.Equal(t, maxCached+10, calls, "a kept key is not computed again")
	_, err = c.get(maxCached+5, square(maxCached+5))
	require.NoError(t, err)
	require.Equal(t, maxCached+11, calls, "a key past the bound is computed every time")
}

func TestCacheDoesNotKeepFailures(t *testing.T) {
	t.Parallel()
	var c cache[string, string]
	_, err := c.get("k", func() (string, error) { return "", errors.New("boom") })
	require.Error(t, err)
	v, err := c.get("k", func() (string, error) { return "ok", nil })
	require.NoError(t, err)
	require.Equal(t, "ok", v)
}

func TestRecentKeepsTheLastKeyOfEachSlot(t *testing.T) {
	t.Parallel()
	var c recent[int, int]
	calls := 0
	square := func(k int) func() (int, error) {
		return func() (int, error) { calls++; return k * k, nil }
	}
	for range 3 {
		v, err := c.get(7, square(7))
		require.NoError(t, err)
		require.Equal(t, 49, v)
	}
	require.Equal(t, 1, calls, "a key asked for again is not computed again")
	// Fill every slot with other keys: 7 is then computed again, and the
	// value returned is always its key's, never a slot-mate's.
	for k := 100; k < 100+50*recentSlots; k++ {
		v, err := c.get(k, square(k))
		require.NoError(t, err)
		require.Equal(t, k*k, v)
	}
	before := calls
	v, err := c.get(7, square(7))
	require.NoError(t, err)
	require.Equal(t, 49, v)
	require.Equal(t, before+1, calls, "a key pushed out of its slot is computed again")
	_, err = c.get(8, func() (int, error) { return 0, errors.New("boom") })
	require.Error(t, err)
	v, err = c.get(8, square(8))
	require.NoError(t, err)
	require.Equal(t, 64, v, "a failure is not kept")
}
