package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/nudgehq/nudge"
)

// SnapshotStore is what the send path reads a reminder's and an account's
// state with, each in one round trip where the backend allows. The suite
// checks it when the store under test implements it: every snapshot must
// equal the separate reads it replaces.
type SnapshotStore interface {
	LoadReminder(ctx context.Context, id string) (nudge.Reminder, []nudge.Attempt, error)
	AccountSnapshot(ctx context.Context, lender, id string, q nudge.AccountSnapshotQuery) (nudge.AccountSnapshot, error)
	OptedOut(ctx context.Context, lender string, refs []nudge.ContactRef) ([]nudge.ContactRef, error)
}

func testSnapshots(t *testing.T, s nudge.Store) {
	ss, ok := s.(SnapshotStore)
	if !ok {
		t.Skip("the store does not implement SnapshotStore")
	}
	ctx := context.Background()
	acct := Account("snap", "S-1")
	acct.Contacts = append(acct.Contacts, nudge.Contact{Channel: nudge.SMS, Address: "+15125550199", Consent: true})
	require.NoError(t, s.UpsertAccounts(ctx, []nudge.Account{acct, Account("snap", "S-2")}, T0))
	require.NoError(t, s.AddHold(ctx, "snap", "S-1", nudge.Hold{Kind: nudge.HoldDispute, Reason: "says paid"}, T0))
	rs, err := s.InsertReminders(ctx, []nudge.Reminder{Reminder("snap", "S-1", "d0", T0), Reminder("snap", "S-1", "d1", T0.Add(time.Hour))})
	require.NoError(t, err)
	attempt := func(ch nudge.ChannelKind, at time.Time) nudge.Attempt {
		a := Attempt(rs[0].ID, "S-1", ch, at)
		a.Lender = "snap"
		got, err := s.ClaimAttempt(ctx, a, nil)
		require.NoError(t, err)
		return got
	}
	sms := attempt(nudge.SMS, T0)
	attempt(nudge.Email, T0.Add(time.Minute))
	require.NoError(t, s.InsertPromise(ctx, nudge.Promise{ID: "prm_snap", Lender: "snap", AccountID: "S-1", Amount: "100.00",
		Currency: "USD", Due: nudge.MustDate("2026-06-10"), Channel: nudge.SMS, CreatedAt: T0}))
	_, err = s.SetPause(ctx, nudge.Pause{Lender: "snap", Scope: nudge.PauseChannel, Target: "voice", Reason: "carrier issue", Actor: "ops", CreatedAt: T0})
	require.NoError(t, err)
	_, err = s.AddOptOut(ctx, nudge.OptOut{Lender: "snap", Channel: nudge.SMS, Address: "+15125550199", Source: "sms_keyword", CreatedAt: T0})
	require.NoError(t, err)
	_, err = s.AddOptOut(ctx, nudge.OptOut{Lender: "snap", Channel: nudge.Email, Address: "Ana@Example.com ", Source: "unsubscribe", CreatedAt: T0})
	require.NoError(t, err)
	_, err = s.AddOptOut(ctx, nudge.OptOut{Lender: "other", Channel: nudge.SMS, Address: "+15125550100", Source: "sms_keyword", CreatedAt: T0})
	require.NoError(t, err)

	t.Run("LoadReminder equals GetReminder and GetAttempt", func(t *testing.T) {
		r, attempts, err := ss.LoadReminder(ctx, rs[0].ID)
		require.NoError(t, err)
		want, err := s.GetReminder(ctx, rs[0].ID)
		require.NoError(t, err)
		require.Equal(t, want, r)
		require.Len(t, attempts, 2)
		for _, a := range attempts {
			one, err := s.GetAttempt(ctx, a.ID)
			require.NoError(t, err)
			require.Equal(t, one, a)
		}
		_, none, err := ss.LoadReminder(ctx, rs[1].ID)
		require.NoError(t, err)
		require.Empty(t, none)
		_, _, err = ss.LoadReminder(ctx, "rem_missing")
		require.ErrorIs(t, err, nudge.ErrNotFound)
	})

	t.Run("AccountSnapshot equals the separate reads", func(t *testing.T) {
		refs := []nudge.ContactRef{{Channel: nudge.SMS, Address: "+15125550100"}, {Channel: nudge.SMS, Address: "+15125550199"},
			{Channel: nudge.Email, Address: "ana@example.com"}}
		snap, err := ss.AccountSnapshot(ctx, "snap", "S-1", nudge.AccountSnapshotQuery{
			HistorySince: T0.Add(-time.Hour), Promise: true, Pauses: true, OptOuts: refs})
		require.NoError(t, err)
		wantAcct, err := s.GetAccount(ctx, "snap", "S-1")
		require.NoError(t, err)
		require.Equal(t, wantAcct, snap.Account)
		require.Len(t, snap.Account.Holds, 1)
		hist, err := s.AttemptHistory(ctx, "snap", "S-1", T0.Add(-time.Hour))
		require.NoError(t, err)
		require.Len(t, hist, 2)
		require.Equal(t, hist, snap.History)
		prm, err := s.ActivePromise(ctx, "snap", "S-1")
		require.NoError(t, err)
		require.NotNil(t, snap.Promise)
		require.Equal(t, prm, *snap.Promise)
		pauses, err := s.ListPauses(ctx, "snap")
		require.NoError(t, err)
		require.Equal(t, pauses, snap.Pauses)
		require.Equal(t, []nudge.ContactRef{refs[1], refs[2]}, snap.OptedOut, "only the addresses that opted out with this lender, an email in any case")
		require.True(t, snap.IsOptedOut(nudge.SMS, "+15125550199"))
		require.False(t, snap.IsOptedOut(nudge.SMS, "+15125550100"), "another lender's opt-out does not count")
		for _, r := range refs {
			one, err := s.IsOptedOut(ctx, "snap", r.Channel, r.Address)
			require.NoError(t, err)
			require.Equal(t, one, snap.IsOptedOut(r.Channel, r.Address), r.Address)
		}
		opted, err := ss.OptedOut(ctx, "snap", refs)
		require.NoError(t, err)
		require.Equal(t, snap.OptedOut, opted)
	})

	t.Run("AccountSnapshot says whether another reminder reached a provider", func(t *testing.T) {
		contacted := func(besides string) bool {
			snap, err := ss.AccountSnapshot(ctx, "snap", "S-1", nudge.AccountSnapshotQuery{ContactedBesides: besides})
			require.NoError(t, err)
			return snap.Contacted
		}
		require.False(t, contacted(rs[1].ID), "claimed attempts never reached a provider")
		changed, err := s.UpdateAttempt(ctx, sms.ID, nudge.AttemptUpdate{Status: nudge.AttemptSent, ProviderID: "SMsnap",
			SentAt: T0.Add(time.Minute), At: T0.Add(time.Minute)})
		require.NoError(t, err)
		require.True(t, changed)
		require.True(t, contacted(rs[1].ID), "the first reminder's text reached the provider")
		require.False(t, contacted(rs[0].ID), "a reminder's own attempts do not count")
	})

	t.Run("AccountSnapshot reads only what is asked", func(t *testing.T) {
		snap, err := ss.AccountSnapshot(ctx, "snap", "S-2", nudge.AccountSnapshotQuery{})
		require.NoError(t, err)
		require.Equal(t, "S-2", snap.Account.ID)
		require.Len(t, snap.Account.Contacts, 3)
		require.Empty(t, snap.Account.Holds)
		require.Nil(t, snap.History)
		require.Nil(t, snap.Promise)
		require.Nil(t, snap.Pauses)
		require.Nil(t, snap.OptedOut)
		_, err = ss.AccountSnapshot(ctx, "snap", "S-404", nudge.AccountSnapshotQuery{Promise: true})
		require.ErrorIs(t, err, nudge.ErrNotFound)
		_, err = ss.AccountSnapshot(ctx, "other", "S-1", nudge.AccountSnapshotQuery{})
		require.ErrorIs(t, err, nudge.ErrNotFound, "another lender's account is not found")
	})
}
