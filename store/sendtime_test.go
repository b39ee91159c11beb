package store_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/nudgehq/nudge"
	"github.com/nudgehq/nudge/sendtime"
	"github.com/nudgehq/nudge/store"
)

// testSendTimeRollup counts two days of calls and texts by local hour:
// answered calls, replies and promises within the window are successes, an
// opt-out and a late reply are not, and a second rollup counts nothing
// twice.
func testSendTimeRollup(t *testing.T, db *store.DB) {
	ctx := context.Background()
	chicago, err := nudge.LoadLocation("America/Chicago")
	require.NoError(t, err)
	day0 := time.Date(2026, 4, 6, 0, 0, 0, 0, chicago)
	acct := nudge.Account{ID: "A1", Lender: "l1", Portfolio: "auto", Currency: "USD", AmountDue: "10.00", Status: nudge.StatusActive,
		DueDate:  nudge.DateOf(day0),
		Borrower: nudge.Borrower{Name: "B", Language: "es"},
		Contacts: []nudge.Contact{{Channel: nudge.Voice, Address: "+13125550001"}, {Channel: nudge.SMS, Address: "+13125550001"}}}
	require.NoError(t, db.UpsertAccounts(ctx, []nudge.Account{acct}, day0))
	n := 0
	attempt := func(ch nudge.ChannelKind, at time.Time, status nudge.AttemptStatus, by string) {
		n++
		_, err := db.ClaimAttempt(ctx, nudge.Attempt{ID: fmt.Sprintf("att%d", n), ReminderID: fmt.Sprintf("rem%d", n), Lender: "l1",
			AccountID: "A1", Channel: ch, Address: "+13125550001", Status: status, AnsweredBy: by,
			Zones: []string{"America/Chicago"}, CreatedAt: at, SendingAt: at, UpdatedAt: at}, nil)
		require.NoError(t, err)
	}
	reply := func(at time.Time, intent nudge.Intent) {
		n++
		_, err := db.InsertReply(ctx, nudge.Reply{ID: fmt.Sprintf("rep%d", n), Lender: "l1", AccountID: "A1", Channel: nudge.SMS,
			Intent: intent, CreatedAt: at})
		require.NoError(t, err)
	}
	h := func(d, hour int) time.Time { return day0.AddDate(0, 0, d).Add(time.Duration(hour) * time.Hour) }
	attempt(nudge.Voice, h(0, 15), nudge.AttemptCompleted, "human") // answered
	attempt(nudge.Voice, h(1, 15), nudge.AttemptCompleted, "")      // answered, no detection
	attempt(nudge.Voice, h(1, 9), nudge.AttemptNoAnswer, "")        // not answered
	attempt(nudge.Voice, h(0, 10), nudge.AttemptCompleted, "machine_end_beep")
	attempt(nudge.SMS, h(0, 11), nudge.AttemptDelivered, "")
	reply(h(0, 11).Add(10*time.Minute), nudge.IntentPaid) // a reply
	attempt(nudge.SMS, h(1, 18), nudge.AttemptDelivered, "")
	reply(h(1, 18).Add(time.Minute), nudge.IntentOptOut)  // an opt-out is no success
	attempt(nudge.SMS, h(0, 19), nudge.AttemptFailed, "") // never accepted: not a trial
	attempt(nudge.SMS, h(0, 20), nudge.AttemptDelivered, "")
	reply(h(1, 8), nudge.IntentPaid) // too late for the 20:00 text

	require.NoError(t, db.RollupSendTimes(ctx, "l1", h(2, 0), 6*time.Hour))
	require.NoError(t, db.RollupSendTimes(ctx, "l1", h(2, 0), 6*time.Hour)) // nothing new
	got, err := db.SendTimeCounts(ctx, "l1", []string{"A1", "A2"})
	require.NoError(t, err)
	seg := sendtime.Segment{Portfolio: "auto", Language: "es", Zone: "America/Chicago"}
	row := func(ch nudge.ChannelKind, hour, trials, successes int) sendtime.Row {
		return sendtime.Row{AccountID: "A1", Segment: seg, Channel: ch, Hour: hour, Count: sendtime.Count{Trials: trials, Successes: successes}}
	}
	require.ElementsMatch(t, []sendtime.Row{
		row(nudge.Voice, 15, 2, 2), row(nudge.Voice, 9, 1, 0), row(nudge.Voice, 10, 1, 0),
		row(nudge.SMS, 11, 1, 1), row(nudge.SMS, 18, 1, 0), row(nudge.SMS, 20, 1, 0),
	}, got)

	// A later call rolls up on top.
	attempt(nudge.Voice, h(2, 15), nudge.AttemptCompleted, "human")
	require.NoError(t, db.RollupSendTimes(ctx, "l1", h(3, 0), 6*time.Hour))
	pool, err := db.SendTimePool(ctx, "l1")
	require.NoError(t, err)
	var at15 sendtime.Count
	for _, r := range pool {
		if r.Channel == nudge.Voice && r.Hour == 15 {
			at15 = r.Count
		}
	}
	require.Equal(t, sendtime.Count{Trials: 3, Successes: 3}, at15)
}

func TestSendTimeRollupSQLite(t *testing.T) {
	t.Parallel()
	testSendTimeRollup(t, openSQLite(t))
}

func TestSendTimeRollupPostgres(t *testing.T) {
	t.Parallel()
	open := postgresOpener(t)
	testSendTimeRollup(t, open(t))
}
