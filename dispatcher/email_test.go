package dispatcher

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/nudgehq/nudge"
	"github.com/nudgehq/nudge/channels/smtp"
	"github.com/nudgehq/nudge/channels/smtpsink"
)

// emailBundle sends the pipeline's email through the real SMTP sender to an
// in-process SMTP server, which counts what it received.
type emailBundle struct {
	*reconcileBundle
	sink *smtpsink.Sink
}

func setupEmail(t *testing.T) *emailBundle {
	t.Helper()
	sink, err := smtpsink.Start("127.0.0.1:0", smtpsink.Options{})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, sink.Close()) })
	b := &emailBundle{reconcileBundle: setupReconcile(t), sink: sink}
	sender, err := smtp.New(smtp.Config{Host: sink.Host(), Port: sink.Port(), From: "reminders@acme.example",
		TLS: smtp.TLSNone, Timeout: 5 * time.Second}, smtp.WithClock(b.clock))
	require.NoError(t, err)
	t.Cleanup(func() { _ = sender.Close() })
	b.pipe.cfg.Senders[nudge.Email] = sender
	text := b.pipe.cfg.Renderer
	b.pipe.cfg.Renderer = RendererFunc(func(ctx context.Context, in RenderInput) (*nudge.Message, error) {
		m, err := text.Render(ctx, in)
		if m != nil {
			m.Subject, m.From = "Your payment is due", ""
		}
		return m, err
	})
	return b
}

// addEmail adds an account reachable by email only, due now.
func (b *emailBundle) addEmail(id string) nudge.Reminder {
	return b.add(id, func(a *nudge.Account) { a.Contacts = a.Contacts[1:] }, func(r *nudge.Reminder) {
		r.Channel, r.Fallback = nudge.Email, ""
	})
}

func TestEmailDroppedAfterTheDotIsNeverDeliveredTwiceWithTwoMessageIDs(t *testing.T) {
	t.Parallel()
	b := setupEmail(t)
	b.sink.SetFault(smtpsink.FaultDropAfterData, true)
	var rems []nudge.Reminder
	for _, id := range []string{"e1", "e2", "e3", "e4", "e5"} {
		r := b.addEmail(id)
		rems = append(rems, r)
		require.NoError(t, b.pipe.Process(context.Background(), r.ID))
		require.Equal(t, nudge.ReminderUnknown, b.store.reminder(r.ID).Status, "the reply was lost after the dot")
	}
	require.Equal(t, 5, b.sink.Count(), "the server kept every message")

	// The lender's policy resends once, with the same Message-ID.
	b.sink.SetFault(smtpsink.FaultDropAfterData, false)
	b.clock.Advance(DefaultSettle)
	rep, err := b.rc.Run(context.Background(), false)
	require.NoError(t, err)
	require.Equal(t, 5, rep.Counts[OutcomeReleased])
	for _, r := range rems {
		require.NoError(t, b.pipe.Process(context.Background(), r.ID))
		require.Equal(t, nudge.ReminderSent, b.store.reminder(r.ID).Status)
	}
	ids := b.sink.MessageIDs()
	require.Len(t, ids, 5, "one Message-ID per reminder, however often it reached the server")
	for id, n := range ids {
		require.Equal(t, 2, n, "%s: the lost reply and the one resend, which receivers de-duplicate", id)
	}
}

func TestEmailOutageRetriesUntilTheServerIsBack(t *testing.T) {
	t.Parallel()
	b := setupEmail(t)
	r := b.addEmail("e1")
	b.sink.SetFault(smtpsink.FaultOutage, true)

	// Ten minutes of outage: every run is refused before acceptance and
	// retried with back-off; the reminder never fails.
	waited := time.Duration(0)
	backoff := Backoff{}
	for n := 0; waited < 10*time.Minute; n++ {
		err := b.pipe.Process(withRetry(context.Background(), n, DefaultMaxRetry), r.ID)
		require.Error(t, err)
		require.True(t, IsFailure(err))
		require.Equal(t, nudge.ReminderQueued, b.store.reminder(r.ID).Status)
		d := backoff.RetryDelay(n, err, nil)
		b.clock.Advance(d)
		waited += d
	}
	require.Zero(t, b.sink.Count())

	b.sink.SetFault(smtpsink.FaultOutage, false)
	require.NoError(t, b.pipe.Process(withRetry(context.Background(), 8, DefaultMaxRetry), r.ID))
	require.Equal(t, nudge.ReminderSent, b.store.reminder(r.ID).Status)
	require.Equal(t, 1, b.sink.Count(), "delivered once after the outage")
}

func TestEmailSenderRefusedPausesTheLendersEmail(t *testing.T) {
	t.Parallel()
	b := setupEmail(t)
	b.sink.SetFault(smtpsink.FaultRejectSender, true)
	r1, r2 := b.addEmail("e1"), b.addEmail("e2")

	require.ErrorIs(t, b.pipe.Process(context.Background(), r1.ID), ErrDeferred)
	require.ErrorIs(t, b.pipe.Process(context.Background(), r2.ID), ErrDeferred)
	require.Equal(t, 1, b.sink.Injected(smtpsink.FaultRejectSender), "the second reminder waited at the last gate")
	for _, r := range []nudge.Reminder{r1, r2} {
		rem := b.store.reminder(r.ID)
		require.Equal(t, nudge.ReminderDeferred, rem.Status, "no reminder fails for the sender's fault")
		require.Equal(t, nudge.ReasonPaused, rem.Reason)
	}
}
