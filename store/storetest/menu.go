package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/nudgehq/nudge"
)

// testAttemptMenu stores the numbered menu an SMS offered with its attempt,
// as the last gate does with the text, and reads it back through every way
// the store returns attempts.
func testAttemptMenu(t *testing.T, s nudge.Store) {
	ctx := context.Background()
	menu := nudge.Menu{
		"1": {Intent: nudge.IntentPromise, Date: nudge.MustDate("2026-06-08"), Amount: "412.50"},
		"2": {Intent: nudge.IntentPaid},
	}
	a, err := s.ClaimAttempt(ctx, Attempt("rem_menu", "A-1", nudge.SMS, T0), nil)
	require.NoError(t, err)
	require.Nil(t, a.Menu)
	plain, err := s.ClaimAttempt(ctx, Attempt("rem_plain", "A-1", nudge.SMS, T0), nil)
	require.NoError(t, err)

	got, err := s.GetAttempt(ctx, a.ID)
	require.NoError(t, err)
	require.Nil(t, got.Menu, "a claimed attempt has offered nothing yet")

	changed, err := s.UpdateAttempt(ctx, a.ID, nudge.AttemptUpdate{From: nudge.AttemptSending, Status: nudge.AttemptSending,
		Body: "Reply 1 to pay $412.50 by Mon 06/08, 2 if you already paid.", Menu: menu, SendingAt: T0, At: T0})
	require.NoError(t, err)
	require.True(t, changed)
	_, err = s.UpdateAttempt(ctx, plain.ID, nudge.AttemptUpdate{Status: nudge.AttemptSent, Body: "Reply STOP to opt out.", At: T0})
	require.NoError(t, err)

	got, err = s.GetAttempt(ctx, a.ID)
	require.NoError(t, err)
	require.Equal(t, menu, got.Menu)
	got, err = s.GetAttempt(ctx, plain.ID)
	require.NoError(t, err)
	require.Nil(t, got.Menu, "a text without a menu stores none")

	// The same menu again changes nothing; later callbacks keep it.
	changed, err = s.UpdateAttempt(ctx, a.ID, nudge.AttemptUpdate{Menu: menu})
	require.NoError(t, err)
	require.False(t, changed)
	changed, err = s.UpdateAttempt(ctx, a.ID, nudge.AttemptUpdate{Status: nudge.AttemptDelivered, ProviderID: "SM-menu", At: T0.Add(time.Minute)})
	require.NoError(t, err)
	require.True(t, changed)

	byID, err := s.AttemptByProviderID(ctx, "SM-menu")
	require.NoError(t, err)
	require.Equal(t, menu, byID.Menu)
	require.Equal(t, nudge.AttemptDelivered, byID.Status)
	hist, err := s.AttemptHistory(ctx, "acme", "A-1", T0)
	require.NoError(t, err)
	menus := map[string]nudge.Menu{}
	for _, h := range hist {
		menus[h.ID] = h.Menu
	}
	require.Equal(t, map[string]nudge.Menu{a.ID: menu, plain.ID: nil}, menus)
	require.Equal(t, "2026-06-08", menus[a.ID]["1"].Date.String())

	// A claim may carry its menu already (a release sent again keeps it).
	pre := Attempt("rem_pre", "A-1", nudge.SMS, T0)
	pre.Menu = nudge.Menu{"1": {Intent: nudge.IntentTalkToPerson}}
	pre, err = s.ClaimAttempt(ctx, pre, nil)
	require.NoError(t, err)
	got, err = s.GetAttempt(ctx, pre.ID)
	require.NoError(t, err)
	require.Equal(t, nudge.Menu{"1": {Intent: nudge.IntentTalkToPerson}}, got.Menu)
}
