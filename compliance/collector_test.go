package compliance

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/nudgehq/nudge"
)

// TestCollectorCallsCount: the calls collectors report by completing
// call_list items (nudge.CollectorCall) count toward the call caps of the
// borrower's jurisdiction like the bot's calls, for the bot's next call and
// for the next call_list item, and the explanation says how many were theirs.
func TestCollectorCallsCount(t *testing.T) {
	t.Parallel()
	collector := func(addr string, outcome nudge.WorkOutcome, at time.Time) nudge.Attempt {
		a, ok := nudge.CollectorCall(nudge.WorkItem{ID: "wi_" + at.Format("150405"), Lender: "acme", AccountID: "A1",
			ReminderID: "rem_x", Kind: nudge.WorkCallList, Channel: nudge.Voice, Address: addr,
			Status: nudge.WorkCompleted, Outcome: outcome}, at)
		require.True(t, ok)
		require.True(t, a.ByCollector())
		return a
	}
	bot := func(addr string, at time.Time) nudge.Attempt {
		return nudge.Attempt{Channel: nudge.Voice, Address: addr, Status: nudge.AttemptCompleted, AnsweredBy: "machine_start",
			ProviderID: "CA1", CreatedAt: at}
	}
	us := account(func(a *nudge.Account) {
		a.Contacts = []nudge.Contact{{Channel: nudge.Voice, Address: laPhone, Consent: true}}
	})
	cn := account(func(a *nudge.Account) {
		a.Contacts = []nudge.Contact{{Channel: nudge.Voice, Address: cnPhone, Consent: true}}
		a.Address = &nudge.Address{Country: "CN"}
		a.Borrower.Timezone = "Asia/Shanghai"
	})
	usAt := utc(t, "2026-06-10T16:00:00Z") // 09:00 in Los Angeles
	cnAt := utc(t, "2026-06-10T04:00:00Z") // 12:00 in Shanghai
	hours := func(at time.Time, n int) time.Time { return at.Add(-time.Duration(n) * time.Hour) }

	tests := []struct {
		name    string
		account nudge.Account
		profile string
		at      time.Time
		history []nudge.Attempt
		reason  nudge.Reason
		// collectors is the count the explanation names.
		collectors string
	}{
		{name: "us: 3 by collectors and 4 by the bot fill 7 calls in 7 days", account: us, profile: "us", at: usAt,
			history: []nudge.Attempt{
				collector(laPhone, nudge.OutcomeNoContact, hours(usAt, 100)), collector(laPhone, nudge.OutcomeNoContact, hours(usAt, 90)),
				collector(laPhone, nudge.OutcomeWrongParty, hours(usAt, 80)),
				bot(laPhone, hours(usAt, 70)), bot(laPhone, hours(usAt, 60)), bot(laPhone, hours(usAt, 50)), bot(laPhone, hours(usAt, 40)),
			},
			reason: nudge.ReasonCallCap, collectors: "3 of them by a collector"},
		{name: "us: 6 calls leave room for one more", account: us, profile: "us", at: usAt,
			history: []nudge.Attempt{
				collector(laPhone, nudge.OutcomeNoContact, hours(usAt, 100)), collector(laPhone, nudge.OutcomeNoContact, hours(usAt, 90)),
				bot(laPhone, hours(usAt, 70)), bot(laPhone, hours(usAt, 60)), bot(laPhone, hours(usAt, 50)), bot(laPhone, hours(usAt, 40)),
			}},
		{name: "us: a collector who reached the borrower starts the conversation block", account: us, profile: "us", at: usAt,
			history: []nudge.Attempt{collector(laPhone, nudge.OutcomeReached, hours(usAt, 30))}, reason: nudge.ReasonConversation},
		{name: "cn: 6 unanswered calls to the number in a day, 2 by collectors", account: cn, profile: "cn", at: cnAt,
			history: []nudge.Attempt{
				collector(cnPhone, nudge.OutcomeNoContact, hours(cnAt, 3)), collector(cnPhone, nudge.OutcomeNoContact, hours(cnAt, 2)),
				bot(cnPhone, hours(cnAt, 10)), bot(cnPhone, hours(cnAt, 9)), bot(cnPhone, hours(cnAt, 8)), bot(cnPhone, hours(cnAt, 7)),
			},
			reason: nudge.ReasonUnansweredCap, collectors: "其中2次由催收员"},
		{name: "cn: a collector's answered call is not unanswered", account: cn, profile: "cn", at: cnAt,
			history: []nudge.Attempt{
				collector(cnPhone, nudge.OutcomeRefused, hours(cnAt, 3)), collector(cnPhone, nudge.OutcomeNoContact, hours(cnAt, 2)),
				bot(cnPhone, hours(cnAt, 10)), bot(cnPhone, hours(cnAt, 9)), bot(cnPhone, hours(cnAt, 8)), bot(cnPhone, hours(cnAt, 7)),
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			in := Input{Account: tt.account, Channel: nudge.Voice, Address: addressOf(tt.account, nudge.Voice), At: tt.at,
				History: tt.history, Profile: builtin(t, tt.profile)}
			for what, d := range map[string]Decision{"the bot's call": Decide(in), "a call_list item": DecideTask(in, nudge.WorkCallList)} {
				if tt.reason == "" {
					require.Equal(t, Send, d.Action, "%s: %s", what, d.Explanation)
					continue
				}
				require.Equal(t, Defer, d.Action, "%s: %s", what, d.Explanation)
				require.Equal(t, tt.reason, d.Reason, what)
				require.Contains(t, d.Explanation, tt.collectors, what)
			}
		})
	}
}

func TestCollectorCallOnlyForCompletedCallLists(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 6, 10, 16, 0, 0, 0, time.UTC)
	w := nudge.WorkItem{ID: "wi_1", ReminderID: "rem_1", Lender: "acme", AccountID: "A1", Kind: nudge.WorkCallList,
		Channel: nudge.Voice, Address: laPhone, Status: nudge.WorkCompleted, Outcome: nudge.OutcomeNoContact}
	a, ok := nudge.CollectorCall(w, at)
	require.True(t, ok)
	require.Equal(t, nudge.AttemptNoAnswer, a.Status)
	require.True(t, a.Status.CountsAsCall())
	require.True(t, a.Unanswered())
	require.Equal(t, "att_call_1", a.ID)
	for name, change := range map[string]func(*nudge.WorkItem){
		"a field visit": func(w *nudge.WorkItem) { w.Kind = nudge.WorkFieldVisit },
		"no number":     func(w *nudge.WorkItem) { w.Address = "" },
		"not completed": func(w *nudge.WorkItem) { w.Status, w.Outcome = nudge.WorkAssigned, "" },
	} {
		c := w
		change(&c)
		_, ok := nudge.CollectorCall(c, at)
		require.False(t, ok, name)
	}
	for _, o := range []nudge.WorkOutcome{nudge.OutcomeReached, nudge.OutcomePromise, nudge.OutcomeRefused} {
		w.Outcome = o
		a, _ := nudge.CollectorCall(w, at)
		require.True(t, a.Conversation, o)
		require.False(t, a.Unanswered(), o)
	}
	w.Outcome = nudge.OutcomeWrongParty
	a, _ = nudge.CollectorCall(w, at)
	require.False(t, a.Conversation, "a wrong party is no conversation with the borrower")
	require.True(t, a.Status.CountsAsCall())
}
