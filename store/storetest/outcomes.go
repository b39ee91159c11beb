package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/nudgehq/nudge"
)

// testRecordOutcomes writes several handlers' outcomes in one call: each
// one's attempt update, reminder change and events together, each with its
// own result, and an outcome that cannot be written takes nothing of itself
// and nothing of the others with it.
func testRecordOutcomes(t *testing.T, s nudge.Store) {
	ctx := context.Background()
	var rems []nudge.Reminder
	var atts []nudge.Attempt
	for i, acct := range []string{"A-1", "A-2", "A-3", "A-4", "A-5"} {
		rs, err := s.InsertReminders(ctx, []nudge.Reminder{Reminder("acme", acct, "d0", T0.Add(time.Duration(i)*time.Minute))})
		require.NoError(t, err)
		a := Attempt(rs[0].ID, acct, nudge.SMS, T0)
		a.Status = nudge.AttemptClaimed
		a, err = s.ClaimAttempt(ctx, a, nil)
		require.NoError(t, err)
		rems, atts = append(rems, rs[0]), append(atts, a)
	}
	require.NoError(t, s.SetReminderStatus(ctx, rems[2].ID, nudge.ReminderCanceled, nudge.ReasonCanceled, time.Time{}, T0))
	at := T0.Add(time.Minute)
	event := func(i int, note string) nudge.Event {
		return nudge.Event{Lender: "acme", AccountID: rems[i].Key.AccountID, ReminderID: rems[i].ID, AttemptID: atts[i].ID,
			Kind: nudge.EventAttempt, Detail: []byte(`{"note":"` + note + `"}`), At: at}
	}
	sent := func(i int) nudge.Outcome {
		return nudge.Outcome{
			AttemptID: atts[i].ID,
			Attempt:   nudge.AttemptUpdate{Status: nudge.AttemptSent, ProviderID: "SM" + atts[i].ID, SentAt: at, At: at},
			Reminder:  nudge.ReminderChange{ID: rems[i].ID, Status: nudge.ReminderSent, At: at},
			Events:    []nudge.Event{event(i, "sent")},
		}
	}
	eventsOf := func(i int) []string {
		es, err := s.Events(ctx, "acme", rems[i].Key.AccountID)
		require.NoError(t, err)
		var notes []string
		for _, e := range es {
			notes = append(notes, string(e.Detail))
		}
		return notes
	}

	res := s.RecordOutcomes(ctx, []nudge.Outcome{
		sent(0),
		{AttemptID: atts[1].ID, Attempt: nudge.AttemptUpdate{From: nudge.AttemptClaimed, Status: nudge.AttemptSending, Body: "due", SendingAt: at, At: at}},
		sent(2), // its reminder was canceled meanwhile
		{AttemptID: "att_missing", Attempt: nudge.AttemptUpdate{Status: nudge.AttemptSent, At: at},
			Reminder: nudge.ReminderChange{ID: rems[3].ID, Status: nudge.ReminderSent, At: at}, Events: []nudge.Event{event(3, "lost")}},
		{AttemptID: atts[4].ID, Attempt: nudge.AttemptUpdate{From: nudge.AttemptSending, Status: nudge.AttemptUnknown, At: at}},
		{Events: []nudge.Event{event(4, "decision")}},
	})
	require.Len(t, res, 6)
	require.NoError(t, res[0].Err)
	require.True(t, res[0].AttemptChanged)
	require.False(t, res[0].ReminderFinal)
	require.NoError(t, res[1].Err)
	require.True(t, res[1].AttemptChanged)
	require.NoError(t, res[2].Err)
	require.True(t, res[2].AttemptChanged, "the attempt's outcome is recorded")
	require.True(t, res[2].ReminderFinal, "a terminal reminder stays as it is")
	require.ErrorIs(t, res[3].Err, nudge.ErrNotFound)
	require.NoError(t, res[4].Err)
	require.False(t, res[4].AttemptChanged, "a compare-and-set that does not hold changes nothing")
	require.NoError(t, res[5].Err)

	got, err := s.GetAttempt(ctx, atts[0].ID)
	require.NoError(t, err)
	require.Equal(t, nudge.AttemptSent, got.Status)
	require.Equal(t, "SM"+atts[0].ID, got.ProviderID)
	r, err := s.GetReminder(ctx, rems[0].ID)
	require.NoError(t, err)
	require.Equal(t, nudge.ReminderSent, r.Status)
	require.Equal(t, []string{`{"note":"sent"}`}, eventsOf(0))
	got, err = s.GetAttempt(ctx, atts[1].ID)
	require.NoError(t, err)
	require.Equal(t, nudge.AttemptSending, got.Status)
	require.Equal(t, "due", got.Body)
	r, err = s.GetReminder(ctx, rems[2].ID)
	require.NoError(t, err)
	require.Equal(t, nudge.ReminderCanceled, r.Status)
	require.Equal(t, []string{`{"note":"sent"}`}, eventsOf(2))
	r, err = s.GetReminder(ctx, rems[3].ID)
	require.NoError(t, err)
	require.Equal(t, nudge.ReminderPlanned, r.Status, "an outcome whose attempt is missing writes nothing")
	require.Empty(t, eventsOf(3))
	got, err = s.GetAttempt(ctx, atts[4].ID)
	require.NoError(t, err)
	require.Equal(t, nudge.AttemptClaimed, got.Status)
	require.Equal(t, []string{`{"note":"decision"}`}, eventsOf(4))

	// An outcome the store refuses (an invalid event, a reminder that does
	// not exist) fails alone: the batch is written again one by one.
	bad := event(1, "bad")
	bad.Kind = ""
	res = s.RecordOutcomes(ctx, []nudge.Outcome{
		{AttemptID: atts[1].ID, Attempt: nudge.AttemptUpdate{Status: nudge.AttemptFailed, At: at}, Events: []nudge.Event{bad}},
		{AttemptID: atts[4].ID, Attempt: nudge.AttemptUpdate{From: nudge.AttemptClaimed, Status: nudge.AttemptSending, At: at},
			Reminder: nudge.ReminderChange{ID: "rem_missing", Status: nudge.ReminderSent, At: at}},
		sent(3),
	})
	require.ErrorContains(t, res[0].Err, "kind is required")
	require.ErrorIs(t, res[1].Err, nudge.ErrNotFound)
	require.NoError(t, res[2].Err)
	got, err = s.GetAttempt(ctx, atts[1].ID)
	require.NoError(t, err)
	require.Equal(t, nudge.AttemptSending, got.Status, "the refused outcome's update is rolled back")
	got, err = s.GetAttempt(ctx, atts[4].ID)
	require.NoError(t, err)
	require.Equal(t, nudge.AttemptClaimed, got.Status, "so is the one whose reminder is missing")
	got, err = s.GetAttempt(ctx, atts[3].ID)
	require.NoError(t, err)
	require.Equal(t, nudge.AttemptSent, got.Status, "the others are written")
	require.Equal(t, []string{`{"note":"sent"}`}, eventsOf(3))
	require.Empty(t, s.RecordOutcomes(ctx, nil))

	// With EventsIfChanged an update that changes nothing records nothing:
	// a repeated callback leaves one event.
	delivered := nudge.Outcome{AttemptID: atts[0].ID, Attempt: nudge.AttemptUpdate{Status: nudge.AttemptDelivered, At: at},
		Events: []nudge.Event{event(0, "delivered")}, EventsIfChanged: true}
	res = s.RecordOutcomes(ctx, []nudge.Outcome{delivered})
	require.NoError(t, res[0].Err)
	require.True(t, res[0].AttemptChanged)
	res = s.RecordOutcomes(ctx, []nudge.Outcome{delivered, sent(0)})
	require.NoError(t, res[0].Err)
	require.False(t, res[0].AttemptChanged)
	require.Equal(t, []string{`{"note":"sent"}`, `{"note":"delivered"}`, `{"note":"sent"}`}, eventsOf(0),
		"the repeated delivery adds nothing; an outcome without the flag records its event")
}

// testClaimWithEvents: a claim writes its events in its own transaction,
// and only when it inserts the attempt.
func testClaimWithEvents(t *testing.T, s nudge.Store) {
	ctx := context.Background()
	rs, err := s.InsertReminders(ctx, []nudge.Reminder{Reminder("acme", "A-9", "d0", T0)})
	require.NoError(t, err)
	e := func(note string) nudge.Event {
		return nudge.Event{Lender: "acme", AccountID: "A-9", ReminderID: rs[0].ID, Kind: nudge.EventDecision,
			Detail: []byte(`{"note":"` + note + `"}`), At: T0}
	}
	notes := func() []string {
		es, err := s.Events(ctx, "acme", "A-9")
		require.NoError(t, err)
		var out []string
		for _, e := range es {
			out = append(out, string(e.Detail))
		}
		return out
	}
	_, err = s.ClaimAttempt(ctx, Attempt(rs[0].ID, "A-9", nudge.SMS, T0), nil, e("decided"), e("claimed"))
	require.NoError(t, err)
	require.Equal(t, []string{`{"note":"decided"}`, `{"note":"claimed"}`}, notes(), "in the order given")
	_, err = s.ClaimAttempt(ctx, Attempt(rs[0].ID, "A-9", nudge.SMS, T0), nil, e("again"))
	require.ErrorIs(t, err, nudge.ErrAlreadyClaimed)
	other := Attempt("rem_other", "A-9", nudge.SMS, T0)
	_, err = s.ClaimAttempt(ctx, other, []nudge.CapLimit{{Channel: nudge.SMS, Window: time.Hour, Max: 1}}, e("capped"))
	require.ErrorIs(t, err, nudge.ErrCapReached)
	bad := e("invalid")
	bad.Kind = ""
	_, err = s.ClaimAttempt(ctx, Attempt("rem_third", "A-9", nudge.Email, T0), nil, bad)
	require.ErrorContains(t, err, "kind is required")
	require.Len(t, notes(), 2, "neither a refused claim nor one whose event is invalid writes an event")
	hist, err := s.AttemptHistory(ctx, "acme", "A-9", time.Time{})
	require.NoError(t, err)
	require.Len(t, hist, 1, "a claim whose event is invalid is rolled back")
}

// testRecordOutcomesBatchEdges: a batch applies the status callbacks that
// outran the sends it records (each to its own attempt), and a batch that
// updates one attempt twice applies the updates in order, the second seeing
// the first.
func testRecordOutcomesBatchEdges(t *testing.T, s nudge.Store) {
	ctx := context.Background()
	var atts []nudge.Attempt
	for _, acct := range []string{"E-1", "E-2", "E-3"} {
		rs, err := s.InsertReminders(ctx, []nudge.Reminder{Reminder("acme", acct, "d0", T0)})
		require.NoError(t, err)
		a, err := s.ClaimAttempt(ctx, Attempt(rs[0].ID, acct, nudge.SMS, T0), nil)
		require.NoError(t, err)
		atts = append(atts, a)
	}
	at := T0.Add(time.Minute)
	require.NoError(t, s.KeepEarlyCallback(ctx, "SM-E1", nudge.AttemptDelivered, "", at))
	require.NoError(t, s.KeepEarlyCallback(ctx, "SM-E3", nudge.AttemptUndelivered, "30003", at))
	sent := func(i int, pid string) nudge.Outcome {
		return nudge.Outcome{AttemptID: atts[i].ID, Attempt: nudge.AttemptUpdate{Status: nudge.AttemptSent, ProviderID: pid, SentAt: at, At: at}}
	}
	res := s.RecordOutcomes(ctx, []nudge.Outcome{sent(0, "SM-E1"), sent(1, "SM-E2"), sent(2, "SM-E3")})
	for i, want := range []struct {
		status nudge.AttemptStatus
		code   string
	}{{nudge.AttemptDelivered, ""}, {nudge.AttemptSent, ""}, {nudge.AttemptUndelivered, "30003"}} {
		require.NoError(t, res[i].Err)
		require.True(t, res[i].AttemptChanged)
		got, err := s.GetAttempt(ctx, atts[i].ID)
		require.NoError(t, err)
		require.Equal(t, want.status, got.Status, "attempt %d", i)
		require.Equal(t, want.code, got.ErrorCode, "attempt %d", i)
	}

	rs, err := s.InsertReminders(ctx, []nudge.Reminder{Reminder("acme", "E-4", "d0", T0)})
	require.NoError(t, err)
	a := Attempt(rs[0].ID, "E-4", nudge.SMS, T0)
	a.Status = nudge.AttemptClaimed
	a, err = s.ClaimAttempt(ctx, a, nil)
	require.NoError(t, err)
	res = s.RecordOutcomes(ctx, []nudge.Outcome{
		{AttemptID: a.ID, Attempt: nudge.AttemptUpdate{From: nudge.AttemptClaimed, Status: nudge.AttemptSending, SendingAt: at, At: at}},
		{AttemptID: a.ID, Attempt: nudge.AttemptUpdate{From: nudge.AttemptSending, Status: nudge.AttemptSent, ProviderID: "SM-E4", SentAt: at, At: at}},
		{AttemptID: a.ID, Attempt: nudge.AttemptUpdate{From: nudge.AttemptClaimed, Status: nudge.AttemptRetrying, At: at}},
	})
	require.True(t, res[0].AttemptChanged)
	require.True(t, res[1].AttemptChanged, "the second update sees the first")
	require.False(t, res[2].AttemptChanged, "a compare-and-set on the old status fails")
	got, err := s.GetAttempt(ctx, a.ID)
	require.NoError(t, err)
	require.Equal(t, nudge.AttemptSent, got.Status)
	require.Equal(t, "SM-E4", got.ProviderID)
}

// testClaimAttempts makes claims in one batch: each gets ClaimAttempt's
// result as if made one after another in order (a claim counts against the
// caps of those after it, per account and per address; a reminder claimed
// twice is claimed once), a claim refused or invalid leaves the others
// alone, and only the claims made write their events.
func testClaimAttempts(t *testing.T, s nudge.Store) {
	ctx := context.Background()
	_, err := s.ClaimAttempt(ctx, Attempt("rem_before", "A-3", nudge.SMS, T0), nil)
	require.NoError(t, err)
	ev := func(reminder, account, note string) nudge.Event {
		return nudge.Event{Lender: "acme", AccountID: account, ReminderID: reminder, Kind: nudge.EventDecision,
			Detail: []byte(`{"note":"` + note + `"}`), At: T0}
	}
	smsCap := []nudge.CapLimit{{Channel: nudge.SMS, Window: time.Hour, Max: 1, Reason: nudge.ReasonFrequencyCap}}
	perAddress := []nudge.CapLimit{{Channel: nudge.SMS, Window: time.Hour, Max: 1, PerAddress: true, Reason: nudge.ReasonFrequencyCap}}
	other := Attempt("rem_d", "A-4", nudge.SMS, T0)
	other.Address = "+15125550199"
	sameAddress := Attempt("rem_e", "A-5", nudge.SMS, T0)
	sameAddress.Address = "+15125550199"
	bad := ev("rem_f", "A-6", "bad")
	bad.Kind = ""
	claims := []nudge.Claim{
		{Attempt: Attempt("rem_a", "A-1", nudge.SMS, T0), Limits: smsCap, Events: []nudge.Event{ev("rem_a", "A-1", "a")}},
		{Attempt: Attempt("rem_b", "A-1", nudge.SMS, T0), Limits: smsCap, Events: []nudge.Event{ev("rem_b", "A-1", "b")}},
		{Attempt: Attempt("rem_a", "A-1", nudge.SMS, T0), Events: []nudge.Event{ev("rem_a", "A-1", "a again")}},
		{Attempt: Attempt("rem_before", "A-3", nudge.SMS, T0)},
		{Attempt: other, Limits: perAddress, Events: []nudge.Event{ev("rem_d", "A-4", "d")}},
		{Attempt: sameAddress, Limits: perAddress},
		{Attempt: Attempt("rem_f", "A-6", nudge.SMS, T0), Events: []nudge.Event{bad}},
		{Attempt: Attempt("rem_g", "A-2", nudge.Email, T0), Limits: smsCap},
	}
	res := s.ClaimAttempts(ctx, claims)
	require.Len(t, res, len(claims))
	require.NoError(t, res[0].Err)
	require.NotEmpty(t, res[0].Attempt.ID)
	require.ErrorIs(t, res[1].Err, nudge.ErrCapReached, "the first claim of the batch counts against the second's cap")
	require.ErrorIs(t, res[2].Err, nudge.ErrAlreadyClaimed, "a reminder claimed twice in one batch")
	require.Equal(t, res[0].Attempt.ID, res[2].Attempt.ID, "the second claim gets the first's attempt")
	require.ErrorIs(t, res[3].Err, nudge.ErrAlreadyClaimed, "a reminder claimed before the batch")
	require.Equal(t, "rem_before", res[3].Attempt.ReminderID)
	require.NoError(t, res[4].Err)
	require.ErrorIs(t, res[5].Err, nudge.ErrCapReached, "a per-address cap counts another account's claim in the batch")
	require.ErrorContains(t, res[6].Err, "kind is required")
	require.NoError(t, res[7].Err, "an SMS cap does not count an email")

	for _, tc := range []struct {
		account string
		want    int
	}{{"A-1", 1}, {"A-2", 1}, {"A-3", 1}, {"A-4", 1}, {"A-5", 0}, {"A-6", 0}} {
		hist, err := s.AttemptHistory(ctx, "acme", tc.account, time.Time{})
		require.NoError(t, err)
		require.Len(t, hist, tc.want, "attempts of %s", tc.account)
	}
	var notes []string
	for _, acct := range []string{"A-1", "A-4", "A-6"} {
		es, err := s.Events(ctx, "acme", acct)
		require.NoError(t, err)
		for _, e := range es {
			notes = append(notes, string(e.Detail))
		}
	}
	require.Equal(t, []string{`{"note":"a"}`, `{"note":"d"}`}, notes, "only the claims made write their events")
	require.Empty(t, s.ClaimAttempts(ctx, nil))
}

// testRecordOutcomesByProvider: an outcome may name its attempt by the
// provider id it carries; the store finds it in the write's transaction and
// fills the events' attempt, reminder, account and lender from it. A
// provider id no attempt carries is that outcome's ErrNotFound and writes
// nothing; a batch naming one attempt twice (by id and by provider id)
// applies both in order; a repeated callback records one event.
func testRecordOutcomesByProvider(t *testing.T, s nudge.Store) {
	ctx := context.Background()
	var atts []nudge.Attempt
	for i, acct := range []string{"P-1", "P-2"} {
		rs, err := s.InsertReminders(ctx, []nudge.Reminder{Reminder("acme", acct, "d0", T0)})
		require.NoError(t, err)
		a, err := s.ClaimAttempt(ctx, Attempt(rs[0].ID, acct, nudge.SMS, T0), nil)
		require.NoError(t, err)
		changed, err := s.UpdateAttempt(ctx, a.ID, nudge.AttemptUpdate{Status: nudge.AttemptSent, ProviderID: "SM-P" + string(rune('1'+i)), At: T0})
		require.NoError(t, err)
		require.True(t, changed)
		atts = append(atts, a)
	}
	at := T0.Add(time.Minute)
	callback := func(pid string, status nudge.AttemptStatus) nudge.Outcome {
		return nudge.Outcome{ProviderID: pid, Attempt: nudge.AttemptUpdate{Status: status, ProviderID: pid, At: at}, EventsIfChanged: true,
			Events: []nudge.Event{{Kind: nudge.EventCallback, Action: string(status), Detail: []byte(`{"pid":"` + pid + `"}`), At: at}}}
	}
	res := s.RecordOutcomes(ctx, []nudge.Outcome{
		callback("SM-P1", nudge.AttemptDelivered),
		callback("SM-none", nudge.AttemptDelivered),
		callback("SM-P2", nudge.AttemptUndelivered),
	})
	require.NoError(t, res[0].Err)
	require.True(t, res[0].AttemptChanged)
	require.Equal(t, atts[0].ID, res[0].Attempt.ID)
	require.Equal(t, nudge.AttemptDelivered, res[0].Attempt.Status)
	require.ErrorIs(t, res[1].Err, nudge.ErrNotFound)
	require.NoError(t, res[2].Err)
	require.Equal(t, nudge.SMS, res[2].Attempt.Channel)
	for i, want := range []nudge.AttemptStatus{nudge.AttemptDelivered, nudge.AttemptUndelivered} {
		got, err := s.GetAttempt(ctx, atts[i].ID)
		require.NoError(t, err)
		require.Equal(t, want, got.Status)
		es, err := s.Events(ctx, "acme", atts[i].AccountID)
		require.NoError(t, err)
		var cbs []nudge.Event
		for _, e := range es {
			if e.Kind == nudge.EventCallback {
				cbs = append(cbs, e)
			}
		}
		require.Len(t, cbs, 1)
		require.Equal(t, atts[i].ID, cbs[0].AttemptID, "the event names the attempt found")
		require.Equal(t, atts[i].ReminderID, cbs[0].ReminderID)
		require.Equal(t, "acme", cbs[0].Lender)
	}

	// Alone, repeated, and beside an update of the same attempt by id.
	res = s.RecordOutcomes(ctx, []nudge.Outcome{callback("SM-P1", nudge.AttemptDelivered)})
	require.NoError(t, res[0].Err)
	require.False(t, res[0].AttemptChanged, "a repeated callback changes nothing")
	res = s.RecordOutcomes(ctx, []nudge.Outcome{callback("SM-none", nudge.AttemptSent)})
	require.ErrorIs(t, res[0].Err, nudge.ErrNotFound)
	res = s.RecordOutcomes(ctx, []nudge.Outcome{
		{AttemptID: atts[1].ID, Attempt: nudge.AttemptUpdate{Segments: 3, At: at}},
		callback("SM-P2", nudge.AttemptFailed),
	})
	require.NoError(t, res[0].Err)
	require.NoError(t, res[1].Err)
	got, err := s.GetAttempt(ctx, atts[1].ID)
	require.NoError(t, err)
	require.Equal(t, 3, got.Segments)
	require.Equal(t, nudge.AttemptUndelivered, got.Status, "a final status stays")
	es, err := s.Events(ctx, "acme", "P-1")
	require.NoError(t, err)
	n := 0
	for _, e := range es {
		if e.Kind == nudge.EventCallback {
			n++
		}
	}
	require.Equal(t, 1, n, "the repeated callback records no second event")
}
