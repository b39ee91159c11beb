package store

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/nudgehq/nudge"
	"github.com/nudgehq/nudge/link"
)

// TestPostgresBatchStatementsHaveOneText checks that the statements of the
// claim, outcome and link batches have the same text on PostgreSQL whatever
// the batch's size from two members up (one value may keep a text of its
// own), so that each connection prepares them once and the server does not
// parse and plan a statement per batch length (#16). SQLite keeps its
// VALUES and IN lists.
func TestPostgresBatchStatementsHaveOneText(t *testing.T) {
	t.Parallel()
	pg := &DB{backend: Postgres}
	at := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
	claims := func(n int) ([]nudge.Claim, []int) {
		cs := make([]nudge.Claim, n)
		idx := make([]int, n)
		for i := range cs {
			cs[i] = nudge.Claim{Attempt: nudge.Attempt{ID: fmt.Sprintf("att_%d", i), ReminderID: fmt.Sprintf("rem_%d", i), Lender: "acme",
				AccountID: fmt.Sprintf("A-%d", i), Channel: nudge.SMS, Address: fmt.Sprintf("+1555000%04d", i), Status: nudge.AttemptClaimed,
				CreatedAt: at}, Limits: []nudge.CapLimit{{Max: 3, Window: time.Hour}, {Max: 1, Window: time.Hour, PerAddress: true, Channel: nudge.SMS}}}
			idx[i] = i
		}
		return cs, idx
	}
	texts := func(n int) []string {
		cs, idx := claims(n)
		_, history := pg.claimHistory(cs, idx)
		ins, err := pg.insertAttemptsQuery(cs, idx, false, nil)
		require.NoError(t, err)
		insConflict, err := pg.insertAttemptsQuery(cs, idx, true, map[string]bool{})
		require.NoError(t, err)
		ids, pids, reminders := make([]string, n), make([]string, n), make([]string, n)
		moves := make([]reminderMove, n)
		issues := make([]linkIssue, n)
		links := make([]link.Link, n)
		for i, c := range cs {
			ids[i], pids[i], reminders[i] = c.Attempt.ID, "SM"+c.Attempt.ID, c.Attempt.ReminderID
			moves[i] = reminderMove{change: nudge.ReminderChange{ID: c.Attempt.ReminderID, Status: nudge.ReminderSent, At: at}}
			links[i] = link.Link{Token: fmt.Sprint(i), Purpose: link.SelfService, Lender: "acme", AccountID: c.Attempt.AccountID,
				Channel: nudge.SMS, Address: c.Attempt.Address, CreatedAt: at}
			issues[i] = linkIssue{l: links[i]}
		}
		contacts, ok := pg.contactsQuery(issues, map[string]bool{})
		require.True(t, ok)
		var found []link.Link
		atts, cur := make([]nudge.Attempt, n), make(map[string]nudge.Attempt, n)
		for i, c := range cs {
			atts[i], cur[c.Attempt.ID] = c.Attempt, c.Attempt
			atts[i].Status = nudge.AttemptDelivered
		}
		wide, err := pg.writeAttemptsQuery(atts, nil)
		require.NoError(t, err)
		narrow, err := pg.writeAttemptsQuery(atts, cur)
		require.NoError(t, err)
		out := []string{wide.sql, narrow.sql, ins.sql, insConflict.sql, contacts.sql, pg.liveLinksQuery(issues, &found).sql, pg.insertLinksQuery(links).sql,
			pg.lockAttemptsQuery(ids, pids, newLockedAttempts(pids)).sql, pg.remindersExistQuery(reminders, map[string]bool{}).sql,
			pg.moveRemindersQuery(moves, map[string]bool{}).sql, takeEarlyCallbacksQuery(pids, nil).sql}
		for _, q := range history {
			out = append(out, q.sql)
		}
		return out
	}
	two := texts(2)
	for _, n := range []int{3, 17, 64} {
		require.Equal(t, two, texts(n), "batch of %d", n)
	}
}

// TestWriteAttemptsSetsStatusColumnsAlone checks that the merged attempts of
// a batch are written with the status columns alone exactly when they differ
// from the versions read in the transaction in nothing else.
func TestWriteAttemptsSetsStatusColumnsAlone(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)
	stored := nudge.Attempt{ID: "att_1", Status: nudge.AttemptSent, ProviderID: "SM1", Body: "Pay at https://pay.example/p/abc",
		Template: "late_sms", Menu: nudge.Menu{"1": {Intent: nudge.IntentPaid}}, SendingAt: at, SentAt: at, UpdatedAt: at, Segments: 1}
	tests := []struct {
		name   string
		change func(a *nudge.Attempt)
		narrow bool
	}{
		{name: "status callback", change: func(a *nudge.Attempt) {
			a.Status, a.Reason, a.ErrorCode, a.Segments, a.UpdatedAt = nudge.AttemptUndelivered, nudge.ReasonProviderFailed, "30005", 2, at.Add(time.Minute)
		}, narrow: true},
		{name: "call seconds", change: func(a *nudge.Attempt) { a.Status, a.CallSeconds = nudge.AttemptDelivered, 42 }, narrow: true},
		{name: "provider id", change: func(a *nudge.Attempt) { a.ProviderID = "SM2" }},
		{name: "body", change: func(a *nudge.Attempt) { a.Body = "other" }},
		{name: "template", change: func(a *nudge.Attempt) { a.Template = "other" }},
		{name: "menu", change: func(a *nudge.Attempt) { a.Menu = nudge.Menu{"1": {Intent: nudge.IntentPromise}} }},
		{name: "answered by", change: func(a *nudge.Attempt) { a.AnsweredBy = "human" }},
		{name: "conversation", change: func(a *nudge.Attempt) { a.Conversation = true }},
		{name: "sending at", change: func(a *nudge.Attempt) { a.SendingAt = at.Add(time.Second) }},
		{name: "sent at", change: func(a *nudge.Attempt) { a.SentAt = time.Time{} }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			for _, db := range []*DB{{backend: Postgres}, {backend: SQLite}} {
				for _, n := range []int{1, 2} {
					as, cur := make([]nudge.Attempt, n), map[string]nudge.Attempt{}
					for i := range as {
						s := stored
						s.ID = fmt.Sprintf("att_%d", i)
						cur[s.ID], as[i] = s, s
					}
					tt.change(&as[n-1])
					q, err := db.writeAttemptsQuery(as, cur)
					require.NoError(t, err)
					require.Equal(t, !tt.narrow, strings.Contains(q.sql, "body"), "%s, %d attempts: %s", db.backend, n, q.sql)
					q, err = db.writeAttemptsQuery(as, nil)
					require.NoError(t, err)
					require.Contains(t, q.sql, "body", "without the stored versions every column is written")
				}
			}
		})
	}
}
