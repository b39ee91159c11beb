package dispatcher_test

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/nudgehq/nudge"
	"github.com/nudgehq/nudge/channels/sandbox"
	"github.com/nudgehq/nudge/compliance"
	"github.com/nudgehq/nudge/dispatcher"
	"github.com/nudgehq/nudge/store"
)

// queueFunc is a dispatcher.ControlQueue that hands each enqueued reminder
// to a function.
type queueFunc func(r nudge.Reminder)

func (f queueFunc) Enqueue(_ context.Context, r nudge.Reminder, _ time.Time) error     { f(r); return nil }
func (f queueFunc) Cancel(context.Context, string, nudge.ChannelKind, ...string) error { return nil }

// pipelineOverSQL stores account A-1 of acme (Jane in New York, one SMS
// contact, +12125550123) and a reminder of it due at noon on 2 June 2026,
// and returns a pipeline over db that sends SMS with sender at that
// instant (a fixed clock), the reminder and the clock.
func pipelineOverSQL(t *testing.T, db *store.DB, sender nudge.Sender) (*dispatcher.Pipeline, nudge.Reminder, *nudge.FixedClock) {
	t.Helper()
	ctx := context.Background()
	noon := time.Date(2026, 6, 2, 16, 0, 0, 0, time.UTC) // 12:00 in New York
	clock := nudge.NewFixedClock(noon)
	acct := nudge.Account{ID: "A-1", Lender: "acme", Borrower: nudge.Borrower{Name: "Jane", Timezone: "America/New_York"},
		Address:  &nudge.Address{Country: "US", Region: "NY"},
		Contacts: []nudge.Contact{{Channel: nudge.SMS, Address: "+12125550123", Consent: true}},
		Currency: "USD", AmountDue: "412.50", DueDate: nudge.MustDate("2026-06-01"), Status: nudge.StatusActive}
	require.NoError(t, db.UpsertAccounts(ctx, []nudge.Account{acct}, noon.Add(-time.Hour)))
	rs, err := db.InsertReminders(ctx, []nudge.Reminder{{Key: nudge.ReminderKey{Lender: "acme", AccountID: "A-1", Cadence: "standard",
		Step: "day1", Cycle: nudge.MustDate("2026-06-01")}, CadenceVersion: 1, Channel: nudge.SMS, Template: "due",
		DueAt: noon, ExpiresAt: noon.Add(8 * time.Hour), Status: nudge.ReminderQueued, CreatedAt: noon.Add(-time.Hour)}})
	require.NoError(t, err)
	pipe, err := dispatcher.NewPipeline(dispatcher.PipelineConfig{
		Store: db,
		Profiles: dispatcher.ProfilesFunc(func(context.Context, string, string) (*compliance.Profile, error) {
			return compliance.Builtin("us")
		}),
		Renderer: dispatcher.RendererFunc(func(_ context.Context, in dispatcher.RenderInput) (*nudge.Message, error) {
			return &nudge.Message{From: "+18005550000", Locale: "en", Template: "due@en:0123456789ab",
				Text: "Hi " + in.Account.Borrower.Name + ", a payment is due. Reply STOP to opt out."}, nil
		}),
		Senders: map[nudge.ChannelKind]nudge.Sender{nudge.SMS: sender},
		Clock:   clock,
		Logger:  slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	require.NoError(t, err)
	return pipe, rs[0], clock
}

// TestReplayRunsTheWholePipelineAgain fails a reminder for real (the
// provider refuses the sender number before accepting it), replays it, and
// runs the replayed task through the pipeline over the SQL store: it is
// re-checked, claims a new attempt and is sent once.
func TestReplayRunsTheWholePipelineAgain(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, err := store.Open(ctx, "sqlite://"+filepath.Join(t.TempDir(), "nudge.db"))
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, db.Close()) })
	require.NoError(t, db.Migrate(ctx))
	sms := sandbox.New()
	pipe, r, clock := pipelineOverSQL(t, db, sms)

	sms.FailNext(1, sandbox.Permanent("21606", nudge.ReasonProviderFailed, false, false))
	require.NoError(t, pipe.Process(ctx, r.ID))
	failed, attempts, err := db.LoadReminder(ctx, r.ID)
	require.NoError(t, err)
	require.Equal(t, nudge.ReminderFailed, failed.Status)
	require.Len(t, attempts, 1)
	require.Equal(t, nudge.AttemptFailed, attempts[0].Status)
	require.Empty(t, attempts[0].ProviderID, "refused before the provider accepted it")

	var enqueued []nudge.Reminder
	ctl := &dispatcher.Control{Store: db, Queue: queueFunc(func(r nudge.Reminder) { enqueued = append(enqueued, r) }), Clock: clock}
	clock.Advance(10 * time.Minute)
	res, err := ctl.Replay(ctx, "acme", []string{r.ID}, "key_admin", "sender number fixed")
	require.NoError(t, err)
	require.Equal(t, dispatcher.Replayed, res[0].Outcome)
	require.Len(t, enqueued, 1)
	require.Equal(t, r.ID, enqueued[0].ID)

	require.NoError(t, pipe.Process(ctx, enqueued[0].ID))
	sent, attempts, err := db.LoadReminder(ctx, r.ID)
	require.NoError(t, err)
	require.Equal(t, nudge.ReminderSent, sent.Status)
	require.Len(t, attempts, 1)
	require.Equal(t, nudge.AttemptSent, attempts[0].Status)
	require.Equal(t, "sbx-2", attempts[0].ProviderID)
	require.Equal(t, 2, sms.Count(), "one refused call, one after the replay")
	require.Equal(t, 1, sms.Sent(), "sent once")

	// Sent now: a second replay is refused and nothing is sent again.
	res, err = ctl.Replay(ctx, "acme", []string{r.ID}, "key_admin", "again")
	require.NoError(t, err)
	require.Equal(t, dispatcher.ReplayNotFailed, res[0].Outcome)
	require.Len(t, enqueued, 1)
}
