package dispatcher

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/nudgehq/nudge"
)

// fakeProber answers look-ups from the messages the sandbox sender holds,
// as a provider's list endpoint would, or with err.
type fakeProber struct {
	mu      sync.Mutex
	records map[string]nudge.ProviderRecord // by body
	queries []nudge.ProviderQuery
	err     error
}

func (f *fakeProber) Lookup(_ context.Context, q nudge.ProviderQuery) (nudge.ProviderRecord, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.queries = append(f.queries, q)
	if f.err != nil {
		return nudge.ProviderRecord{}, f.err
	}
	return f.records[q.Body], nil
}

// fakeQueue records what the reconciler puts back on the queue.
type fakeQueue struct {
	mu  sync.Mutex
	ids []string
}

func (q *fakeQueue) Enqueue(_ context.Context, r nudge.Reminder, _ time.Time) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.ids = append(q.ids, r.ID)
	return nil
}

type reconcileBundle struct {
	*bundle
	prober *fakeProber
	queue  *fakeQueue
	rc     *Reconciler
}

func setupReconcile(t *testing.T, mods ...func(*ReconcilerConfig)) *reconcileBundle {
	t.Helper()
	b := &reconcileBundle{bundle: setup(t), prober: &fakeProber{records: map[string]nudge.ProviderRecord{}}, queue: &fakeQueue{}}
	cfg := ReconcilerConfig{
		Store: b.store, Queue: b.queue, Probers: map[nudge.ChannelKind]nudge.Prober{nudge.SMS: b.prober},
		Clock: b.clock, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
	for _, m := range mods {
		m(&cfg)
	}
	rc, err := NewReconciler(cfg)
	require.NoError(t, err)
	b.rc = rc
	return b
}

// lostAnswer runs the pipeline for a reminder whose provider accepts the
// message (the sandbox holds it) and whose answer is lost.
func (b *reconcileBundle) lostAnswer(t *testing.T, accountID string, ch nudge.ChannelKind) nudge.Reminder {
	t.Helper()
	r := b.add(accountID, nil, func(r *nudge.Reminder) { r.Channel = ch })
	sender := b.sms
	if ch == nudge.Email {
		sender = b.email
	}
	sender.FailNext(1, &nudge.ProviderError{MaybeAccepted: true, Err: io.ErrUnexpectedEOF})
	require.NoError(t, b.pipe.Process(context.Background(), r.ID))
	require.Equal(t, nudge.ReminderUnknown, b.store.reminder(r.ID).Status)
	return r
}

func TestReconcileFindsTheSendAtTheProvider(t *testing.T) {
	t.Parallel()
	b := setupReconcile(t)
	r := b.lostAnswer(t, "a1", nudge.SMS)
	att, _ := b.store.attempt(AttemptID(r.ID, nudge.SMS))
	b.prober.records[att.Body] = nudge.ProviderRecord{Found: true, ProviderID: "SM123", Status: nudge.AttemptDelivered}
	b.clock.Advance(10 * time.Second)

	dry, err := b.rc.Run(context.Background(), true)
	require.NoError(t, err)
	require.Equal(t, 1, dry.Counts[OutcomeFound])
	require.Equal(t, nudge.ReminderUnknown, b.store.reminder(r.ID).Status, "a dry run changes nothing")

	rep, err := b.rc.Run(context.Background(), false)
	require.NoError(t, err)
	require.Equal(t, 1, rep.Counts[OutcomeFound])
	q := b.prober.queries[len(b.prober.queries)-1]
	require.Equal(t, smsAddr, q.To)
	require.Equal(t, att.Body, q.Body)
	require.True(t, q.Since.Before(att.SendingAt) && q.Until.After(att.SendingAt))

	att, _ = b.store.attempt(att.ID)
	require.Equal(t, "SM123", att.ProviderID)
	require.Equal(t, nudge.AttemptDelivered, att.Status)
	require.Equal(t, nudge.ReminderSent, b.store.reminder(r.ID).Status)
	evs := b.store.eventsOf(nudge.EventReconcile)
	require.Len(t, evs, 1)
	require.Equal(t, OutcomeFound, evs[0].Action)
	require.Contains(t, string(evs[0].Detail), "SM123")
	delivered := b.store.eventsOf(nudge.EventCallback)
	require.Len(t, delivered, 1, "the delivery the status callback never reported")
	require.Equal(t, string(nudge.AttemptDelivered), delivered[0].Action)
	require.Equal(t, nudge.ReasonReconciled, delivered[0].Reason)
	require.Empty(t, b.queue.ids, "found: never resent")
}

func TestReconcileReleasesAfterTheSettleTime(t *testing.T) {
	t.Parallel()
	b := setupReconcile(t)
	r := b.lostAnswer(t, "a1", nudge.SMS)

	b.clock.Advance(DefaultSettle - time.Second)
	rep, err := b.rc.Run(context.Background(), false)
	require.NoError(t, err)
	require.Equal(t, 1, rep.Counts[OutcomeWaiting])
	require.Equal(t, nudge.ReminderUnknown, b.store.reminder(r.ID).Status)

	b.clock.Advance(2 * time.Second)
	rep, err = b.rc.Run(context.Background(), false)
	require.NoError(t, err)
	require.Equal(t, 1, rep.Counts[OutcomeReleased])
	require.Equal(t, []string{r.ID}, b.queue.ids)
	require.Equal(t, nudge.ReminderQueued, b.store.reminder(r.ID).Status)
	att, _ := b.store.attempt(AttemptID(r.ID, nudge.SMS))
	require.Equal(t, nudge.AttemptRetrying, att.Status)

	// The released reminder goes through the whole pipeline again.
	require.NoError(t, b.pipe.Process(context.Background(), r.ID))
	require.Equal(t, nudge.ReminderSent, b.store.reminder(r.ID).Status)
	att, _ = b.store.attempt(att.ID)
	require.Equal(t, nudge.AttemptSent, att.Status)
	require.NotEmpty(t, att.ProviderID)
	require.Equal(t, 2, b.sms.CallsFor(att.ID), "one lost answer, one send after release")
	require.Equal(t, 1, b.sms.Sent())
}

func TestReconcileLateCallback(t *testing.T) {
	t.Parallel()
	b := setupReconcile(t)
	r := b.lostAnswer(t, "a1", nudge.SMS)
	id := AttemptID(r.ID, nudge.SMS)
	_, err := b.store.UpdateAttempt(context.Background(), id, nudge.AttemptUpdate{Status: nudge.AttemptDelivered, ProviderID: "SM9", At: noon})
	require.NoError(t, err)

	rep, err := b.rc.Run(context.Background(), false)
	require.NoError(t, err)
	require.Equal(t, 1, rep.Counts[OutcomeCallback])
	require.Equal(t, nudge.ReminderSent, b.store.reminder(r.ID).Status)
	require.Empty(t, b.prober.queries, "the callback is evidence enough")
}

func TestReconcileProviderErrorIsRetriedLater(t *testing.T) {
	t.Parallel()
	b := setupReconcile(t)
	r := b.lostAnswer(t, "a1", nudge.SMS)
	b.prober.err = errors.New("twilio list: 503")
	b.clock.Advance(time.Hour)

	rep, err := b.rc.Run(context.Background(), false)
	require.NoError(t, err)
	require.Len(t, rep.Errors, 1)
	require.Equal(t, nudge.ReminderUnknown, b.store.reminder(r.ID).Status, "no evidence, no release")
	require.Empty(t, b.queue.ids)
}

func TestReconcileEmailPolicies(t *testing.T) {
	t.Parallel()
	t.Run("resend once with the same attempt, then hold", func(t *testing.T) {
		t.Parallel()
		b := setupReconcile(t)
		r := b.lostAnswer(t, "a1", nudge.Email)
		b.clock.Advance(DefaultSettle)
		rep, err := b.rc.Run(context.Background(), false)
		require.NoError(t, err)
		require.Equal(t, 1, rep.Counts[OutcomeReleased])

		b.email.FailNext(1, &nudge.ProviderError{MaybeAccepted: true, Err: io.ErrUnexpectedEOF})
		require.NoError(t, b.pipe.Process(context.Background(), r.ID))
		calls := b.email.Calls()
		require.Len(t, calls, 2)
		require.Equal(t, calls[0].Message.AttemptID, calls[1].Message.AttemptID, "same attempt, so the same Message-ID")

		b.clock.Advance(DefaultSettle)
		for range 2 {
			rep, err = b.rc.Run(context.Background(), false)
			require.NoError(t, err)
			require.Equal(t, 1, rep.Counts[OutcomeHeld])
		}
		require.Len(t, b.store.eventsOf(nudge.EventReconcile), 2, "released once, held once")
		require.Equal(t, nudge.ReminderUnknown, b.store.reminder(r.ID).Status)
		require.Len(t, b.queue.ids, 1)
	})
	t.Run("hold", func(t *testing.T) {
		t.Parallel()
		b := setupReconcile(t, func(c *ReconcilerConfig) {
			c.EmailPolicy = func(string) EmailPolicy { return EmailHold }
		})
		r := b.lostAnswer(t, "a1", nudge.Email)
		rep, err := b.rc.Run(context.Background(), false)
		require.NoError(t, err)
		require.Equal(t, 1, rep.Counts[OutcomeHeld])
		require.Empty(t, b.queue.ids)
		require.Equal(t, nudge.ReminderUnknown, b.store.reminder(r.ID).Status)
	})
}
