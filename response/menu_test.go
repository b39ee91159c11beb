package response_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/nudgehq/nudge"
	"github.com/nudgehq/nudge/channels/twiliosim"
	"github.com/nudgehq/nudge/dispatcher"
)

// TestEndToEndMenu sends late_sms through the pipeline to twiliosim, which
// offers a numbered menu; the attempt stores it with the text, and the
// borrower's answer through the signed inbound webhook is read against it:
// "1" is a promise of the amount due by the date offered, "2" a payment
// claimed, a key that was not offered goes to a person.
func TestEndToEndMenu(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := setupE2E(t)
	promise := nudge.MenuOption{Intent: nudge.IntentPromise, Date: nudge.MustDate("2026-12-04"), Amount: "412.50"}
	paid := nudge.MenuOption{Intent: nudge.IntentPaid}

	// sendMenu sends the account's first reminder, after an earlier text
	// three days ago, and returns the others. The cadence's profile is a
	// debt collector's: a first contact carries the long disclosure and
	// has no room left for the menu within its budget (below); a later
	// one offers it.
	sendMenu := func(t *testing.T, id, lang, phone, offer string) []nudge.Reminder {
		t.Helper()
		e.sim.Script(phone, twiliosim.Borrower{Behaviour: twiliosim.BehaviourSilent})
		rs := e.addAccount(t, testAccount(id, lang, phone), 3)
		_, err := e.db.ClaimAttempt(ctx, nudge.Attempt{ReminderID: "rem_earlier_" + id, Lender: lender, AccountID: id, Channel: nudge.SMS,
			Address: phone, Status: nudge.AttemptDelivered, ProviderID: "SM-earlier-" + id, CreatedAt: t0.Add(-72 * time.Hour)}, nil)
		require.NoError(t, err)
		sid := e.send(t, rs[0])
		msg, ok := e.sim.Message(sid)
		require.True(t, ok)
		require.Contains(t, msg.Body, offer)
		require.LessOrEqual(t, msg.NumSegments, 2, msg.Body)
		att, err := e.db.GetAttempt(ctx, dispatcher.AttemptID(rs[0].ID, nudge.SMS))
		require.NoError(t, err)
		require.Equal(t, nudge.Menu{"1": promise, "2": paid}, att.Menu, "the attempt stores the menu its text shows")
		require.Equal(t, msg.Body, att.Body)
		return rs[1:]
	}

	t.Run("1 promises what was offered", func(t *testing.T) {
		const phone = "+12125550131"
		rest := sendMenu(t, "M-1", "en", phone, "Reply 1 to pay $412.50 by Fri 12/04, 2 if you already paid. Reply STOP to opt out.")
		_, d := e.sim.Inbound(phone, ourNumber, "1")
		require.True(t, d.OK(), "inbound webhook: %d %v", d.StatusCode, d.Err)
		require.Contains(t, d.Response, "plan to pay $412.50 by December 4, 2026")
		p, err := e.db.ActivePromise(ctx, lender, "M-1")
		require.NoError(t, err)
		require.Equal(t, "412.50", p.Amount)
		require.Equal(t, nudge.MustDate("2026-12-04"), p.Due)
		require.Equal(t, nudge.SMS, p.Channel)
		e.requireCanceled(t, rest, nudge.ReasonPromiseActive)
	})

	t.Run("2 in Spanish claims the payment", func(t *testing.T) {
		const phone = "+12125550132"
		// Spanish reads the date day first, as the borrower writes it back.
		rest := sendMenu(t, "M-2", "es", phone, "Responda 1 para pagar $412.50 el vie 04/12, 2 si ya pago.")
		_, d := e.sim.Inbound(phone, ourNumber, "dos")
		require.True(t, d.OK(), "inbound webhook: %d %v", d.StatusCode, d.Err)
		require.Contains(t, d.Response, "Registramos que ya realiz")
		a, err := e.db.GetAccount(ctx, lender, "M-2")
		require.NoError(t, err)
		require.True(t, hasHold(a, nudge.HoldPaymentClaimed), "holds: %v", a.Holds)
		_, err = e.db.ActivePromise(ctx, lender, "M-2")
		require.ErrorIs(t, err, nudge.ErrNotFound)
		e.requireCanceled(t, rest, nudge.ReasonPaymentClaimed)
		r := e.reply(t, "M-2")
		require.Equal(t, nudge.IntentPaid, r.Intent)
	})

	t.Run("a key not offered goes to a person", func(t *testing.T) {
		const phone = "+12125550133"
		rest := sendMenu(t, "M-3", "en", phone, "Reply 1 to pay $412.50 by Fri 12/04")
		_, d := e.sim.Inbound(phone, ourNumber, "3")
		require.True(t, d.OK(), "inbound webhook: %d %v", d.StatusCode, d.Err)
		require.NotContains(t, d.Response, "<Message>", "nothing is confirmed")
		r := e.reply(t, "M-3")
		require.Equal(t, nudge.IntentUnknown, r.Intent)
		require.True(t, r.NeedsPerson)
		_, err := e.db.ActivePromise(ctx, lender, "M-3")
		require.ErrorIs(t, err, nudge.ErrNotFound)
		require.False(t, e.optedOut(t, nudge.SMS, phone))
		e.requireQueued(t, rest)
	})

	t.Run("without a menu 1 goes to a person", func(t *testing.T) {
		const phone = "+12125550134"
		e.sim.Script(phone, twiliosim.Borrower{Behaviour: twiliosim.BehaviourSilent})
		rs := e.addAccount(t, testAccount("M-4", "en", phone), 3)
		rest := rs[1:]
		sid := e.send(t, rs[0])
		msg, ok := e.sim.Message(sid)
		require.True(t, ok)
		require.Contains(t, msg.Body, "We are a debt collector attempting to collect a debt.")
		require.NotContains(t, msg.Body, "Reply 1", "a first contact has no room for the menu")
		att, err := e.db.GetAttempt(ctx, dispatcher.AttemptID(rs[0].ID, nudge.SMS))
		require.NoError(t, err)
		require.Nil(t, att.Menu)
		_, d := e.sim.Inbound(phone, ourNumber, "1")
		require.True(t, d.OK(), "inbound webhook: %d %v", d.StatusCode, d.Err)
		require.NotContains(t, d.Response, "<Message>")
		r := e.reply(t, "M-4")
		require.Equal(t, nudge.IntentUnknown, r.Intent)
		require.True(t, r.NeedsPerson)
		_, err = e.db.ActivePromise(ctx, lender, "M-4")
		require.ErrorIs(t, err, nudge.ErrNotFound)
		e.requireQueued(t, rest)
	})
}

// reply returns the account's only reply.
func (b *bundle) reply(t *testing.T, accountID string) nudge.Reply {
	t.Helper()
	var out []nudge.Reply
	for _, r := range b.replies(t) {
		if r.AccountID == accountID {
			out = append(out, r)
		}
	}
	require.Len(t, out, 1)
	return out[0]
}

func hasHold(a nudge.Account, kind nudge.HoldKind) bool {
	for _, h := range a.Holds {
		if h.Kind == kind {
			return true
		}
	}
	return false
}
