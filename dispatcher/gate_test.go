package dispatcher

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/nudgehq/nudge"
	"github.com/nudgehq/nudge/channels/sandbox"
)

// hookLimiter grants every token after waiting wait (in process, on the
// test clock) and runs hook first: the world changes while the worker
// waits for its turn to send.
type hookLimiter struct {
	wait  time.Duration
	hook  func()
	taken int
}

func (l *hookLimiter) Take(context.Context, string, float64, int) (bool, time.Duration, error) {
	l.taken++
	if l.taken == 1 {
		if l.hook != nil {
			l.hook()
		}
		if l.wait > 0 {
			return false, l.wait, nil
		}
	}
	return true, 0, nil
}

// withLimiter rate-limits every message through lim.
func withLimiter(lim Limiter) func(*PipelineConfig) {
	return func(c *PipelineConfig) {
		c.Limiter = lim
		c.SenderRate = func(*nudge.Message) (string, float64) { return "s", 1 }
	}
}

func newYork(t *testing.T, hh, mm, ss int) time.Time {
	t.Helper()
	loc, err := time.LoadLocation("America/New_York")
	require.NoError(t, err)
	return time.Date(2026, 6, 2, hh, mm, ss, 0, loc)
}

func TestLastGateWindowClosesWhileWaitingForToken(t *testing.T) {
	t.Parallel()
	lim := &hookLimiter{wait: 900 * time.Millisecond}
	b := setup(t, withLimiter(lim))
	b.clock.Set(newYork(t, 20, 59, 59).Add(500 * time.Millisecond))
	r := b.add("a1", nil, func(r *nudge.Reminder) { r.ExpiresAt = newYork(t, 23, 0, 0).Add(24 * time.Hour) })

	err := b.pipe.Process(context.Background(), r.ID)
	require.ErrorIs(t, err, ErrDeferred)
	require.False(t, IsFailure(err))
	require.Equal(t, 0, b.sms.Count(), "never sent at or after 21:00 local")
	a, _ := b.store.attempt(AttemptID(r.ID, nudge.SMS))
	require.Equal(t, nudge.AttemptRetrying, a.Status, "the claim is handed back for the next window")
	rem := b.store.reminder(r.ID)
	require.Equal(t, nudge.ReminderDeferred, rem.Status)
	require.Equal(t, nudge.ReasonQuietHours, rem.Reason)
	require.True(t, rem.NextAt.Equal(newYork(t, 8, 0, 0).Add(24*time.Hour)), "next at %s", rem.NextAt)

	b.clock.Set(rem.NextAt)
	require.NoError(t, b.pipe.Process(context.Background(), r.ID))
	require.Equal(t, 1, b.sms.Count())
	require.Equal(t, nudge.ReminderSent, b.store.reminder(r.ID).Status)
}

func TestLastGateOptOutWhileWaiting(t *testing.T) {
	t.Parallel()
	var b *bundle
	lim := &hookLimiter{hook: func() {
		_, err := b.store.AddOptOut(context.Background(), nudge.OptOut{Lender: testLender, Channel: nudge.SMS, Address: smsAddr, Source: "sms_keyword"})
		require.NoError(t, err)
	}}
	b = setup(t, withLimiter(lim))
	r := b.add("a1", nil, nil)

	require.NoError(t, b.pipe.Process(context.Background(), r.ID))
	require.Equal(t, 0, b.sms.Count(), "a STOP that arrives while the worker waits is honoured")
	a, _ := b.store.attempt(AttemptID(r.ID, nudge.SMS))
	require.Equal(t, nudge.AttemptFailed, a.Status)
	require.Equal(t, nudge.ReasonOptedOut, a.Reason)
	rem := b.store.reminder(r.ID)
	require.Equal(t, nudge.ReminderSuppressed, rem.Status)
	require.Equal(t, nudge.ReasonOptedOut, rem.Reason)
}

func TestLastGateHoldWhileWaiting(t *testing.T) {
	t.Parallel()
	var b *bundle
	lim := &hookLimiter{hook: func() {
		a, err := b.store.GetAccount(context.Background(), testLender, "a1")
		require.NoError(t, err)
		a.Holds = append(a.Holds, nudge.Hold{Kind: nudge.HoldDispute, Reason: "disputed"})
		b.store.putAccount(a)
	}}
	b = setup(t, withLimiter(lim))
	r := b.add("a1", nil, nil)

	require.NoError(t, b.pipe.Process(context.Background(), r.ID))
	require.Equal(t, 0, b.sms.Count())
	require.Equal(t, nudge.ReasonHold, b.store.reminder(r.ID).Reason)
}

func TestLastGatePause(t *testing.T) {
	t.Parallel()
	b := setup(t)
	_, err := b.store.SetPause(context.Background(), nudge.Pause{Lender: testLender, Scope: nudge.PauseChannel, Target: "sms",
		Reason: "carrier review", Actor: "key_1", CreatedAt: noon})
	require.NoError(t, err)
	r := b.add("a1", nil, nil)

	err = b.pipe.Process(context.Background(), r.ID)
	require.ErrorIs(t, err, ErrDeferred)
	require.Equal(t, DefaultPauseRecheck+time.Second, Backoff{}.RetryDelay(0, err, nil))
	require.Equal(t, 0, b.sms.Count())
	rem := b.store.reminder(r.ID)
	require.Equal(t, nudge.ReminderDeferred, rem.Status)
	require.Equal(t, nudge.ReasonPaused, rem.Reason)
	d := b.store.eventsOf(nudge.EventDecision)
	require.Equal(t, RulePause, d[len(d)-1].Rule)

	b.store.mu.Lock()
	b.store.pauses = nil
	b.store.mu.Unlock()
	b.clock.Advance(DefaultPauseRecheck)
	require.NoError(t, b.pipe.Process(context.Background(), r.ID))
	require.Equal(t, 1, b.sms.Count())
}

func TestLastGateMarksSendingJustBeforeTheCall(t *testing.T) {
	t.Parallel()
	var b *bundle
	var seen nudge.Attempt
	b = setup(t, func(c *PipelineConfig) {
		c.Senders[nudge.SMS] = nudge.SenderFunc(func(ctx context.Context, m *nudge.Message) (nudge.SendResult, error) {
			seen, _ = b.store.attempt(m.AttemptID)
			return b.sms.Send(ctx, m)
		})
	})
	b.clock.Set(newYork(t, 20, 0, 0))
	r := b.add("a1", nil, nil)

	require.NoError(t, b.pipe.Process(context.Background(), r.ID))
	require.Equal(t, nudge.AttemptSending, seen.Status)
	require.Equal(t, b.clock.Now(), seen.SendingAt)
	require.Contains(t, seen.Body, "is due", "the text about to go out is on the attempt before the call")
	require.Equal(t, "due_sms@en:0123456789ab", seen.Template, "with the template version that rendered it, in the same write")
	calls := b.sms.Calls()
	require.Len(t, calls, 1)
	require.Equal(t, time.Hour, calls[0].Message.ValidFor, "valid until 21:00 New York")
}

func TestVoiceEndMargin(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		at        time.Time
		wantSent  bool
		wantValid time.Duration
	}{
		{name: "inside the margin waits for the next window", at: newYork(t, 20, 55, 0)},
		{name: "before the margin calls, limited to the window", at: newYork(t, 20, 45, 0), wantSent: true, wantValid: 15 * time.Minute},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			voice := sandbox.New()
			b := setup(t, func(c *PipelineConfig) { c.Senders[nudge.Voice] = voice })
			b.clock.Set(tt.at)
			r := b.add("a1", func(a *nudge.Account) {
				a.Contacts = append(a.Contacts, nudge.Contact{Channel: nudge.Voice, Address: smsAddr, Consent: true})
			}, func(r *nudge.Reminder) {
				r.Channel, r.Fallback = nudge.Voice, ""
				r.ExpiresAt = tt.at.Add(48 * time.Hour)
			})
			err := b.pipe.Process(context.Background(), r.ID)
			if !tt.wantSent {
				require.ErrorIs(t, err, ErrDeferred)
				require.Equal(t, 0, voice.Count())
				require.True(t, b.store.reminder(r.ID).NextAt.Equal(newYork(t, 8, 0, 0).Add(24*time.Hour)))
				return
			}
			require.NoError(t, err)
			require.Len(t, voice.Calls(), 1)
			require.Equal(t, tt.wantValid, voice.Calls()[0].Message.ValidFor)
		})
	}
}

func TestSenderRefusedPausesTheChannel(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.email.FailNext(1, &nudge.ProviderError{SenderRefused: true, Code: "550", Err: errors.New("550 5.7.1 relaying denied")})
	r := b.add("a1", func(a *nudge.Account) { a.Contacts = a.Contacts[1:] }, nil)

	err := b.pipe.Process(context.Background(), r.ID)
	require.ErrorIs(t, err, ErrDeferred)
	require.False(t, IsFailure(err), "no reminder fails for the sender's fault")
	a, _ := b.store.attempt(AttemptID(r.ID, nudge.Email))
	require.Equal(t, nudge.AttemptRetrying, a.Status)
	pauses, err := b.store.ListPauses(context.Background(), testLender)
	require.NoError(t, err)
	require.Len(t, pauses, 1)
	require.Equal(t, nudge.PauseChannel, pauses[0].Scope)
	require.Equal(t, "email", pauses[0].Target)
	require.Len(t, b.store.eventsOf(nudge.EventPause), 1)

	b.clock.Advance(DefaultPauseRecheck)
	require.ErrorIs(t, b.pipe.Process(context.Background(), r.ID), ErrDeferred)
	require.Equal(t, 1, b.email.Count(), "paused: the provider is not called again")
	require.Equal(t, nudge.ReasonPaused, b.store.reminder(r.ID).Reason)
}
