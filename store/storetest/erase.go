package storetest

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/nudgehq/nudge"
)

// Eraser is implemented by stores that can erase a borrower's personal data;
// the suite checks it when the store under test implements it.
type Eraser interface {
	ErasePersonalData(ctx context.Context, lender, accountID string, now time.Time) error
}

// eraseNumber and eraseEmail are the fixture borrower's addresses.
const (
	eraseNumber = "+15125550100"
	eraseEmail  = "ana@example.com"
)

func testErasePersonalData(t *testing.T, s nudge.Store) {
	es, ok := s.(Eraser)
	if !ok {
		t.Skip("the store does not implement Eraser")
	}
	ctx := context.Background()
	a1 := Account("acme", "A-1")
	a1.Holds = []nudge.Hold{{Kind: nudge.HoldHardship, Reason: "Ana lost her job at the clinic"}}
	other := Account("acme", "A-2")
	other.Borrower.Name = "Bo Li"
	other.Contacts = []nudge.Contact{{Channel: nudge.SMS, Address: "+15125550199", Consent: true}}
	foreign := Account("beta", "A-1")
	require.NoError(t, s.UpsertAccounts(ctx, []nudge.Account{a1, other, foreign}, T0))
	require.NoError(t, s.SetContactState(ctx, "acme", "A-1", nudge.Voice, eraseNumber, nudge.ContactWrongParty))

	rs, err := s.InsertReminders(ctx, []nudge.Reminder{Reminder("acme", "A-1", "due-sms", T0)})
	require.NoError(t, err)
	_, err = s.ClaimAttempt(ctx, Attempt(rs[0].ID, "A-1", nudge.SMS, T0), nil)
	require.NoError(t, err)
	for _, r := range []nudge.Reply{
		{Lender: "acme", AccountID: "A-1", Channel: nudge.SMS, From: eraseNumber, To: "+15125550000", Body: "Ana here, I pay Friday",
			Intent: nudge.IntentPromise, ProviderID: "SM-erase-1", CreatedAt: T0},
		{Lender: "acme", Channel: nudge.SMS, From: eraseNumber, To: "+15125550000", Body: "who is this",
			Intent: nudge.IntentUnknown, ProviderID: "SM-erase-2", CreatedAt: T0},
		{Lender: "acme", AccountID: "A-2", Channel: nudge.SMS, From: "+15125550199", To: "+15125550000", Body: "Bo: paid",
			Intent: nudge.IntentPaid, ProviderID: "SM-erase-3", CreatedAt: T0},
	} {
		_, err := s.InsertReply(ctx, r)
		require.NoError(t, err)
	}
	promise := nudge.Promise{ID: "prm_erase", Lender: "acme", AccountID: "A-1", Amount: "412.50", Currency: "USD",
		Due: nudge.MustDate("2026-06-10"), Status: nudge.PromisePending, Channel: nudge.SMS, ReplyID: "rep_x", CreatedAt: T0, UpdatedAt: T0}
	require.NoError(t, s.InsertPromise(ctx, promise))
	for _, o := range []nudge.OptOut{
		{Lender: "acme", Channel: nudge.SMS, Address: eraseNumber, Source: "sms_keyword", Reason: "STOP texting Ana", CreatedAt: T0},
		{Lender: "acme", Channel: nudge.Email, Address: "Ana@Example.com", Source: "email_link", CreatedAt: T0},
		{Lender: "beta", Channel: nudge.SMS, Address: eraseNumber, Source: "sms_keyword", CreatedAt: T0},
	} {
		_, err := s.AddOptOut(ctx, o)
		require.NoError(t, err)
	}
	for _, d := range []string{
		`{"channel": "sms", "address": "+1********00", "input": "stop", "status": "sent", "nested": {"note": "called +1 512 555 0100", "n": 2}}`,
		`{"By": "cancel_account", "To": "+15125550100", "list": ["ana@example.com", "kept"]}`,
		`{"until": "2026-06-02T13:00:00Z"}`,
	} {
		require.NoError(t, s.AppendEvent(ctx, nudge.Event{Lender: "acme", AccountID: "A-1", Kind: nudge.EventCallback,
			Detail: json.RawMessage(d), At: T0}))
	}
	require.NoError(t, s.AppendEvent(ctx, nudge.Event{Lender: "acme", AccountID: "A-2", Kind: nudge.EventCallback,
		Detail: json.RawMessage(`{"to": "+15125550199"}`), At: T0}))

	at := T0.Add(time.Hour)
	require.NoError(t, es.ErasePersonalData(ctx, "acme", "A-1", at))

	got, err := s.GetAccount(ctx, "acme", "A-1")
	require.NoError(t, err)
	require.Empty(t, got.Borrower.Name)
	require.Empty(t, got.Borrower.Timezone)
	require.Nil(t, got.Address)
	require.Equal(t, nudge.StatusClosed, got.Status)
	require.True(t, got.NextActionAt.IsZero(), "no further planning")
	require.Equal(t, []nudge.Contact{
		{Channel: nudge.SMS, Address: "erased-0", Consent: true},
		{Channel: nudge.Voice, Address: "erased-1", Consent: true, State: nudge.ContactWrongParty},
		{Channel: nudge.Email, Address: "erased-2"},
	}, got.Contacts, "the contacts keep their shape, not their addresses")
	require.Equal(t, []nudge.Hold{{Kind: nudge.HoldHardship}}, got.Holds)
	doc, err := json.Marshal(got)
	require.NoError(t, err)
	for _, pii := range []string{"Ana", "5550100", "ana@", "73301", "TX", "Chicago"} {
		require.NotContains(t, string(doc), pii)
	}

	due, err := s.DueAccounts(ctx, at.Add(time.Hour), 10)
	require.NoError(t, err)
	for _, a := range due {
		require.False(t, a.Lender == "acme" && a.ID == "A-1", "an erased account is never due")
	}
	found, err := s.AccountsByAddress(ctx, nudge.SMS, eraseNumber)
	require.NoError(t, err)
	require.Len(t, found, 1)
	require.Equal(t, "beta", found[0].Lender, "only the other lender's account still has the number")

	atts, err := s.AttemptHistory(ctx, "acme", "A-1", time.Time{})
	require.NoError(t, err)
	require.Len(t, atts, 1)
	require.Empty(t, atts[0].Address)

	replies, err := s.ListReplies(ctx, "acme", false)
	require.NoError(t, err)
	require.Len(t, replies, 3)
	for _, r := range replies {
		if r.ProviderID == "SM-erase-3" {
			require.Equal(t, "Bo: paid", r.Body, "another borrower's reply is kept")
			continue
		}
		require.Empty(t, r.From, r.ProviderID)
		require.Empty(t, r.Body, r.ProviderID)
	}

	ps, err := s.ListPromises(ctx, "acme", "A-1")
	require.NoError(t, err)
	require.Equal(t, []nudge.Promise{promise}, ps, "promises hold no personal data")

	for _, tc := range []struct {
		name    string
		lender  string
		channel nudge.ChannelKind
		address string
		want    bool
	}{
		{name: "sms", lender: "acme", channel: nudge.SMS, address: eraseNumber, want: true},
		{name: "email in another case", lender: "acme", channel: nudge.Email, address: "ANA@example.com", want: true},
		{name: "voice never opted out", lender: "acme", channel: nudge.Voice, address: eraseNumber},
	} {
		out, err := s.IsOptedOut(ctx, tc.lender, tc.channel, tc.address)
		require.NoError(t, err, tc.name)
		require.Equal(t, tc.want, out, tc.name)
	}
	oos, err := s.ListOptOuts(ctx, "acme")
	require.NoError(t, err)
	require.Len(t, oos, 2)
	for _, o := range oos {
		require.Empty(t, o.Address)
		require.Empty(t, o.Reason)
		require.Len(t, o.AddressHash, 64)
		require.NotEmpty(t, o.Source)
	}
	betaOOs, err := s.ListOptOuts(ctx, "beta")
	require.NoError(t, err)
	require.Equal(t, eraseNumber, betaOOs[0].Address, "another lender's opt-out is untouched")

	evs, err := s.Events(ctx, "acme", "A-1")
	require.NoError(t, err)
	require.Len(t, evs, 3)
	require.JSONEq(t, `{"channel": "sms", "status": "sent", "nested": {"n": 2}}`, string(evs[0].Detail))
	require.JSONEq(t, `{"By": "cancel_account", "list": ["kept"]}`, string(evs[1].Detail))
	require.JSONEq(t, `{"until": "2026-06-02T13:00:00Z"}`, string(evs[2].Detail))

	audit, err := s.ListAudit(ctx, "acme")
	require.NoError(t, err)
	require.NotEmpty(t, audit)
	last := audit[len(audit)-1]
	require.Equal(t, "erase_personal_data", last.Action)
	require.Equal(t, "A-1", last.Target)
	require.Equal(t, "system", last.Actor)
	require.Equal(t, at, last.At)
	require.JSONEq(t, `{"contacts": 3, "attempts": 1, "replies": 2, "opt_outs": 2, "events": 2}`, last.Detail)
	for _, pii := range []string{"Ana", "5550100", "ana@"} {
		require.NotContains(t, last.Detail, pii)
	}

	// Other accounts and lenders are untouched.
	bo, err := s.GetAccount(ctx, "acme", "A-2")
	require.NoError(t, err)
	require.Equal(t, "Bo Li", bo.Borrower.Name)
	require.Equal(t, "+15125550199", bo.Contacts[0].Address)
	boEvents, err := s.Events(ctx, "acme", "A-2")
	require.NoError(t, err)
	require.JSONEq(t, `{"to": "+15125550199"}`, string(boEvents[0].Detail))
	b1, err := s.GetAccount(ctx, "beta", "A-1")
	require.NoError(t, err)
	require.Equal(t, foreign.Borrower, b1.Borrower)
	require.Equal(t, nudge.StatusActive, b1.Status)

	// Erasing again is harmless and changes nothing more.
	require.NoError(t, es.ErasePersonalData(ctx, "acme", "A-1", at.Add(time.Minute)))
	again, err := s.GetAccount(ctx, "acme", "A-1")
	require.NoError(t, err)
	require.Equal(t, got.Contacts, again.Contacts)
	audit, err = s.ListAudit(ctx, "acme")
	require.NoError(t, err)
	require.JSONEq(t, `{"contacts": 0, "attempts": 0, "replies": 0, "opt_outs": 0, "events": 0}`, audit[len(audit)-1].Detail)

	err = es.ErasePersonalData(ctx, "acme", "missing", at)
	require.ErrorIs(t, err, nudge.ErrNotFound)
	err = es.ErasePersonalData(ctx, "beta", "A-2", at)
	require.ErrorIs(t, err, nudge.ErrNotFound, "an account of another lender is not found")
	require.False(t, strings.Contains(err.Error(), eraseNumber))
}
