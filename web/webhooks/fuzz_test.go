package webhooks_test

import (
	"context"
	"net/http"
	"net/url"
	"path/filepath"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/nudgehq/nudge"
	"github.com/nudgehq/nudge/channels/twilio"
	"github.com/nudgehq/nudge/compliance"
	"github.com/nudgehq/nudge/dispatcher"
	"github.com/nudgehq/nudge/response"
	"github.com/nudgehq/nudge/store"
	"github.com/nudgehq/nudge/templates"
	"github.com/nudgehq/nudge/web"
	"github.com/nudgehq/nudge/web/webhooks"
)

// fuzzBundle is setup for a fuzz target: one store and server shared by
// every input (a fuzz target has no *testing.T to build one per input).
func fuzzBundle(f *testing.F) *bundle {
	f.Helper()
	ctx := context.Background()
	clock := nudge.NewFixedClock(t0)
	db, err := store.Open(ctx, "sqlite://"+filepath.Join(f.TempDir(), "nudge.db"))
	require.NoError(f, err)
	f.Cleanup(func() { require.NoError(f, db.Close()) })
	require.NoError(f, db.Migrate(ctx))
	require.NoError(f, db.UpsertLender(ctx, nudge.Lender{ID: lenderID, Name: lenderNm, Language: "en",
		HelpPhone: "+18005550199", CreatedAt: t0}))
	acct := nudge.Account{
		ID: "A-1", Lender: lenderID, Portfolio: "auto",
		Borrower: nudge.Borrower{Name: "Jane Doe", Language: "en", Timezone: "America/New_York"},
		Address:  &nudge.Address{Country: "US", Region: "NY"},
		Contacts: []nudge.Contact{{Channel: nudge.SMS, Address: phone, Consent: true}},
		Currency: "USD", AmountDue: "412.50", DueDate: nudge.MustDate("2026-11-20"), Status: nudge.StatusActive,
	}
	require.NoError(f, db.UpsertAccounts(ctx, []nudge.Account{acct}, t0))
	k := nudge.ReminderKey{Lender: lenderID, AccountID: "A-1", Cadence: "us-auto-standard", Step: "late-sms", Cycle: acct.DueDate}
	_, err = db.InsertReminders(ctx, []nudge.Reminder{{Key: k, CadenceVersion: 1, Channel: nudge.SMS, Template: "late_sms",
		DueAt: t0, ExpiresAt: t0.Add(8 * time.Hour), Status: nudge.ReminderSent, CreatedAt: t0}})
	require.NoError(f, err)
	att, err := db.ClaimAttempt(ctx, nudge.Attempt{ID: dispatcher.AttemptID(k.ID(), nudge.SMS), ReminderID: k.ID(),
		Lender: lenderID, AccountID: "A-1", Channel: nudge.SMS, Address: phone, CreatedAt: t0}, nil)
	require.NoError(f, err)
	_, err = db.UpdateAttempt(ctx, att.ID, nudge.AttemptUpdate{Status: nudge.AttemptSent, ProviderID: msgSID, SentAt: t0, At: t0})
	require.NoError(f, err)

	mr := miniredis.RunT(f)
	rdb := redis.NewClient(&redis.Options{Addr: mr.Addr()})
	f.Cleanup(func() { _ = rdb.Close() })
	fs := &failingStore{DB: db}
	replies := &response.Handler{
		Store: fs, Tasks: dispatcher.NewEnqueuer(rdb, dispatcher.EnqueuerConfig{Clock: clock}), Pack: templates.Default(), Clock: clock,
		Profile: func(context.Context, nudge.Account) (*compliance.Profile, error) { return compliance.Builtin("us") },
	}
	srv := web.NewServer(nil, nil, web.WithLimits(web.Limits{Unauthenticated: web.RateLimit{Off: true}})) // forged forms by the thousand
	(&webhooks.TwilioSMS{AuthToken: authToken, PublicURL: publicURL, Store: fs, Replies: replies, Clock: clock}).Register(srv)
	return &bundle{db: db, fs: fs, clock: clock, srv: srv, attempt: att}
}

// FuzzTwilioWebhookForm posts arbitrary forms, correctly signed, to the SMS
// status and inbound webhooks. With a healthy store no form may panic or be
// answered 5xx, except the documented 503 asking Twilio to retry a status
// callback whose message is not (yet) known; the same form with a forged
// signature is always refused with 403; and the attempt's status only ever
// moves forward.
func FuzzTwilioWebhookForm(f *testing.F) {
	b := fuzzBundle(f)
	seeds := []struct {
		inbound                 bool
		sid, status, code, body string
		from, extra             string
	}{
		{false, msgSID, "delivered", "", "", phone, ""},
		{false, msgSID, "undelivered", "30003", "", phone, ""},
		{false, msgSID, "failed", "21610", "", phone, "ErrorMessage=opted+out"},
		{false, msgSID, "sent", "", "", phone, "MessageStatus=queued&MessageStatus=delivered"},
		{false, "SMffff", "delivered", "", "", phone, ""},
		{false, msgSID, "read", "abc", "", "", "%zz"},
		{false, msgSID, "failed", "-99999999999999999999", "", phone, ""},
		{true, "SM1", "", "", "STOP", phone, "OptOutType=STOP"},
		{true, "SM2", "", "", "I will pay $150 on 12/05", phone, ""},
		{true, "SM3", "", "", "START", phone, ""},
		{true, "SM4", "", "", "pagaré 200 mañana", "+5215555555555", "To=" + url.QueryEscape(ourNumber)},
		{true, "", "", "", "\x00\xff", "not a number", "Body=second"},
		{true, "SM5", "", "", "HELP", "", ""},
	}
	for _, s := range seeds {
		f.Add(s.inbound, s.sid, s.status, s.code, s.body, s.from, s.extra)
	}
	// rank orders the statuses a delivered-or-not SMS passes through.
	rank := map[nudge.AttemptStatus]int{nudge.AttemptSending: 1, nudge.AttemptSent: 2, nudge.AttemptDelivered: 3}
	f.Fuzz(func(t *testing.T, inbound bool, sid, status, code, body, from, extra string) {
		form, _ := url.ParseQuery(extra) // what parses of extra is extra fields
		if form == nil {
			form = url.Values{}
		}
		path := twilio.StatusCallbackPath
		if inbound {
			path = twilio.InboundPath
			form.Set("MessageSid", sid)
			form.Set("Body", body)
			form.Set("From", from)
			if form.Get("To") == "" {
				form.Set("To", ourNumber)
			}
		} else {
			form.Set("MessageSid", sid)
			form.Set("MessageStatus", status)
			if code != "" {
				form.Set("ErrorCode", code)
			}
			form.Set("To", from)
		}
		before := b.currentAttempt(t)

		forged := b.post(path, form, signature(authToken+"x", publicURL+path, form))
		require.Equal(t, http.StatusForbidden, forged.Code, "a forged webhook is refused")
		require.Equal(t, before, b.currentAttempt(t), "a forged webhook changes nothing")

		rec := b.signedPost(path, form)
		switch {
		case rec.Code < 500:
		case rec.Code == http.StatusServiceUnavailable && !inbound && form.Get("MessageSid") != msgSID:
			require.Equal(t, "1", rec.Header().Get("Retry-After"), "the retry of an unknown message is paced")
		default:
			t.Fatalf("%s answered %d to %v: %s", path, rec.Code, form, rec.Body.String())
		}
		after := b.currentAttempt(t)
		if rank[before.Status] > 0 && rank[after.Status] > 0 {
			require.GreaterOrEqual(t, rank[after.Status], rank[before.Status], "status moved back from %s to %s", before.Status, after.Status)
		}
	})
}
