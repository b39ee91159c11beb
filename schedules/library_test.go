package schedules_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/nudgehq/nudge"
	"github.com/nudgehq/nudge/compliance"
	"github.com/nudgehq/nudge/schedules"
)

// countingCadences is a CadenceStore that counts the reads of active versions.
type countingCadences struct {
	reads  int
	active []nudge.CadenceVersion
}

func (c *countingCadences) ActiveCadences(_ context.Context, lender string) ([]nudge.CadenceVersion, error) {
	c.reads++
	var out []nudge.CadenceVersion
	for _, v := range c.active {
		if v.Lender == lender {
			out = append(out, v)
		}
	}
	return out, nil
}

func (c *countingCadences) GetCadence(_ context.Context, _, name string, version int) (nudge.CadenceVersion, error) {
	for _, v := range c.active {
		if v.Name == name && v.Version == version {
			return v, nil
		}
	}
	return nudge.CadenceVersion{}, nudge.ErrNotFound
}

const libraryCadence = `name: short
profile: us
applies_to:
  days_past_due: {min: 0, max: 5}
steps:
  - {id: due-sms, day: 0, at: "10:00", channel: sms, template: due_sms}
`

func TestLibraryCachesActiveVersions(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := &countingCadences{active: []nudge.CadenceVersion{{Lender: "demo", Name: "short", Version: 1, Source: []byte(libraryCadence), Active: true}}}
	clock := nudge.NewFixedClock(time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC))
	lib := schedules.NewLibrary(st, compliance.NewRegistry())
	lib.CacheActive(10*time.Second, clock)

	for range 3 {
		cs, err := lib.Cadences(ctx, "demo")
		require.NoError(t, err)
		require.Len(t, cs, 1)
		require.Equal(t, "short", cs[0].Name)
	}
	require.Equal(t, 1, st.reads, "one read serves the ttl")

	st.active = nil // deactivated
	clock.Advance(11 * time.Second)
	cs, err := lib.Cadences(ctx, "demo")
	require.NoError(t, err)
	require.Empty(t, cs, "a change shows once the ttl has passed")
	require.Equal(t, 2, st.reads)

	uncached := schedules.NewLibrary(st, compliance.NewRegistry())
	_, _ = uncached.Cadences(ctx, "demo")
	_, _ = uncached.Cadences(ctx, "demo")
	require.Equal(t, 4, st.reads, "without CacheActive every call reads")
}

func TestLibraryProfiles(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := &countingCadences{active: []nudge.CadenceVersion{{Lender: "demo", Name: "short", Version: 1, Source: []byte(libraryCadence), Active: true}}}
	lib := schedules.NewLibrary(st, compliance.NewRegistry())

	p, err := lib.ActiveProfile(ctx, "demo", "short")
	require.NoError(t, err)
	require.Equal(t, "us", p.Name)
	_, err = lib.ActiveProfile(ctx, "demo", "gone")
	require.ErrorContains(t, err, "cadence gone of lender demo is not active")

	p, ok, err := lib.AccountProfile(ctx, nudge.Account{Lender: "demo", Portfolio: "auto"})
	require.NoError(t, err)
	require.True(t, ok, "a cadence without portfolios covers every portfolio")
	require.Equal(t, "us", p.Name)
	_, ok, err = lib.AccountProfile(ctx, nudge.Account{Lender: "nobody"})
	require.NoError(t, err)
	require.False(t, ok)
}
