package response

import (
	"context"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/nudgehq/nudge"
	"github.com/nudgehq/nudge/compliance"
	"github.com/nudgehq/nudge/store"
	"github.com/nudgehq/nudge/templates"
)

// answerTasks records the tasks CancelAccount asks to delete.
type answerTasks struct {
	mu  sync.Mutex
	ids []string
}

func (f *answerTasks) Cancel(_ context.Context, _ string, _ nudge.ChannelKind, ids ...string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, id := range ids {
		if !slices.Contains(f.ids, id) {
			f.ids = append(f.ids, id)
		}
	}
	return nil
}

type answerBundle struct {
	db      *store.DB
	tasks   *answerTasks
	handler *Handler
	acct    nudge.Account
	queued  []nudge.Reminder
}

const answerPhone = "+12125550142"

// setupAnswer stores an account 7 days late with two queued reminders.
func setupAnswer(t *testing.T) *answerBundle {
	t.Helper()
	ctx := context.Background()
	now := time.Date(2026, 11, 27, 17, 0, 0, 0, time.UTC)
	clock := nudge.NewFixedClock(now)
	db, err := store.Open(ctx, "sqlite://"+filepath.Join(t.TempDir(), "nudge.db"))
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, db.Close()) })
	require.NoError(t, db.Migrate(ctx))
	require.NoError(t, db.UpsertLender(ctx, nudge.Lender{ID: "acme", Name: "Acme Auto Finance", Language: "en", Timezone: "America/New_York", CreatedAt: now}))
	acct := nudge.Account{
		ID: "A-1", Lender: "acme",
		Borrower: nudge.Borrower{Name: "Ana García", Language: "es", Timezone: "America/New_York"},
		Address:  &nudge.Address{Country: "US", Region: "NY"},
		Contacts: []nudge.Contact{
			{Channel: nudge.SMS, Address: answerPhone, Consent: true},
			{Channel: nudge.Voice, Address: answerPhone, Consent: true},
		},
		Currency: "USD", AmountDue: "412.50", DueDate: nudge.MustDate("2026-11-20"), Status: nudge.StatusActive,
	}
	require.NoError(t, db.UpsertAccounts(ctx, []nudge.Account{acct}, now))
	var rs []nudge.Reminder
	for _, step := range []string{"late-3", "late-10"} {
		k := nudge.ReminderKey{Lender: "acme", AccountID: "A-1", Cadence: "us-auto", Step: step, Cycle: acct.DueDate}
		rs = append(rs, nudge.Reminder{ID: k.ID(), Key: k, CadenceVersion: 1, Channel: nudge.Voice, Template: "late_voice",
			DueAt: now.Add(time.Hour), ExpiresAt: now.Add(8 * time.Hour), Status: nudge.ReminderQueued, CreatedAt: now})
	}
	_, err = db.InsertReminders(ctx, rs)
	require.NoError(t, err)
	tasks := &answerTasks{}
	h := &Handler{
		Store: db, Tasks: tasks, Pack: templates.Default(), Clock: clock,
		Profile: func(context.Context, nudge.Account) (*compliance.Profile, error) { return compliance.Builtin("us") },
	}
	return &answerBundle{db: db, tasks: tasks, handler: h, acct: acct, queued: rs}
}

func (b *answerBundle) reminderStatuses(t *testing.T) []nudge.ReminderStatus {
	t.Helper()
	var out []nudge.ReminderStatus
	for _, r := range b.queued {
		got, err := b.db.GetReminder(context.Background(), r.ID)
		require.NoError(t, err)
		out = append(out, got.Status)
	}
	return out
}

func TestApply(t *testing.T) {
	t.Parallel()
	canceled := []nudge.ReminderStatus{nudge.ReminderCanceled, nudge.ReminderCanceled}
	queued := []nudge.ReminderStatus{nudge.ReminderQueued, nudge.ReminderQueued}
	tests := []struct {
		name        string
		answer      func(a nudge.Account) Answer
		reminders   []nudge.ReminderStatus
		needsPerson bool
		check       func(t *testing.T, b *answerBundle)
	}{
		{
			name: "promise",
			answer: func(a nudge.Account) Answer {
				return Answer{Account: a, Channel: nudge.Voice, Address: answerPhone, Intent: nudge.IntentPromise,
					Date: nudge.MustDate("2026-12-04"), ProviderID: "CA1/menu/1", Body: "1"}
			},
			reminders: canceled,
			check: func(t *testing.T, b *answerBundle) {
				p, err := b.db.ActivePromise(context.Background(), "acme", "A-1")
				require.NoError(t, err)
				require.Equal(t, nudge.MustDate("2026-12-04"), p.Due)
				require.Equal(t, "412.50", p.Amount)
				require.Equal(t, nudge.Voice, p.Channel)
				require.Len(t, b.tasks.ids, 2)
			},
		},
		{
			name: "promise of a smaller amount",
			answer: func(a nudge.Account) Answer {
				return Answer{Account: a, Channel: nudge.Voice, Address: answerPhone, Intent: nudge.IntentPromise,
					Date: nudge.MustDate("2026-12-01"), Amount: "200.00", ProviderID: "CA2/confirm/2026-12-01", Body: "I can pay 200 Tuesday"}
			},
			reminders: canceled,
			check: func(t *testing.T, b *answerBundle) {
				p, err := b.db.ActivePromise(context.Background(), "acme", "A-1")
				require.NoError(t, err)
				require.Equal(t, "200.00", p.Amount)
			},
		},
		{
			name: "paid",
			answer: func(a nudge.Account) Answer {
				return Answer{Account: a, Channel: nudge.Voice, Address: answerPhone, Intent: nudge.IntentPaid, ProviderID: "CA3/menu/3", Body: "3"}
			},
			reminders:   canceled,
			needsPerson: true,
			check: func(t *testing.T, b *answerBundle) {
				a, err := b.db.GetAccount(context.Background(), "acme", "A-1")
				require.NoError(t, err)
				require.True(t, a.HasHold(nudge.HoldPaymentClaimed))
			},
		},
		{
			name: "voice opt-out",
			answer: func(a nudge.Account) Answer {
				return Answer{Account: a, Channel: nudge.Voice, Address: answerPhone, Intent: nudge.IntentOptOut, ProviderID: "CA4/menu/9", Body: "9"}
			},
			reminders: queued,
			check: func(t *testing.T, b *answerBundle) {
				outs, err := b.db.ListOptOuts(context.Background(), "acme")
				require.NoError(t, err)
				require.Len(t, outs, 1)
				require.Equal(t, nudge.Voice, outs[0].Channel)
				require.Equal(t, SourceVoiceKeypad, outs[0].Source)
				sms, err := b.db.IsOptedOut(context.Background(), "acme", nudge.SMS, answerPhone)
				require.NoError(t, err)
				require.False(t, sms, "a voice opt-out leaves texts alone")
			},
		},
		{
			name: "spoken opt-out",
			answer: func(a nudge.Account) Answer {
				return Answer{Account: a, Channel: nudge.Voice, Address: answerPhone, Intent: nudge.IntentOptOut,
					ProviderID: "CA5/menu/speech", Body: "stop calling me", Source: SourceVoiceSpeech}
			},
			reminders: queued,
			check: func(t *testing.T, b *answerBundle) {
				outs, err := b.db.ListOptOuts(context.Background(), "acme")
				require.NoError(t, err)
				require.Len(t, outs, 1)
				require.Equal(t, SourceVoiceSpeech, outs[0].Source)
			},
		},
		{
			name: "wrong party",
			answer: func(a nudge.Account) Answer {
				return Answer{Account: a, Channel: nudge.Voice, Address: answerPhone, Intent: nudge.IntentWrongNumber, ProviderID: "CA6/identity/2", Body: "2"}
			},
			reminders: queued,
			check: func(t *testing.T, b *answerBundle) {
				a, err := b.db.GetAccount(context.Background(), "acme", "A-1")
				require.NoError(t, err)
				for _, c := range a.Contacts {
					require.Equal(t, nudge.ContactWrongParty, c.State, "%s contact", c.Channel)
				}
			},
		},
		{
			name: "talk to a person",
			answer: func(a nudge.Account) Answer {
				return Answer{Account: a, Channel: nudge.Voice, Address: answerPhone, Intent: nudge.IntentTalkToPerson, ProviderID: "CA7/menu/4", Body: "4"}
			},
			reminders:   queued,
			needsPerson: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setupAnswer(t)
			ctx := context.Background()
			a := tt.answer(b.acct)
			out, err := b.handler.Apply(ctx, a)
			require.NoError(t, err)
			require.False(t, out.Duplicate)
			require.Empty(t, out.Confirmation, "Apply renders no confirmation")
			require.Equal(t, tt.reminders, b.reminderStatuses(t))
			if tt.check != nil {
				tt.check(t, b)
			}

			// The same answer again (a webhook retry) changes nothing.
			again, err := b.handler.Apply(ctx, a)
			require.NoError(t, err)
			require.True(t, again.Duplicate)
			require.Equal(t, out.Reply.ID, again.Reply.ID)

			replies, err := b.db.ListReplies(ctx, "acme", false)
			require.NoError(t, err)
			require.Len(t, replies, 1)
			require.Equal(t, a.Intent, replies[0].Intent)
			require.Equal(t, nudge.Voice, replies[0].Channel)
			require.Equal(t, a.Body, replies[0].Body)
			require.Equal(t, tt.needsPerson, replies[0].NeedsPerson)
			events, err := b.db.Events(ctx, "acme", "A-1")
			require.NoError(t, err)
			n := 0
			for _, e := range events {
				if e.Kind == nudge.EventReply {
					n++
				}
			}
			require.Equal(t, 1, n, "one reply event")
			promises, err := b.db.ListPromises(ctx, "acme", "A-1")
			require.NoError(t, err)
			if a.Intent == nudge.IntentPromise {
				require.Len(t, promises, 1)
			} else {
				require.Empty(t, promises)
			}
		})
	}
}

func TestApplyRejects(t *testing.T) {
	t.Parallel()
	b := setupAnswer(t)
	tests := []struct {
		name   string
		answer Answer
		want   string
	}{
		{name: "no account", answer: Answer{Channel: nudge.Voice, Intent: nudge.IntentPaid}, want: "lender and id are required"},
		{name: "bad channel", answer: Answer{Account: b.acct, Channel: "fax", Intent: nudge.IntentPaid}, want: "unknown channel"},
		{name: "promise without date", answer: Answer{Account: b.acct, Channel: nudge.Voice, Intent: nudge.IntentPromise}, want: "needs a date"},
		{name: "opt-out without address", answer: Answer{Account: b.acct, Channel: nudge.Voice, Intent: nudge.IntentOptOut}, want: "needs the borrower's address"},
		{name: "wrong number by email", answer: Answer{Account: b.acct, Channel: nudge.Email, Address: "a@example.com", Intent: nudge.IntentWrongNumber}, want: "phone answer"},
		{name: "unknown intent", answer: Answer{Account: b.acct, Channel: nudge.Voice, Intent: "dance"}, want: "unknown intent"},
	}
	t.Cleanup(func() {
		// After every subtest: nothing was recorded.
		replies, err := b.db.ListReplies(context.Background(), "acme", false)
		require.NoError(t, err)
		require.Empty(t, replies)
	})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := b.handler.Apply(context.Background(), tt.answer)
			require.ErrorContains(t, err, tt.want)
		})
	}
}
