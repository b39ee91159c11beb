package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/nudgehq/nudge"
	"github.com/nudgehq/nudge/kpi"
	"github.com/nudgehq/nudge/store"
)

// ExperimentStore records experiment assignments and counts them. The
// suite checks it when the store under test implements it.
type ExperimentStore interface {
	AssignArms(ctx context.Context, as []nudge.ArmAssignment, record bool) ([]nudge.ArmAssignment, error)
	ArmCounts(ctx context.Context, lender, experiment string) (map[string]int64, error)
	KPIStore
}

func testExperiments(t *testing.T, s nudge.Store) {
	es, ok := s.(ExperimentStore)
	if !ok {
		t.Skip("the store does not implement ExperimentStore")
	}
	ctx := context.Background()
	as := func(arm string, ids ...string) []nudge.ArmAssignment {
		var out []nudge.ArmAssignment
		for _, id := range ids {
			out = append(out, nudge.ArmAssignment{Lender: "acme", AccountID: id, Experiment: "x", Cadence: "c", Arm: arm, AssignedAt: T0})
		}
		return out
	}
	got, err := es.AssignArms(ctx, as("a", "A-1", "A-2"), true)
	require.NoError(t, err)
	require.ElementsMatch(t, as("a", "A-1", "A-2"), got)

	// Recorded once: a later assignment (other weights, say) changes nothing.
	got, err = es.AssignArms(ctx, append(as("b", "A-1"), as("b", "A-3")...), true)
	require.NoError(t, err)
	require.ElementsMatch(t, append(as("a", "A-1"), as("b", "A-3")...), got)

	// A look-up records nothing and leaves unassigned accounts out.
	got, err = es.AssignArms(ctx, as("", "A-2", "A-4"), false)
	require.NoError(t, err)
	require.Equal(t, as("a", "A-2"), got)
	counts, err := es.ArmCounts(ctx, "acme", "x")
	require.NoError(t, err)
	require.Equal(t, map[string]int64{"a": 2, "b": 1}, counts)
	counts, err = es.ArmCounts(ctx, "beta", "x")
	require.NoError(t, err)
	require.Empty(t, counts)

	_, err = es.AssignArms(ctx, as("", "A-5"), true)
	require.ErrorContains(t, err, "arm, cadence and time to record it")

	// A reminder keeps its arm, and the KPIs are grouped by it ("none"
	// outside an experiment).
	require.NoError(t, s.UpsertAccounts(ctx, []nudge.Account{Account("acme", "A-1"), Account("acme", "A-2")}, T0))
	for _, tc := range []struct {
		acct, arm string
		status    nudge.AttemptStatus
	}{{"A-1", "a", nudge.AttemptDelivered}, {"A-2", "", nudge.AttemptUndelivered}} {
		rs, err := s.InsertReminders(ctx, []nudge.Reminder{{Key: nudge.ReminderKey{Lender: "acme", AccountID: tc.acct, Cadence: "c", Step: "s1",
			Cycle: nudge.MustDate("2026-06-01")}, CadenceVersion: 1, Channel: nudge.SMS, DueAt: T0, CreatedAt: T0, Arm: tc.arm}})
		require.NoError(t, err)
		r, err := s.GetReminder(ctx, rs[0].ID)
		require.NoError(t, err)
		require.Equal(t, tc.arm, r.Arm)
		a, err := s.ClaimAttempt(ctx, nudge.Attempt{ReminderID: r.ID, Lender: "acme", AccountID: tc.acct, Channel: nudge.SMS,
			Address: "+15125550100", Status: nudge.AttemptSending, CreatedAt: T0}, nil)
		require.NoError(t, err)
		_, err = s.UpdateAttempt(ctx, a.ID, nudge.AttemptUpdate{Status: tc.status, At: T0})
		require.NoError(t, err)
	}
	now := T0.Add(24 * time.Hour)
	q := store.KPIQuery{Lender: "acme", From: nudge.DateOf(T0), To: nudge.DateOf(T0), Now: now, By: []kpi.Dimension{kpi.Arm}}
	for _, live := range []bool{true, false} {
		if !live {
			_, err := es.RollupKPIs(ctx, "acme", now, 0)
			require.NoError(t, err)
		}
		q.Live = live
		rows, err := es.KPIs(ctx, q)
		require.NoError(t, err)
		require.Len(t, rows, 2)
		require.Equal(t, []string{"a"}, rows[0].Dims)
		require.Equal(t, int64(1), rows[0].Counts.Delivered)
		require.Equal(t, []string{kpi.NoArm}, rows[1].Dims)
		require.Equal(t, int64(0), rows[1].Counts.Delivered)
		require.Equal(t, int64(1), rows[1].Counts.Sent)
	}
}
