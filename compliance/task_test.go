package compliance

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/nudgehq/nudge"
)

func TestDecideTask(t *testing.T) {
	t.Parallel()
	us := builtin(t, "us")
	night := "2026-06-02T07:00:00Z" // 03:00 in New York
	day := "2026-06-02T16:00:00Z"   // 12:00 in New York
	pending := &nudge.Promise{Status: nudge.PromisePending, Due: nudge.MustDate("2026-06-05")}
	hold := func(k nudge.HoldKind) func(*nudge.Account) {
		return func(a *nudge.Account) { a.Holds = append(a.Holds, nudge.Hold{Kind: k}) }
	}
	tests := []struct {
		name    string
		kind    string
		at      string
		acct    nudge.Account
		promise *nudge.Promise
		action  Action
		reason  nudge.Reason
		rule    string
	}{
		{name: "a visit at night is allowed: no window for a visit", kind: nudge.WorkFieldVisit, at: night, acct: account(), action: Send},
		{name: "cease-communication stops a visit", kind: nudge.WorkFieldVisit, at: day, acct: account(hold(nudge.HoldCeaseCommunication)),
			action: Suppress, reason: nudge.ReasonHold, rule: "12 CFR 1006.6(c)(1)"},
		{name: "bankruptcy stops a letter", kind: nudge.WorkLetter, at: day, acct: account(hold(nudge.HoldBankruptcy)),
			action: Suppress, reason: nudge.ReasonHold, rule: "11 U.S.C. 362(a)"},
		{name: "a claimed payment stops a review", kind: "repossession_review", at: day, acct: account(hold(nudge.HoldPaymentClaimed)),
			action: Suppress, reason: nudge.ReasonPaymentClaimed},
		{name: "a paid account needs no visit", kind: nudge.WorkFieldVisit, at: day,
			acct: account(func(a *nudge.Account) { a.Status = nudge.StatusPaid }), action: Suppress, reason: nudge.ReasonAccountPaid},
		{name: "a pending promise pauses a visit", kind: nudge.WorkFieldVisit, at: day, acct: account(), promise: pending,
			action: Suppress, reason: nudge.ReasonPromiseActive},
		{name: "a call list is a call: deferred at night", kind: nudge.WorkCallList, at: night, acct: account(),
			action: Defer, reason: nudge.ReasonQuietHours},
		{name: "a call list in the day is allowed", kind: nudge.WorkCallList, at: day, acct: account(), action: Send},
		{name: "a call list is stopped by cease-communication", kind: nudge.WorkCallList, at: day, acct: account(hold(nudge.HoldCeaseCommunication)),
			action: Suppress, reason: nudge.ReasonHold},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			d := DecideTask(Input{Account: tc.acct, Channel: nudge.Voice, Address: nyPhone, At: utc(t, tc.at), Promise: tc.promise, Profile: us}, tc.kind)
			require.Equal(t, tc.action, d.Action, d.Explanation)
			require.Equal(t, tc.reason, d.Reason)
			require.NotEmpty(t, d.Explanation)
			if tc.rule != "" {
				require.Equal(t, tc.rule, d.Rule)
			}
			if tc.action == Send && tc.kind != nudge.WorkCallList {
				require.Contains(t, d.Explanation, "The work item may be made now")
			}
			if tc.reason == nudge.ReasonHold && tc.kind != nudge.WorkCallList {
				require.Contains(t, d.Explanation, "work item", "the explanation names the work item")
			}
		})
	}
}
