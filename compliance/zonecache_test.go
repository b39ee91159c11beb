package compliance

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestZoneCacheBoundedAndLRU(t *testing.T) {
	t.Parallel()
	c := newNumberCache[[]string](4) // two generations of two
	c.put("a", []string{"A"})
	c.put("b", []string{"B"})
	c.put("c", []string{"C"}) // a, b move to the previous generation
	z, ok := c.get("a")       // a moves forward to the current generation
	require.True(t, ok)
	require.Equal(t, []string{"A"}, z)
	c.put("d", []string{"D"}) // the current generation {c, a} becomes the previous one; b is dropped
	_, ok = c.get("a")
	require.True(t, ok, "a was used recently and must survive the rotation")
	_, ok = c.get("b")
	require.False(t, ok, "b was least recently used and must have been evicted")
	for i := range 100 {
		c.put(fmt.Sprint(i), nil)
	}
	require.LessOrEqual(t, c.len(), 4)
}

func TestPhoneZonesCachedAnswerEqualsUncached(t *testing.T) {
	t.Parallel()
	for _, n := range []string{"+12125550123", "+13105550123", "+8613800138000", "+18005550123", "not a number", "+442071234567"} {
		want := phoneZonesUncached(n)
		require.Equal(t, want, PhoneZones(n), n)
		require.Equal(t, want, PhoneZones(n), "%s, second (cached) call", n)
	}
}

func TestPhoneSiteCachedAnswerEqualsUncached(t *testing.T) {
	t.Parallel()
	for _, n := range []string{"+12125550123", "+13105550123", "+17875550123", "+8613800138000", "+18005550123", "not a number", "+442071234567"} {
		want, wantOK := phoneSiteUncached(n)
		for _, call := range []string{"first", "second (cached)"} {
			got, ok := phoneSite(n)
			require.Equal(t, wantOK, ok, "%s, %s call", n, call)
			require.Equal(t, want, got, "%s, %s call", n, call)
		}
	}
}
