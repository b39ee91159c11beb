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
