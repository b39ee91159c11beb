package dispatcher

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/stretchr/testify/require"

	"github.com/nudgehq/nudge"
	"github.com/nudgehq/nudge/channels/sandbox"
	"github.com/nudgehq/nudge/compliance"
)

func TestSendHappyPath(t *testing.T) {
	t.Parallel()
	b := setup(t)
	r := b.add("a1", nil, nil)

	require.NoError(t, b.pipe.Process(context.Background(), r.ID))

	require.Equal(t, 1, b.sms.Count())
	call := b.sms.Calls()[0]
	attID := AttemptID(r.ID, nudge.SMS)
	require.Equal(t, attID, call.Message.AttemptID)
	require.Equal(t, smsAddr, call.Message.To)
	require.Equal(t, r.ID, call.Message.ReminderID)
	require.Contains(t, call.Message.Text, "412.50")

	a, ok := b.store.attempt(attID)
	require.True(t, ok)
	require.Equal(t, nudge.AttemptSent, a.Status)
	require.Equal(t, call.ProviderID, a.ProviderID)
	require.Equal(t, noon, a.SentAt)
	require.Equal(t, "us", a.Profile)
	require.NotEmpty(t, a.Zones)
	require.Equal(t, nudge.ReminderSent, b.store.reminder(r.ID).Status)

	decisions := b.store.eventsOf(nudge.EventDecision)
	require.Len(t, decisions, 1)
	require.Equal(t, "send", decisions[0].Action)
	require.Contains(t, string(decisions[0].Detail), "explanation")
	require.Contains(t, string(decisions[0].Detail), "America/New_York")
	require.Len(t, b.store.eventsOf(nudge.EventAttempt), 2, "sending, then sent")

	// The task delivered again does nothing.
	require.NoError(t, b.pipe.Process(context.Background(), r.ID))
	require.Equal(t, 1, b.sms.Count())
}

func TestSendRecordsSegments(t *testing.T) {
	t.Parallel()
	b := setup(t, func(c *PipelineConfig) {
		c.Senders[nudge.SMS] = nudge.SenderFunc(func(context.Context, *nudge.Message) (nudge.SendResult, error) {
			return nudge.SendResult{ProviderID: "SM1", Status: nudge.AttemptSent, Segments: 3}, nil
		})
	})
	r := b.add("a1", nil, nil)
	require.NoError(t, b.pipe.Process(context.Background(), r.ID))
	a, ok := b.store.attempt(AttemptID(r.ID, nudge.SMS))
	require.True(t, ok)
	require.Equal(t, "SM1", a.ProviderID)
	require.Equal(t, 3, a.Segments, "the provider's segment count is recorded with the send")
}

func TestSendRecordsTheSender(t *testing.T) {
	t.Parallel()
	const sender = "+18005550111"
	b := setup(t, func(c *PipelineConfig) {
		// A pool's sender sets the number it chose on the message.
		c.Senders[nudge.SMS] = nudge.SenderFunc(func(_ context.Context, m *nudge.Message) (nudge.SendResult, error) {
			m.From = sender
			return nudge.SendResult{ProviderID: "SM1", Status: nudge.AttemptSent}, nil
		})
	})
	r := b.add("a1", nil, nil)
	require.NoError(t, b.pipe.Process(context.Background(), r.ID))
	var froms []string
	for _, e := range b.store.eventsOf(nudge.EventAttempt) {
		var d struct {
			Status nudge.AttemptStatus `json:"status"`
			From   string              `json:"from"`
		}
		require.NoError(t, json.Unmarshal(e.Detail, &d))
		if d.Status == nudge.AttemptSent {
			froms = append(froms, d.From)
		}
	}
	require.Equal(t, []string{sender}, froms, "the sent attempt's event names its sender")
}

func TestProcessTaskPayload(t *testing.T) {
	t.Parallel()
	b := setup(t)
	r := b.add("a1", nil, nil)
	task, err := NewReminderTask(nudge.SMS, r.ID)
	require.NoError(t, err)
	require.Equal(t, TypeReminderSMS, task.Type())
	require.NoError(t, b.pipe.ProcessTask(context.Background(), task))
	require.Equal(t, 1, b.sms.Sent())

	err = b.pipe.ProcessTask(context.Background(), asynq.NewTask(TypeReminderSMS, []byte(`{}`)))
	require.ErrorIs(t, err, asynq.SkipRetry)
}

func TestSuppressAndFallback(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		optOuts    []nudge.ChannelKind
		acct       func(*nudge.Account)
		wantStatus nudge.ReminderStatus
		wantReason nudge.Reason
		wantSMS    int
		wantEmail  int
	}{
		{name: "opted out everywhere", optOuts: []nudge.ChannelKind{nudge.SMS, nudge.Email},
			wantStatus: nudge.ReminderSuppressed, wantReason: nudge.ReasonOptedOut},
		{name: "sms opted out falls back to email", optOuts: []nudge.ChannelKind{nudge.SMS},
			wantStatus: nudge.ReminderSent, wantEmail: 1},
		{name: "account paid", acct: func(a *nudge.Account) { a.Status = nudge.StatusPaid },
			wantStatus: nudge.ReminderSuppressed, wantReason: nudge.ReasonAccountPaid},
		{name: "dispute hold", acct: func(a *nudge.Account) { a.Holds = []nudge.Hold{{Kind: nudge.HoldDispute}} },
			wantStatus: nudge.ReminderSuppressed, wantReason: nudge.ReasonHold},
		{name: "no contact at all", acct: func(a *nudge.Account) { a.Contacts = nil },
			wantStatus: nudge.ReminderSuppressed, wantReason: nudge.ReasonNoContact},
		{name: "sms undeliverable falls back to email",
			acct:       func(a *nudge.Account) { a.Contacts[0].State = nudge.ContactUndeliverable },
			wantStatus: nudge.ReminderSent, wantEmail: 1},
		{name: "only an undeliverable sms contact",
			acct: func(a *nudge.Account) {
				a.Contacts = a.Contacts[:1]
				a.Contacts[0].State = nudge.ContactUndeliverable
			},
			wantStatus: nudge.ReminderSuppressed, wantReason: nudge.ReasonUndeliverable},
		{name: "no consent for sms", acct: func(a *nudge.Account) { a.Contacts = a.Contacts[:1]; a.Contacts[0].Consent = false },
			wantStatus: nudge.ReminderSuppressed, wantReason: nudge.ReasonNoConsent},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			r := b.add("a1", tt.acct, nil)
			for _, ch := range tt.optOuts {
				addr := smsAddr
				if ch == nudge.Email {
					addr = emailAddr
				}
				_, err := b.store.AddOptOut(context.Background(), nudge.OptOut{Lender: testLender, Channel: ch, Address: addr, Source: "sms_keyword"})
				require.NoError(t, err)
			}

			require.NoError(t, b.pipe.Process(context.Background(), r.ID))

			got := b.store.reminder(r.ID)
			require.Equal(t, tt.wantStatus, got.Status)
			require.Equal(t, tt.wantReason, got.Reason)
			require.Equal(t, tt.wantSMS, b.sms.Count())
			require.Equal(t, tt.wantEmail, b.email.Count())
			decisions := b.store.eventsOf(nudge.EventDecision)
			require.Len(t, decisions, 1, "every decision is recorded")
			require.Equal(t, tt.wantReason, decisions[0].Reason)
			require.NotEmpty(t, decisions[0].Rule)
		})
	}
}

func TestDeferRunsAgainAtTheAllowedInstant(t *testing.T) {
	t.Parallel()
	b := setup(t)
	// 03:00 in New York: quiet hours until 08:00.
	night := time.Date(2026, 6, 2, 7, 0, 0, 0, time.UTC)
	b.clock.Set(night)
	r := b.add("a1", nil, func(r *nudge.Reminder) { r.DueAt = night })

	err := b.pipe.Process(context.Background(), r.ID)
	var d *DelayError
	require.ErrorAs(t, err, &d)
	require.ErrorIs(t, err, ErrDeferred)
	require.False(t, IsFailure(err), "a deferral does not use up a retry")
	open := time.Date(2026, 6, 2, 12, 0, 0, 0, time.UTC)
	require.Equal(t, open.Sub(night), d.Delay)
	require.Equal(t, nudge.ReasonQuietHours, d.Reason)
	require.Equal(t, d.Delay+time.Second, Backoff{}.RetryDelay(3, err, nil))

	got := b.store.reminder(r.ID)
	require.Equal(t, nudge.ReminderDeferred, got.Status)
	require.Equal(t, open, got.NextAt)
	require.Equal(t, 0, b.sms.Count())
	_, claimed := b.store.attempt(AttemptID(r.ID, nudge.SMS))
	require.False(t, claimed, "nothing is claimed before the window opens")

	b.clock.Set(open.Add(time.Second))
	require.NoError(t, b.pipe.Process(context.Background(), r.ID))
	require.Equal(t, nudge.ReminderSent, b.store.reminder(r.ID).Status)
	require.Equal(t, 1, b.sms.Sent())
	decisions := b.store.eventsOf(nudge.EventDecision)
	require.Len(t, decisions, 2)
	require.Equal(t, "defer", decisions[0].Action)
	require.Equal(t, "send", decisions[1].Action)
}

func TestExpiry(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		at   time.Time
		rem  func(*nudge.Reminder)
	}{
		{name: "past its moment at load", at: noon.Add(13 * time.Hour)},
		{name: "next window after its moment", at: time.Date(2026, 6, 2, 7, 0, 0, 0, time.UTC),
			rem: func(r *nudge.Reminder) { r.ExpiresAt = time.Date(2026, 6, 2, 10, 0, 0, 0, time.UTC) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			b.clock.Set(tt.at)
			r := b.add("a1", nil, tt.rem)
			require.NoError(t, b.pipe.Process(context.Background(), r.ID))
			got := b.store.reminder(r.ID)
			require.Equal(t, nudge.ReminderExpired, got.Status)
			require.Equal(t, nudge.ReasonExpired, got.Reason)
			require.Len(t, b.store.eventsOf(nudge.EventExpired), 1)
			require.Equal(t, 0, b.sms.Count())
		})
	}
}

func TestCycleEndedIsNotSentLate(t *testing.T) {
	t.Parallel()
	b := setup(t)
	// The lender moved the account to its next due date after the reminder
	// for the old one was queued.
	r := b.add("a1", func(a *nudge.Account) { a.DueDate = a.DueDate.AddDays(30) }, nil)
	require.NoError(t, b.pipe.Process(context.Background(), r.ID))
	got := b.store.reminder(r.ID)
	require.Equal(t, nudge.ReminderExpired, got.Status)
	require.Equal(t, nudge.ReasonCycleEnded, got.Reason)
	require.Equal(t, 0, b.sms.Count())

	// A broken-promise step counts from the promise, not the due date.
	bp := b.add("a2", func(a *nudge.Account) { a.DueDate = a.DueDate.AddDays(-3) }, func(r *nudge.Reminder) { r.BrokenPromise = true })
	require.NoError(t, b.pipe.Process(context.Background(), bp.ID))
	require.Equal(t, nudge.ReminderSent, b.store.reminder(bp.ID).Status)
}

func TestEarlierAttemptIsNeverSentAgain(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		attempt     nudge.Attempt
		wantAttempt nudge.AttemptStatus
		wantStatus  nudge.ReminderStatus
		wantReason  nudge.Reason
	}{
		{name: "crash after claim", attempt: nudge.Attempt{Status: nudge.AttemptSending},
			wantAttempt: nudge.AttemptUnknown, wantStatus: nudge.ReminderUnknown, wantReason: nudge.ReasonUnknownOutcome},
		{name: "crash after provider accepted", attempt: nudge.Attempt{Status: nudge.AttemptSending, ProviderID: "SM1"},
			wantAttempt: nudge.AttemptSending, wantStatus: nudge.ReminderSent},
		{name: "already delivered", attempt: nudge.Attempt{Status: nudge.AttemptDelivered, ProviderID: "SM1"},
			wantAttempt: nudge.AttemptDelivered, wantStatus: nudge.ReminderSent},
		{name: "already failed", attempt: nudge.Attempt{Status: nudge.AttemptFailed, Reason: nudge.ReasonRenderFailed},
			wantAttempt: nudge.AttemptFailed, wantStatus: nudge.ReminderFailed, wantReason: nudge.ReasonRenderFailed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			r := b.add("a1", nil, nil)
			a := tt.attempt
			a.ID, a.ReminderID, a.Lender, a.AccountID = AttemptID(r.ID, nudge.SMS), r.ID, testLender, "a1"
			a.Channel, a.Address, a.CreatedAt = nudge.SMS, smsAddr, noon.Add(-time.Minute)
			b.store.putAttempt(a)

			require.NoError(t, b.pipe.Process(context.Background(), r.ID))

			require.Equal(t, 0, b.sms.Count(), "the provider is never called again")
			require.Equal(t, 0, b.email.Count())
			got, _ := b.store.attempt(a.ID)
			require.Equal(t, tt.wantAttempt, got.Status)
			rem := b.store.reminder(r.ID)
			require.Equal(t, tt.wantStatus, rem.Status)
			require.Equal(t, tt.wantReason, rem.Reason)
		})
	}
}

func TestTransientErrorRetriedThenSent(t *testing.T) {
	t.Parallel()
	b := setup(t)
	r := b.add("a1", nil, nil)
	b.sms.FailNext(1, sandbox.Transient("30003"))
	attID := AttemptID(r.ID, nudge.SMS)

	err := b.pipe.Process(withRetry(context.Background(), 0, 5), r.ID)
	require.Error(t, err)
	require.True(t, IsFailure(err))
	require.NotErrorIs(t, err, asynq.SkipRetry)
	a, _ := b.store.attempt(attID)
	require.Equal(t, nudge.AttemptRetrying, a.Status)
	require.Equal(t, nudge.ReasonProviderRetry, a.Reason)
	require.Equal(t, "30003", a.ErrorCode)
	require.Equal(t, nudge.ReminderQueued, b.store.reminder(r.ID).Status)

	b.clock.Advance(10 * time.Second)
	require.NoError(t, b.pipe.Process(withRetry(context.Background(), 1, 5), r.ID))
	require.Equal(t, 2, b.sms.CallsFor(attID))
	require.Equal(t, 1, b.sms.Sent())
	a, _ = b.store.attempt(attID)
	require.Equal(t, nudge.AttemptSent, a.Status)
	require.NotEmpty(t, a.ProviderID)
	require.Equal(t, nudge.ReminderSent, b.store.reminder(r.ID).Status)
}

func TestUnclassifiedErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		err         error
		wantErr     bool
		wantAttempt nudge.AttemptStatus
		wantStatus  nudge.ReminderStatus
	}{
		{name: "an unclassified error may hide an acceptance", err: errors.New("connection reset"),
			wantAttempt: nudge.AttemptUnknown, wantStatus: nudge.ReminderUnknown},
		{name: "timeout leaves the outcome unknown", err: fmt.Errorf("post: %w", context.DeadlineExceeded),
			wantAttempt: nudge.AttemptUnknown, wantStatus: nudge.ReminderUnknown},
		{name: "an answer lost after acceptance is unknown", err: &nudge.ProviderError{MaybeAccepted: true, Err: io.ErrUnexpectedEOF},
			wantAttempt: nudge.AttemptUnknown, wantStatus: nudge.ReminderUnknown},
		{name: "refused before acceptance is retried", err: &nudge.ProviderError{Retry: true, Code: "500", Err: errors.New("500")}, wantErr: true,
			wantAttempt: nudge.AttemptRetrying, wantStatus: nudge.ReminderQueued},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			r := b.add("a1", nil, nil)
			b.sms.FailNext(1, tt.err)
			err := b.pipe.Process(context.Background(), r.ID)
			if tt.wantErr {
				require.Error(t, err)
			} else {
				require.NoError(t, err)
			}
			a, _ := b.store.attempt(AttemptID(r.ID, nudge.SMS))
			require.Equal(t, tt.wantAttempt, a.Status)
			require.Equal(t, tt.wantStatus, b.store.reminder(r.ID).Status)
		})
	}
}

func TestRetriesExhausted(t *testing.T) {
	t.Parallel()
	b := setup(t)
	r := b.add("a1", nil, nil)
	b.sms.FailNext(1, sandbox.Transient("20429"))

	err := b.pipe.Process(withRetry(context.Background(), 5, 5), r.ID)
	require.ErrorIs(t, err, asynq.SkipRetry)
	a, _ := b.store.attempt(AttemptID(r.ID, nudge.SMS))
	require.Equal(t, nudge.AttemptFailed, a.Status)
	require.Equal(t, nudge.ReasonRetriesExhausted, a.Reason)
	require.Equal(t, "20429", a.ErrorCode)
	rem := b.store.reminder(r.ID)
	require.Equal(t, nudge.ReminderFailed, rem.Status)
	require.Equal(t, nudge.ReasonRetriesExhausted, rem.Reason)
}

func TestPermanentErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		err         *nudge.ProviderError
		wantReason  nudge.Reason
		wantOptOut  bool
		wantContact nudge.ContactState
	}{
		{name: "21610 records an opt-out", err: sandbox.Permanent("21610", nudge.ReasonOptedOut, true, false),
			wantReason: nudge.ReasonOptedOut, wantOptOut: true},
		{name: "invalid number marks the contact", err: sandbox.Permanent("21211", nudge.ReasonUndeliverable, false, true),
			wantReason: nudge.ReasonUndeliverable, wantContact: nudge.ContactUndeliverable},
		{name: "no reason given", err: sandbox.Permanent("30007", "", false, false), wantReason: nudge.ReasonProviderFailed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			r := b.add("a1", nil, nil)
			b.sms.FailAddress(smsAddr, tt.err)

			require.NoError(t, b.pipe.Process(context.Background(), r.ID), "a permanent error is not retried")
			a, _ := b.store.attempt(AttemptID(r.ID, nudge.SMS))
			require.Equal(t, nudge.AttemptFailed, a.Status)
			require.Equal(t, tt.wantReason, a.Reason)
			require.Equal(t, tt.err.Code, a.ErrorCode)
			rem := b.store.reminder(r.ID)
			require.Equal(t, nudge.ReminderFailed, rem.Status)
			require.Equal(t, tt.wantReason, rem.Reason)
			o, opted := b.store.optOut(testLender, nudge.SMS, smsAddr)
			require.Equal(t, tt.wantOptOut, opted)
			if tt.wantOptOut {
				require.Equal(t, OptOutSourceProvider, o.Source)
				require.Len(t, b.store.eventsOf(nudge.EventOptOut), 1)
			}
			acct, err := b.store.GetAccount(context.Background(), testLender, "a1")
			require.NoError(t, err)
			require.Equal(t, tt.wantContact, acct.Contacts[0].State)

			require.NoError(t, b.pipe.Process(context.Background(), r.ID))
			require.Equal(t, 1, b.sms.Count(), "never retried")
		})
	}
}

func TestRenderFailureThatCanPassIsRetried(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.renderErr = errors.New("loading lender acme: connection reset by peer")
	r := b.add("a1", nil, nil)

	err := b.pipe.Process(context.Background(), r.ID)
	require.Error(t, err)
	require.True(t, IsFailure(err))
	a, _ := b.store.attempt(AttemptID(r.ID, nudge.SMS))
	require.Equal(t, nudge.AttemptClaimed, a.Status, "the claim waits for the next run")
	require.Equal(t, nudge.ReminderQueued, b.store.reminder(r.ID).Status)

	b.renderErr = nil
	require.NoError(t, b.pipe.Process(context.Background(), r.ID))
	require.Equal(t, 1, b.sms.Count())
	require.Equal(t, nudge.ReminderSent, b.store.reminder(r.ID).Status)
}

func TestRenderFailure(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.renderErr = fmt.Errorf("%w: template due: missing variable amount", nudge.ErrUnrenderable)
	r := b.add("a1", nil, nil)

	require.NoError(t, b.pipe.Process(context.Background(), r.ID))
	require.Equal(t, 0, b.sms.Count())
	a, _ := b.store.attempt(AttemptID(r.ID, nudge.SMS))
	require.Equal(t, nudge.AttemptFailed, a.Status)
	require.Equal(t, nudge.ReasonRenderFailed, a.Reason)
	rem := b.store.reminder(r.ID)
	require.Equal(t, nudge.ReminderFailed, rem.Status)
	require.Equal(t, nudge.ReasonRenderFailed, rem.Reason)
}

func TestCapReachedAtClaim(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		err  error
		want nudge.Reason
	}{
		{name: "reason in the error", err: fmt.Errorf("%w: %s", nudge.ErrCapReached, nudge.ReasonFrequencyCap), want: nudge.ReasonFrequencyCap},
		{name: "call cap", err: fmt.Errorf("%w: call_cap", nudge.ErrCapReached), want: nudge.ReasonCallCap},
		{name: "no reason falls back", err: nudge.ErrCapReached, want: nudge.ReasonFrequencyCap},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			b.store.claimErr = tt.err
			r := b.add("a1", nil, nil)
			require.NoError(t, b.pipe.Process(context.Background(), r.ID))
			rem := b.store.reminder(r.ID)
			require.Equal(t, nudge.ReminderSuppressed, rem.Status)
			require.Equal(t, tt.want, rem.Reason)
			require.Equal(t, 0, b.sms.Count())
			decisions := b.store.eventsOf(nudge.EventDecision)
			require.Len(t, decisions, 2)
			require.Equal(t, "suppress", decisions[1].Action)
		})
	}
}

func TestCapsFromHistoryAcrossReminders(t *testing.T) {
	t.Parallel()
	b := setup(t)
	r1 := b.add("a1", nil, nil)
	r2 := testReminder("a1", "day2")
	r2.Fallback = ""
	b.store.putReminder(r2)

	require.NoError(t, b.pipe.Process(context.Background(), r1.ID))
	err := b.pipe.Process(context.Background(), r2.ID)
	// The us profile allows one text a day: the second is deferred or expired, never sent.
	require.Equal(t, 1, b.sms.Count())
	if err != nil {
		require.ErrorIs(t, err, ErrDeferred)
	} else {
		require.Equal(t, nudge.ReminderExpired, b.store.reminder(r2.ID).Status)
	}
}

type fakeLimiter struct {
	waits []time.Duration // one per Take; 0 grants a token
	keys  []string
}

func (l *fakeLimiter) Take(_ context.Context, key string, _ float64, _ int) (bool, time.Duration, error) {
	l.keys = append(l.keys, key)
	if len(l.waits) == 0 {
		return true, 0, nil
	}
	w := l.waits[0]
	l.waits = l.waits[1:]
	return w == 0, w, nil
}

// fakeReserver is a Limiter that reserves: each Reserve answers the next of
// its answers.
type fakeReserver struct {
	fakeLimiter
	answers []reservation
	reach   []time.Duration
}

type reservation struct {
	ok   bool
	wait time.Duration
}

func (l *fakeReserver) Reserve(_ context.Context, key string, _ float64, _ int, reach time.Duration) (bool, time.Duration, error) {
	l.keys = append(l.keys, key)
	l.reach = append(l.reach, reach)
	if len(l.answers) == 0 {
		return true, 0, nil
	}
	a := l.answers[0]
	l.answers = l.answers[1:]
	return a.ok, a.wait, nil
}

func TestRateLimitStage(t *testing.T) {
	t.Parallel()
	t.Run("reserved token waited for in process", func(t *testing.T) {
		t.Parallel()
		lim := &fakeReserver{answers: []reservation{{ok: true, wait: 400 * time.Millisecond}}}
		b := setup(t, func(c *PipelineConfig) {
			c.Limiter = lim
			c.SenderRate = func(*nudge.Message) (string, float64) { return "s", 3 }
		})
		r := b.add("a1", nil, nil)
		require.NoError(t, b.pipe.Process(context.Background(), r.ID))
		require.Equal(t, []time.Duration{400 * time.Millisecond}, b.sleeps)
		require.Equal(t, []string{"s"}, lim.keys, "reserved once, not taken again")
		require.Equal(t, []time.Duration{maxRateRounds * DefaultMaxRateWait}, lim.reach)
		require.Equal(t, 1, b.sms.Sent())
	})
	t.Run("no token within reach reschedules", func(t *testing.T) {
		t.Parallel()
		lim := &fakeReserver{answers: []reservation{{ok: false, wait: 3 * time.Second}}}
		b := setup(t, func(c *PipelineConfig) {
			c.Limiter = lim
			c.SenderRate = func(*nudge.Message) (string, float64) { return "s", 3 }
		})
		r := b.add("a1", nil, nil)
		err := b.pipe.Process(context.Background(), r.ID)
		require.ErrorIs(t, err, ErrRateLimited)
		require.False(t, IsFailure(err))
		require.Empty(t, b.sleeps)
		require.Equal(t, 0, b.sms.Count())
	})
	t.Run("short wait in process", func(t *testing.T) {
		t.Parallel()
		lim := &fakeLimiter{waits: []time.Duration{300 * time.Millisecond}}
		b := setup(t, func(c *PipelineConfig) {
			c.Limiter = lim
			c.SenderRate = func(m *nudge.Message) (string, float64) { return "twilio:" + m.From, 3 }
		})
		r := b.add("a1", nil, nil)
		require.NoError(t, b.pipe.Process(context.Background(), r.ID))
		require.Equal(t, []time.Duration{300 * time.Millisecond}, b.sleeps)
		require.Equal(t, []string{"twilio:+18005550000", "twilio:+18005550000"}, lim.keys)
		require.Equal(t, 1, b.sms.Sent())
	})
	t.Run("long wait reschedules without a failure", func(t *testing.T) {
		t.Parallel()
		lim := &fakeLimiter{waits: []time.Duration{5 * time.Second}}
		b := setup(t, func(c *PipelineConfig) {
			c.Limiter = lim
			c.SenderRate = func(*nudge.Message) (string, float64) { return "s", 1 }
		})
		r := b.add("a1", nil, nil)
		err := b.pipe.Process(context.Background(), r.ID)
		require.ErrorIs(t, err, ErrRateLimited)
		require.False(t, IsFailure(err))
		require.Equal(t, 6*time.Second, Backoff{}.RetryDelay(0, err, nil))
		require.Equal(t, 0, b.sms.Count())
		attID := AttemptID(r.ID, nudge.SMS)
		a, _ := b.store.attempt(attID)
		require.Equal(t, nudge.AttemptClaimed, a.Status, "the claim stays; the provider was not called")

		require.NoError(t, b.pipe.Process(context.Background(), r.ID))
		require.Equal(t, 1, b.sms.CallsFor(attID))
		a, _ = b.store.attempt(attID)
		require.Equal(t, nudge.AttemptSent, a.Status)
	})
	t.Run("lender bucket before the sender's", func(t *testing.T) {
		t.Parallel()
		lim := &fakeLimiter{}
		var asked []string
		b := setup(t, func(c *PipelineConfig) {
			c.Limiter = lim
			c.SenderRate = func(*nudge.Message) (string, float64) { return "s", 10 }
			c.LenderRate = func(lender string, ch nudge.ChannelKind) float64 {
				asked = append(asked, lender+"/"+string(ch))
				return 2
			}
		})
		r := b.add("a1", nil, nil)
		require.NoError(t, b.pipe.Process(context.Background(), r.ID))
		require.Equal(t, []string{testLender + "/sms"}, asked)
		require.Equal(t, []string{LenderRateKey(testLender, nudge.SMS), "s"}, lim.keys)
		require.Equal(t, "lender:"+testLender+":sms", LenderRateKey(testLender, nudge.SMS))
		require.Equal(t, 1, b.sms.Sent())
	})
	t.Run("lender over its rate is rescheduled before the sender's token", func(t *testing.T) {
		t.Parallel()
		lim := &fakeLimiter{waits: []time.Duration{4 * time.Second}}
		b := setup(t, func(c *PipelineConfig) {
			c.Limiter = lim
			c.SenderRate = func(*nudge.Message) (string, float64) { return "s", 10 }
			c.LenderRate = func(string, nudge.ChannelKind) float64 { return 0.25 }
		})
		r := b.add("a1", nil, nil)
		err := b.pipe.Process(context.Background(), r.ID)
		require.ErrorIs(t, err, ErrRateLimited)
		require.False(t, IsFailure(err))
		require.Equal(t, []string{LenderRateKey(testLender, nudge.SMS)}, lim.keys, "the sender's bucket is not touched")
		require.Equal(t, 0, b.sms.Count())
	})
	t.Run("no lender rate is unlimited", func(t *testing.T) {
		t.Parallel()
		lim := &fakeLimiter{}
		b := setup(t, func(c *PipelineConfig) {
			c.Limiter = lim
			c.LenderRate = func(string, nudge.ChannelKind) float64 { return 0 }
		})
		r := b.add("a1", nil, nil)
		require.NoError(t, b.pipe.Process(context.Background(), r.ID))
		require.Empty(t, lim.keys)
		require.Equal(t, 1, b.sms.Sent())
	})
}

func TestRetryingAttemptClosedWhenSuppressed(t *testing.T) {
	t.Parallel()
	b := setup(t)
	r := b.add("a1", nil, nil)
	b.sms.FailNext(1, sandbox.Transient("30003"))
	require.Error(t, b.pipe.Process(context.Background(), r.ID))

	// The borrower pays before the retry.
	acct := testAccount("a1")
	acct.Status = nudge.StatusPaid
	b.store.putAccount(acct)
	require.NoError(t, b.pipe.Process(context.Background(), r.ID))

	require.Equal(t, 1, b.sms.Count())
	a, _ := b.store.attempt(AttemptID(r.ID, nudge.SMS))
	require.Equal(t, nudge.AttemptFailed, a.Status)
	require.Equal(t, nudge.ReasonAccountPaid, a.Reason)
	require.Equal(t, nudge.ReminderSuppressed, b.store.reminder(r.ID).Status)
}

func TestNothingToDo(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		prep func(b *bundle) string
	}{
		{name: "reminder not found", prep: func(*bundle) string { return "rem_missing" }},
		{name: "reminder canceled", prep: func(b *bundle) string {
			return b.add("a1", nil, func(r *nudge.Reminder) { r.Status = nudge.ReminderCanceled }).ID
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			require.NoError(t, b.pipe.Process(context.Background(), tt.prep(b)))
			require.Equal(t, 0, b.sms.Count())
			require.Empty(t, b.store.eventsOf(nudge.EventDecision))
		})
	}
}

func TestAccountGoneCancels(t *testing.T) {
	t.Parallel()
	b := setup(t)
	r := testReminder("gone", "day1")
	b.store.putReminder(r)
	require.NoError(t, b.pipe.Process(context.Background(), r.ID))
	require.Equal(t, nudge.ReminderCanceled, b.store.reminder(r.ID).Status)
	require.Len(t, b.store.eventsOf(nudge.EventCanceled), 1)
}

// TestProfileErrorAfterCancellations: a profile that cannot be loaded (a
// cadence deactivated since planning) fails the task at the decision, with
// nothing sent; a reminder whose account is gone is still canceled first.
func TestProfileErrorAfterCancellations(t *testing.T) {
	t.Parallel()
	noProfile := func(c *PipelineConfig) {
		c.Profiles = ProfilesFunc(func(context.Context, string, string) (*compliance.Profile, error) {
			return nil, errors.New("cadence standard of lender acme is not active")
		})
	}
	b := setup(t, noProfile)
	r := b.add("a1", nil, nil)
	err := b.pipe.Process(context.Background(), r.ID)
	require.ErrorContains(t, err, "load compliance profile for cadence \"standard\": cadence standard of lender acme is not active")
	require.Equal(t, 0, b.sms.Count())
	require.Empty(t, b.store.eventsOf(nudge.EventDecision))

	gone := testReminder("gone", "day1")
	b.store.putReminder(gone)
	require.NoError(t, b.pipe.Process(context.Background(), gone.ID))
	require.Equal(t, nudge.ReminderCanceled, b.store.reminder(gone.ID).Status)
}

func TestNoSenderForChannel(t *testing.T) {
	t.Parallel()
	b := setup(t, func(c *PipelineConfig) { delete(c.Senders, nudge.SMS) })
	r := b.add("a1", nil, func(r *nudge.Reminder) { r.Fallback = "" })
	require.NoError(t, b.pipe.Process(context.Background(), r.ID))
	rem := b.store.reminder(r.ID)
	require.Equal(t, nudge.ReminderFailed, rem.Status)
	require.Equal(t, nudge.ReasonProviderFailed, rem.Reason)
}

func TestPaidJustBeforeSendIsSuppressed(t *testing.T) {
	t.Parallel()
	b := setup(t)
	r := b.add("a1", nil, nil)
	// The payment lands 1 ms before the task runs; the reminder was not yet canceled.
	b.clock.Advance(-time.Millisecond)
	acct := testAccount("a1")
	acct.Status = nudge.StatusPaid
	b.store.putAccount(acct)
	b.clock.Advance(time.Millisecond)

	require.NoError(t, b.pipe.Process(context.Background(), r.ID))
	require.Equal(t, 0, b.sms.Count())
	rem := b.store.reminder(r.ID)
	require.Equal(t, nudge.ReminderSuppressed, rem.Status)
	require.Equal(t, nudge.ReasonAccountPaid, rem.Reason)
}

func TestInjectedDecide(t *testing.T) {
	t.Parallel()
	b := setup(t, func(c *PipelineConfig) {
		c.Decide = func(compliance.Input) compliance.Decision { return compliance.Decision{Action: "maybe"} }
	})
	r := b.add("a1", nil, nil)
	err := b.pipe.Process(context.Background(), r.ID)
	require.ErrorContains(t, err, `unknown action "maybe"`)
	require.True(t, IsFailure(err))
}

func TestNewPipelineValidates(t *testing.T) {
	t.Parallel()
	_, err := NewPipeline(PipelineConfig{})
	require.ErrorContains(t, err, "missing store")
}

func TestBackoff(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		n    int
		err  error
		want time.Duration
	}{
		{name: "first failure", n: 0, err: errors.New("x"), want: 10 * time.Second},
		{name: "third failure", n: 2, err: errors.New("x"), want: 40 * time.Second},
		{name: "capped", n: 10, err: errors.New("x"), want: 10 * time.Minute},
		{name: "huge n stays capped", n: 200, err: errors.New("x"), want: 10 * time.Minute},
		{name: "deferral waits exactly", n: 4, err: &DelayError{Kind: ErrDeferred, Delay: time.Hour}, want: time.Hour + time.Second},
		{name: "wrapped rate limit", n: 0, err: fmt.Errorf("x: %w", &DelayError{Kind: ErrRateLimited, Delay: 3 * time.Second}), want: 4 * time.Second},
		{name: "a dead worker's task, however often", n: 6, err: asynq.ErrLeaseExpired, want: 10 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.want, Backoff{}.RetryDelay(tt.n, tt.err, nil))
		})
	}
	require.False(t, IsFailure(nil))
	require.True(t, IsFailure(errors.New("x")))
}
