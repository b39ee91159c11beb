package store

import (
	"fmt"
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
		out := []string{ins.sql, insConflict.sql, contacts.sql, pg.liveLinksQuery(issues, &found).sql, pg.insertLinksQuery(links).sql,
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
