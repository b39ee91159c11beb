package response_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/nudgehq/nudge"
	"github.com/nudgehq/nudge/compliance"
	"github.com/nudgehq/nudge/dispatcher"
	"github.com/nudgehq/nudge/response"
	"github.com/nudgehq/nudge/store"
	"github.com/nudgehq/nudge/templates"
)

const (
	lender    = "acme"
	lenderNm  = "Acme Auto Finance"
	helpPhone = "+18005550199"
	ourNumber = "+14155550100"
	cadence   = "us-auto-standard"
	// redisTestDB is the database of NUDGE_TEST_REDIS_ADDR this package's
	// tests own (web uses 10; dispatcher, schedules and the CLI 11 to 15).
	redisTestDB = 9
)

// t0 is Friday 2026-11-27 12:00 in New York, inside every US window.
var t0 = time.Date(2026, 11, 27, 17, 0, 0, 0, time.UTC)

// realRedisMu serialises the tests that share the real Redis database: each
// flushes it first.
var realRedisMu sync.Mutex

// testRedis returns a client on an empty Redis database: the server at
// NUDGE_TEST_REDIS_ADDR (database redisTestDB, flushed, one test at a time)
// or a fresh miniredis.
func testRedis(t *testing.T) redis.UniversalClient {
	t.Helper()
	ctx := context.Background()
	if addr := os.Getenv("NUDGE_TEST_REDIS_ADDR"); addr != "" {
		realRedisMu.Lock()
		t.Cleanup(realRedisMu.Unlock)
		rdb := redis.NewClient(&redis.Options{Addr: addr, DB: redisTestDB})
		require.NoError(t, rdb.Ping(ctx).Err(), "NUDGE_TEST_REDIS_ADDR=%s is set but Redis does not answer", addr)
		require.NoError(t, rdb.FlushDB(ctx).Err())
		t.Cleanup(func() {
			_ = rdb.FlushDB(context.Background()).Err()
			_ = rdb.Close()
		})
		return rdb
	}
	if os.Getenv("NUDGE_TEST_REQUIRE_SERVICES") == "1" {
		t.Fatal("NUDGE_TEST_REQUIRE_SERVICES=1 but NUDGE_TEST_REDIS_ADDR is not set")
	}
	mr := miniredis.RunT(t)
	rdb := redis.NewClient(&redis.Options{Addr: mr.Addr()})
	t.Cleanup(func() { _ = rdb.Close() })
	return rdb
}

// openStore returns a migrated SQLite store in t.TempDir with the lender.
func openStore(t *testing.T, clock nudge.Clock) *store.DB {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, "sqlite://"+filepath.Join(t.TempDir(), "nudge.db"))
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, db.Close()) })
	require.NoError(t, db.Migrate(ctx))
	require.NoError(t, db.UpsertLender(ctx, nudge.Lender{ID: lender, Name: lenderNm, Language: "en",
		Timezone: "America/New_York", HelpPhone: helpPhone, CreatedAt: clock.Now()}))
	return db
}

// testAccount is an account 7 days past due whose borrower speaks lang and
// has phone on sms and voice.
func testAccount(id, lang, phone string) nudge.Account {
	return nudge.Account{
		ID: id, Lender: lender, Portfolio: "auto",
		Borrower: nudge.Borrower{Name: "Jane Doe", Language: lang, Timezone: "America/New_York"},
		Address:  &nudge.Address{Country: "US", Region: "NY"},
		Contacts: []nudge.Contact{
			{Channel: nudge.SMS, Address: phone, Consent: true},
			{Channel: nudge.Voice, Address: phone, Consent: true},
		},
		Currency: "USD", AmountDue: "412.50", DueDate: nudge.MustDate("2026-11-20"), Status: nudge.StatusActive,
	}
}

// bundle is what a response test works with.
type bundle struct {
	db      *store.DB
	clock   *nudge.FixedClock
	enq     *dispatcher.Enqueuer
	handler *response.Handler
}

func setup(t *testing.T) *bundle {
	t.Helper()
	clock := nudge.NewFixedClock(t0)
	db := openStore(t, clock)
	enq := dispatcher.NewEnqueuer(testRedis(t), dispatcher.EnqueuerConfig{Clock: clock})
	return &bundle{db: db, clock: clock, enq: enq, handler: newHandler(db, enq, clock)}
}

func newHandler(s response.Store, tasks dispatcher.TaskCanceler, clock nudge.Clock) *response.Handler {
	return &response.Handler{
		Store: s, Tasks: tasks, Pack: templates.Default(), Clock: clock,
		Profile: func(context.Context, nudge.Account) (*compliance.Profile, error) { return compliance.Builtin("us") },
	}
}

// addAccount stores an account and queues n SMS reminders for it, each in
// the ledger (status queued) and on the Asynq queue an hour from now.
func (b *bundle) addAccount(t *testing.T, a nudge.Account, n int) []nudge.Reminder {
	t.Helper()
	ctx := context.Background()
	now := b.clock.Now()
	require.NoError(t, b.db.UpsertAccounts(ctx, []nudge.Account{a}, now))
	var rs []nudge.Reminder
	for i := range n {
		k := nudge.ReminderKey{Lender: a.Lender, AccountID: a.ID, Cadence: cadence,
			Step: "step-" + string(rune('a'+i)), Cycle: a.DueDate}
		rs = append(rs, nudge.Reminder{ID: k.ID(), Key: k, CadenceVersion: 1, Channel: nudge.SMS, Template: "late_sms",
			DueAt: now.Add(time.Hour), ExpiresAt: now.Add(8 * time.Hour), Status: nudge.ReminderQueued, CreatedAt: now})
	}
	if n == 0 {
		return nil
	}
	inserted, err := b.db.InsertReminders(ctx, rs)
	require.NoError(t, err)
	require.Len(t, inserted, n)
	for _, r := range rs {
		require.NoError(t, b.enq.Enqueue(ctx, r, now.Add(time.Hour)))
	}
	return rs
}

// taskQueued reports whether the reminder's task is on the SMS queue.
func (b *bundle) taskQueued(t *testing.T, id string) bool {
	t.Helper()
	_, err := b.enq.Inspector().GetTaskInfo(dispatcher.QueueSMS+":"+lender, id)
	if errors.Is(err, asynq.ErrTaskNotFound) || errors.Is(err, asynq.ErrQueueNotFound) {
		return false
	}
	require.NoError(t, err)
	return true
}

// requireCanceled checks that every reminder is canceled in the ledger with
// reason and that its task has left the queue.
func (b *bundle) requireCanceled(t *testing.T, rs []nudge.Reminder, reason nudge.Reason) {
	t.Helper()
	for _, r := range rs {
		got, err := b.db.GetReminder(context.Background(), r.ID)
		require.NoError(t, err)
		require.Equal(t, nudge.ReminderCanceled, got.Status, "reminder %s", r.Key.Step)
		require.Equal(t, reason, got.Reason, "reminder %s", r.Key.Step)
		require.False(t, b.taskQueued(t, r.ID), "task of reminder %s is still queued", r.Key.Step)
	}
}

// requireQueued checks that every reminder is still queued, in the ledger and in Redis.
func (b *bundle) requireQueued(t *testing.T, rs []nudge.Reminder) {
	t.Helper()
	for _, r := range rs {
		got, err := b.db.GetReminder(context.Background(), r.ID)
		require.NoError(t, err)
		require.Equal(t, nudge.ReminderQueued, got.Status, "reminder %s", r.Key.Step)
		require.True(t, b.taskQueued(t, r.ID), "task of reminder %s was removed", r.Key.Step)
	}
}

func (b *bundle) replies(t *testing.T) []nudge.Reply {
	t.Helper()
	rs, err := b.db.ListReplies(context.Background(), lender, false)
	require.NoError(t, err)
	return rs
}

func (b *bundle) events(t *testing.T, accountID string, kind nudge.EventKind) []nudge.Event {
	t.Helper()
	es, err := b.db.Events(context.Background(), lender, accountID)
	require.NoError(t, err)
	var out []nudge.Event
	for _, e := range es {
		if e.Kind == kind {
			out = append(out, e)
		}
	}
	return out
}

func (b *bundle) optedOut(t *testing.T, ch nudge.ChannelKind, address string) bool {
	t.Helper()
	ok, err := b.db.IsOptedOut(context.Background(), lender, ch, address)
	require.NoError(t, err)
	return ok
}

func sms(from, body, sid string) response.Inbound {
	return response.Inbound{Channel: nudge.SMS, From: from, To: ourNumber, Body: body, ProviderID: sid}
}

func TestHandleOptOut(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		lang    string
		body    string
		confirm string
	}{
		{name: "english", lang: "en", body: "STOP", confirm: "You're unsubscribed"},
		{name: "spanish", lang: "es", body: "STOP", confirm: "Su suscripción fue cancelada"},
		{name: "chinese", lang: "zh-CN", body: "退订", confirm: "您已成功退订"},
		{name: "sentence", lang: "en", body: "please stop texting me", confirm: "You're unsubscribed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			b := setup(t)
			const phone = "+12125550101"
			b.addAccount(t, testAccount("A-1", tt.lang, phone), 0)

			out, err := b.handler.Handle(ctx, sms(phone, tt.body, "SM00000000000000000000000000000001"))
			require.NoError(t, err)
			require.Equal(t, nudge.IntentOptOut, out.Parsed.Intent)
			require.True(t, b.optedOut(t, nudge.SMS, phone), "the opt-out is recorded before Handle returns")
			require.Contains(t, out.Confirmation, tt.confirm)
			require.Contains(t, out.Confirmation, lenderNm)
			require.False(t, out.Duplicate)
			oos, err := b.db.ListOptOuts(ctx, lender)
			require.NoError(t, err)
			require.Len(t, oos, 1)
			wantSource := response.SourceSMSKeyword
			if out.Parsed.Keyword == "" {
				wantSource = response.SourceSMSText
			}
			require.Equal(t, wantSource, oos[0].Source)

			// Twilio retries the same message: no second confirmation.
			again, err := b.handler.Handle(ctx, sms(phone, tt.body, "SM00000000000000000000000000000001"))
			require.NoError(t, err)
			require.True(t, again.Duplicate)
			require.Empty(t, again.Confirmation)
			require.Len(t, b.replies(t), 1)
			require.Len(t, b.events(t, "A-1", nudge.EventReply), 1)
		})
	}
}

func TestHandleOptOutConfirmedByProvider(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t)
	const phone = "+12125550101"
	b.addAccount(t, testAccount("A-1", "en", phone), 0)
	in := sms(phone, "STOP", "SM00000000000000000000000000000002")
	in.ProviderConfirmed = true
	out, err := b.handler.Handle(ctx, in)
	require.NoError(t, err)
	require.True(t, b.optedOut(t, nudge.SMS, phone))
	require.Empty(t, out.Confirmation, "Twilio Advanced Opt-Out has confirmed it already")
}

func TestHandleOptIn(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t)
	const phone = "+12125550101"
	b.addAccount(t, testAccount("A-1", "en", phone), 0)
	_, err := b.handler.Handle(ctx, sms(phone, "STOP", "SM00000000000000000000000000000003"))
	require.NoError(t, err)
	require.True(t, b.optedOut(t, nudge.SMS, phone))

	out, err := b.handler.Handle(ctx, sms(phone, "START", "SM00000000000000000000000000000004"))
	require.NoError(t, err)
	require.Equal(t, nudge.IntentOptIn, out.Parsed.Intent)
	require.False(t, b.optedOut(t, nudge.SMS, phone))
	require.Contains(t, out.Confirmation, "subscribed again")
}

func TestHandleHelp(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t)
	const phone = "+12125550101"
	rs := b.addAccount(t, testAccount("A-1", "en", phone), 1)
	out, err := b.handler.Handle(ctx, sms(phone, "HELP", "SM00000000000000000000000000000005"))
	require.NoError(t, err)
	require.Equal(t, nudge.IntentHelp, out.Parsed.Intent)
	require.Contains(t, out.Confirmation, lenderNm+" payment reminders. For help call")
	require.Contains(t, out.Confirmation, "555-0199", "the lender's help number")
	require.Contains(t, out.Confirmation, "Reply STOP to opt out")
	require.False(t, b.optedOut(t, nudge.SMS, phone))
	b.requireQueued(t, rs)
}

func TestHandlePromise(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		lang    string
		body    string
		amount  string
		due     string
		confirm string
	}{
		{name: "english", lang: "en", body: "PAY 200 FRI", amount: "200.00", due: "2026-11-27", confirm: "We've noted your plan to pay $200.00"},
		{name: "chinese", lang: "zh-CN", body: "我明天还款", amount: "412.50", due: "2026-11-28", confirm: "我们已记录您承诺"},
		{name: "spanish", lang: "es", body: "pagaré el 5 de diciembre", amount: "412.50", due: "2026-12-05", confirm: "Registramos su compromiso de pagar"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			b := setup(t)
			const phone = "+12125550101"
			rs := b.addAccount(t, testAccount("A-1", tt.lang, phone), 3)
			other := b.addAccount(t, testAccount("A-2", "en", "+12125550102"), 1)

			out, err := b.handler.Handle(ctx, sms(phone, tt.body, "SM00000000000000000000000000000006"))
			require.NoError(t, err)
			require.Equal(t, nudge.IntentPromise, out.Parsed.Intent)
			require.Contains(t, out.Confirmation, tt.confirm)
			require.Contains(t, out.Confirmation, "Jane Doe")

			p, err := b.db.ActivePromise(ctx, lender, "A-1")
			require.NoError(t, err)
			require.Equal(t, tt.amount, p.Amount)
			require.Equal(t, nudge.MustDate(tt.due), p.Due)
			require.Equal(t, nudge.PromisePending, p.Status)
			require.Equal(t, "USD", p.Currency)
			require.Equal(t, out.Reply.ID, p.ReplyID)

			b.requireCanceled(t, rs, nudge.ReasonPromiseActive)
			require.Len(t, b.events(t, "A-1", nudge.EventCanceled), 3)
			require.Len(t, b.events(t, "A-1", nudge.EventPromise), 1)
			b.requireQueued(t, other)

			// The same message again: nothing new, no second confirmation.
			again, err := b.handler.Handle(ctx, sms(phone, tt.body, "SM00000000000000000000000000000006"))
			require.NoError(t, err)
			require.True(t, again.Duplicate)
			require.Empty(t, again.Confirmation)
			ps, err := b.db.ListPromises(ctx, lender, "A-1")
			require.NoError(t, err)
			require.Len(t, ps, 1)
		})
	}
}

func TestHandlePromiseReplacesPending(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t)
	const phone = "+12125550101"
	b.addAccount(t, testAccount("A-1", "en", phone), 0)
	_, err := b.handler.Handle(ctx, sms(phone, "PAY 200 FRI", "SM00000000000000000000000000000007"))
	require.NoError(t, err)
	out, err := b.handler.Handle(ctx, sms(phone, "I will pay on 12/05", "SM00000000000000000000000000000008"))
	require.NoError(t, err)
	require.Equal(t, nudge.IntentPromise, out.Parsed.Intent)
	ps, err := b.db.ListPromises(ctx, lender, "A-1")
	require.NoError(t, err)
	require.Len(t, ps, 2)
	statuses := map[nudge.PromiseStatus]nudge.Date{}
	for _, p := range ps {
		statuses[p.Status] = p.Due
	}
	require.Equal(t, map[nudge.PromiseStatus]nudge.Date{
		nudge.PromiseCanceled: nudge.MustDate("2026-11-27"),
		nudge.PromisePending:  nudge.MustDate("2026-12-05"),
	}, statuses)
}

func TestHandlePromiseTooFar(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t)
	const phone = "+12125550101"
	rs := b.addAccount(t, testAccount("A-1", "en", phone), 2)
	out, err := b.handler.Handle(ctx, sms(phone, "I will pay on 12/31", "SM00000000000000000000000000000009"))
	require.NoError(t, err)
	require.Equal(t, nudge.IntentPromise, out.Parsed.Intent)
	require.True(t, out.Parsed.TooFar)
	require.Contains(t, out.Confirmation, "Please reply with an earlier date")
	require.NotContains(t, out.Confirmation, "We've noted your plan")
	_, err = b.db.ActivePromise(ctx, lender, "A-1")
	require.ErrorIs(t, err, nudge.ErrNotFound, "no promise is recorded")
	b.requireQueued(t, rs)
}

func TestHandlePaid(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		lang    string
		body    string
		confirm string
	}{
		{name: "english", lang: "en", body: "paid", confirm: "We've noted that you've paid"},
		{name: "spanish", lang: "es", body: "ya pagué", confirm: "Registramos que ya realizó su pago"},
		{name: "chinese", lang: "zh-CN", body: "已还", confirm: "感谢您告知已还款"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			b := setup(t)
			const phone = "+12125550101"
			rs := b.addAccount(t, testAccount("A-1", tt.lang, phone), 2)
			out, err := b.handler.Handle(ctx, sms(phone, tt.body, "SM00000000000000000000000000000010"))
			require.NoError(t, err)
			require.Equal(t, nudge.IntentPaid, out.Parsed.Intent)
			require.Contains(t, out.Confirmation, tt.confirm)
			require.True(t, out.Reply.NeedsPerson, "a claimed payment is reconciled by a person")
			a, err := b.db.GetAccount(ctx, lender, "A-1")
			require.NoError(t, err)
			require.True(t, a.HasHold(nudge.HoldPaymentClaimed))
			b.requireCanceled(t, rs, nudge.ReasonPaymentClaimed)
			needs, err := b.db.ListReplies(ctx, lender, true)
			require.NoError(t, err)
			require.Len(t, needs, 1)
			require.Equal(t, nudge.IntentPaid, needs[0].Intent)
		})
	}
}

func TestHandleWrongNumber(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t)
	const phone = "+12125550101"
	acct := testAccount("A-1", "en", phone)
	acct.Contacts = append(acct.Contacts, nudge.Contact{Channel: nudge.SMS, Address: "+12125550109", Consent: true})
	b.addAccount(t, acct, 0)
	out, err := b.handler.Handle(ctx, sms(phone, "Wrong number", "SM00000000000000000000000000000011"))
	require.NoError(t, err)
	require.Equal(t, nudge.IntentWrongNumber, out.Parsed.Intent)
	require.Equal(t, "Thank you for letting us know. This number has been removed and will not be contacted again.", out.Confirmation)
	for _, secret := range []string{"Jane", "Doe", "Acme", lenderNm, "412", "debt"} {
		require.NotContains(t, out.Confirmation, secret, "a stranger must learn nothing")
	}
	a, err := b.db.GetAccount(ctx, lender, "A-1")
	require.NoError(t, err)
	states := map[string]nudge.ContactState{}
	for _, c := range a.Contacts {
		states[string(c.Channel)+" "+c.Address] = c.State
	}
	require.Equal(t, map[string]nudge.ContactState{
		"sms " + phone:     nudge.ContactWrongParty,
		"voice " + phone:   nudge.ContactWrongParty,
		"sms +12125550109": nudge.ContactOK,
	}, states)
}

func TestHandleNeedsPerson(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t)
	const phone = "+12125550101"
	rs := b.addAccount(t, testAccount("A-1", "en", phone), 1)
	out, err := b.handler.Handle(ctx, sms(phone, "Who is this? My cousin uses this phone sometimes", "SM00000000000000000000000000000012"))
	require.NoError(t, err)
	require.Empty(t, out.Confirmation)
	require.True(t, out.Reply.NeedsPerson)
	needs, err := b.db.ListReplies(ctx, lender, true)
	require.NoError(t, err)
	require.Len(t, needs, 1)
	require.Equal(t, "A-1", needs[0].AccountID)
	b.requireQueued(t, rs)
}

// failingStore fails chosen writes, to show that a failed write leaves
// nothing half-recorded and that the provider's retry completes the work.
type failingStore struct {
	*store.DB
	mu      sync.Mutex
	optOut  error
	cancels error
}

func (f *failingStore) AddOptOut(ctx context.Context, o nudge.OptOut, events ...nudge.Event) (bool, error) {
	f.mu.Lock()
	err := f.optOut
	f.mu.Unlock()
	if err != nil {
		return false, err
	}
	return f.DB.AddOptOut(ctx, o, events...)
}

func (f *failingStore) CancelReminders(ctx context.Context, lender, accountID string, reason nudge.Reason, now time.Time) ([]string, error) {
	f.mu.Lock()
	err := f.cancels
	f.mu.Unlock()
	if err != nil {
		return nil, err
	}
	return f.DB.CancelReminders(ctx, lender, accountID, reason, now)
}

func (f *failingStore) heal() {
	f.mu.Lock()
	f.optOut, f.cancels = nil, nil
	f.mu.Unlock()
}

func TestHandleStoreFailure(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		body  string
		fail  func(*failingStore)
		check func(t *testing.T, b *bundle, rs []nudge.Reminder)
	}{
		{
			name: "opt-out not written",
			body: "STOP",
			fail: func(f *failingStore) { f.optOut = errors.New("disk full") },
			check: func(t *testing.T, b *bundle, _ []nudge.Reminder) {
				require.True(t, b.optedOut(t, nudge.SMS, "+12125550101"))
			},
		},
		{
			name: "reminders not canceled",
			body: "PAY 200 FRI",
			fail: func(f *failingStore) { f.cancels = errors.New("database is locked") },
			check: func(t *testing.T, b *bundle, rs []nudge.Reminder) {
				b.requireCanceled(t, rs, nudge.ReasonPromiseActive)
				_, err := b.db.ActivePromise(context.Background(), lender, "A-1")
				require.NoError(t, err)
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			b := setup(t)
			const phone = "+12125550101"
			rs := b.addAccount(t, testAccount("A-1", "en", phone), 2)
			fs := &failingStore{DB: b.db}
			tt.fail(fs)
			h := newHandler(fs, b.enq, b.clock)
			in := sms(phone, tt.body, "SM00000000000000000000000000000013")

			_, err := h.Handle(ctx, in)
			require.Error(t, err)
			require.Empty(t, b.replies(t), "the reply is recorded last, so a retry acts again")
			require.False(t, b.optedOut(t, nudge.SMS, phone))
			require.Empty(t, b.events(t, "A-1", nudge.EventReply))

			// Twilio retries once the store is back: the work is completed and
			// confirmed exactly once.
			fs.heal()
			out, err := h.Handle(ctx, in)
			require.NoError(t, err)
			require.False(t, out.Duplicate)
			require.NotEmpty(t, out.Confirmation)
			require.Len(t, b.replies(t), 1)
			tt.check(t, b, rs)
		})
	}
}

func TestHandleUnknownNumber(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t)
	require.NoError(t, b.db.UpsertLender(ctx, nudge.Lender{ID: "zeta", Name: "Zeta Credit", CreatedAt: t0}))
	const stranger = "+12125550177"
	out, err := b.handler.Handle(ctx, sms(stranger, "STOP", "SM00000000000000000000000000000014"))
	require.NoError(t, err)
	for _, l := range []string{lender, "zeta"} {
		ok, err := b.db.IsOptedOut(ctx, l, nudge.SMS, stranger)
		require.NoError(t, err)
		require.True(t, ok, "STOP from an unknown number is honoured for lender %s", l)
	}
	require.Contains(t, out.Confirmation, "You're unsubscribed")
	for _, name := range []string{lenderNm, "Zeta"} {
		require.NotContains(t, out.Confirmation, name, "an unknown number learns no lender's name")
	}
	again, err := b.handler.Handle(ctx, sms(stranger, "STOP", "SM00000000000000000000000000000014"))
	require.NoError(t, err)
	require.Empty(t, again.Confirmation)

	out, err = b.handler.Handle(ctx, sms(stranger, "hello?", "SM00000000000000000000000000000015"))
	require.NoError(t, err, "a text from an unknown number is kept for a person")
	require.Empty(t, out.Confirmation)
	require.True(t, out.Reply.NeedsPerson)
}
