package storetest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/nudgehq/nudge"
)

// CadencePublisher stores or activates a cadence version and audits it in
// one transaction. Every store implements it.
type CadencePublisher interface {
	PutCadenceVersion(ctx context.Context, lender, name string, source []byte, now time.Time, activate bool,
		audit func(version int) nudge.AuditEntry) (int, error)
	ActivateCadenceAudited(ctx context.Context, lender, name string, version int, audit nudge.AuditEntry) error
}

// testPutCadenceVersion shows that a new version is stored, activated and
// audited together or not at all: an audit entry the store refuses (no
// time, checked after the version was stored and activated) leaves the
// versions, the active one and the audit log as they were; without an
// audit entry the version is stored and activated alone; stored without
// activating, it is audited and left inactive; and an activation is
// audited with it or not made.
func testPutCadenceVersion(t *testing.T, s nudge.Store) {
	cp, ok := s.(CadencePublisher)
	require.True(t, ok, "the store stores, activates and audits a cadence version in one transaction")
	ctx := context.Background()
	v1, err := s.PutCadence(ctx, "acme", "standard", []byte("steps: [a]"), T0)
	require.NoError(t, err)
	require.NoError(t, s.ActivateCadence(ctx, "acme", "standard", v1))
	at := T0.Add(time.Hour)
	entry := func(when time.Time) func(int) nudge.AuditEntry {
		return func(v int) nudge.AuditEntry {
			return nudge.AuditEntry{Lender: "acme", Actor: "key_admin", Action: "cadence.promote", Target: "standard",
				Detail: fmt.Sprintf("promoted to version %d", v), At: when}
		}
	}
	state := func() (versions []int, active int, audited []string) {
		t.Helper()
		vs, err := s.ListCadences(ctx, "acme")
		require.NoError(t, err)
		for _, v := range vs {
			versions = append(versions, v.Version)
			if v.Active {
				active = v.Version
			}
		}
		log, err := s.ListAudit(ctx, "acme")
		require.NoError(t, err)
		for _, e := range log {
			audited = append(audited, e.Action+" "+e.Target+": "+e.Detail)
		}
		return versions, active, audited
	}

	_, err = cp.PutCadenceVersion(ctx, "acme", "standard", []byte("steps: [b]"), at, true, entry(time.Time{}))
	require.Error(t, err, "an audit entry without a time is refused")
	versions, active, audited := state()
	require.Equal(t, []int{1}, versions, "the refused version was not stored")
	require.Equal(t, 1, active, "the active version did not change")
	require.Empty(t, audited)

	v2, err := cp.PutCadenceVersion(ctx, "acme", "standard", []byte("steps: [b]"), at, true, entry(at))
	require.NoError(t, err)
	require.Equal(t, 2, v2, "the refused version used no number")
	versions, active, audited = state()
	require.Equal(t, []int{1, 2}, versions)
	require.Equal(t, 2, active)
	require.Equal(t, []string{"cadence.promote standard: promoted to version 2"}, audited)
	cv, err := s.GetCadence(ctx, "acme", "standard", 0)
	require.NoError(t, err)
	require.Equal(t, "steps: [b]", string(cv.Source))

	v3, err := cp.PutCadenceVersion(ctx, "acme", "standard", []byte("steps: [c]"), at, true, nil)
	require.NoError(t, err)
	versions, active, audited = state()
	require.Equal(t, []int{1, 2, 3}, versions)
	require.Equal(t, v3, active)
	require.Len(t, audited, 1, "no audit entry was given")

	_, err = cp.PutCadenceVersion(ctx, "acme", "", []byte("steps: [d]"), at, true, nil)
	require.Error(t, err, "a cadence needs a name")

	v4, err := cp.PutCadenceVersion(ctx, "acme", "standard", []byte("steps: [d]"), at, false, entry(at))
	require.NoError(t, err)
	versions, active, audited = state()
	require.Equal(t, []int{1, 2, 3, 4}, versions)
	require.Equal(t, v3, active, "stored without activating")
	require.Equal(t, "cadence.promote standard: promoted to version 4", audited[len(audited)-1])

	activation := nudge.AuditEntry{Lender: "acme", Actor: "key_admin", Action: "cadence.activate", Target: "standard@4"}
	require.Error(t, cp.ActivateCadenceAudited(ctx, "acme", "standard", v4, activation), "an audit entry without a time is refused")
	_, active, after := state()
	require.Equal(t, v3, active, "the refused activation was not made")
	require.Equal(t, audited, after)
	activation.At = at
	require.ErrorIs(t, cp.ActivateCadenceAudited(ctx, "acme", "standard", 9, activation), nudge.ErrNotFound)
	require.NoError(t, cp.ActivateCadenceAudited(ctx, "acme", "standard", v4, activation))
	_, active, after = state()
	require.Equal(t, v4, active)
	require.Equal(t, append(audited, "cadence.activate standard@4: "), after)
}
