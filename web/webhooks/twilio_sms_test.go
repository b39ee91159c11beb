package webhooks_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"encoding/xml"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
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

const (
	authToken = "webhooktoken0123456789abcdef0123"
	publicURL = "https://nudge.example.com"
	lenderID  = "acme"
	lenderNm  = "Acme Auto Finance"
	phone     = "+12125550101"
	ourNumber = "+14155550100"
	msgSID    = "SM0123456789abcdef0123456789abcdef"
	// redisTestDB is the database of NUDGE_TEST_REDIS_ADDR this package's
	// tests own (response uses 9; dispatcher, schedules and the CLI 11 to 15).
	redisTestDB = 10
)

// t0 is Friday 2026-11-27 12:00 in New York.
var t0 = time.Date(2026, 11, 27, 17, 0, 0, 0, time.UTC)

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

// signature computes X-Twilio-Signature as Twilio documents it, without the
// code under test: base64(HMAC-SHA1(token, URL + each key and value, sorted
// by key)).
func signature(token, u string, form url.Values) string {
	keys := make([]string, 0, len(form))
	for k := range form {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	b.WriteString(u)
	for _, k := range keys {
		vs := append([]string(nil), form[k]...)
		sort.Strings(vs)
		for _, v := range vs {
			b.WriteString(k + v)
		}
	}
	mac := hmac.New(sha1.New, []byte(token))
	mac.Write([]byte(b.String()))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// failingStore fails AddOptOut while fail is set, and every outcome's
// write while failWrites is.
type failingStore struct {
	*store.DB
	fail       bool
	failWrites bool
}

func (f *failingStore) RecordOutcomes(ctx context.Context, outcomes []nudge.Outcome) []nudge.OutcomeResult {
	if f.failWrites {
		res := make([]nudge.OutcomeResult, len(outcomes))
		for i := range res {
			res[i].Err = errors.New("disk I/O error")
		}
		return res
	}
	return f.DB.RecordOutcomes(ctx, outcomes)
}

func (f *failingStore) AddOptOut(ctx context.Context, o nudge.OptOut, events ...nudge.Event) (bool, error) {
	if f.fail {
		return false, errors.New("disk I/O error")
	}
	return f.DB.AddOptOut(ctx, o, events...)
}

// bundle is what a webhook test works with.
type bundle struct {
	db         *store.DB
	fs         *failingStore
	clock      *nudge.FixedClock
	srv        *web.Server
	attempt    nudge.Attempt
	deliveries *deliveryNews
}

// setup stores a lender, a borrower speaking lang with phone on sms and
// voice, and an SMS attempt that Twilio accepted as msgSID; it serves the
// webhooks over a store that can be made to fail.
func setup(t *testing.T, lang string) *bundle {
	t.Helper()
	ctx := context.Background()
	clock := nudge.NewFixedClock(t0)
	db, err := store.Open(ctx, "sqlite://"+filepath.Join(t.TempDir(), "nudge.db"))
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, db.Close()) })
	require.NoError(t, db.Migrate(ctx))
	require.NoError(t, db.UpsertLender(ctx, nudge.Lender{ID: lenderID, Name: lenderNm, Language: "en",
		HelpPhone: "+18005550199", CreatedAt: t0}))
	acct := nudge.Account{
		ID: "A-1", Lender: lenderID, Portfolio: "auto",
		Borrower: nudge.Borrower{Name: "Jane Doe", Language: lang, Timezone: "America/New_York"},
		Address:  &nudge.Address{Country: "US", Region: "NY"},
		Contacts: []nudge.Contact{
			{Channel: nudge.SMS, Address: phone, Consent: true},
			{Channel: nudge.Voice, Address: phone, Consent: true},
		},
		Currency: "USD", AmountDue: "412.50", DueDate: nudge.MustDate("2026-11-20"), Status: nudge.StatusActive,
	}
	require.NoError(t, db.UpsertAccounts(ctx, []nudge.Account{acct}, t0))
	k := nudge.ReminderKey{Lender: lenderID, AccountID: "A-1", Cadence: "us-auto-standard", Step: "late-sms", Cycle: acct.DueDate}
	_, err = db.InsertReminders(ctx, []nudge.Reminder{{Key: k, CadenceVersion: 1, Channel: nudge.SMS, Template: "late_sms",
		DueAt: t0, ExpiresAt: t0.Add(8 * time.Hour), Status: nudge.ReminderSent, CreatedAt: t0}})
	require.NoError(t, err)
	att, err := db.ClaimAttempt(ctx, nudge.Attempt{ID: dispatcher.AttemptID(k.ID(), nudge.SMS), ReminderID: k.ID(),
		Lender: lenderID, AccountID: "A-1", Channel: nudge.SMS, Address: phone, CreatedAt: t0}, nil)
	require.NoError(t, err)
	_, err = db.UpdateAttempt(ctx, att.ID, nudge.AttemptUpdate{Status: nudge.AttemptSent, ProviderID: msgSID, SentAt: t0, At: t0})
	require.NoError(t, err)
	att, err = db.GetAttempt(ctx, att.ID)
	require.NoError(t, err)

	fs := &failingStore{DB: db}
	enq := dispatcher.NewEnqueuer(testRedis(t), dispatcher.EnqueuerConfig{Clock: clock})
	replies := &response.Handler{
		Store: fs, Tasks: enq, Pack: templates.Default(), Clock: clock,
		Profile: func(context.Context, nudge.Account) (*compliance.Profile, error) { return compliance.Builtin("us") },
	}
	srv := web.NewServer(nil, nil)
	deliveries := &deliveryNews{}
	(&webhooks.TwilioSMS{AuthToken: authToken, AccountTokens: map[string]string{subSID: subToken}, PublicURL: publicURL, Store: fs, Replies: replies, Clock: clock, Deliveries: deliveries}).Register(srv)
	return &bundle{db: db, fs: fs, clock: clock, srv: srv, attempt: att, deliveries: deliveries}
}

// deliveryNews records what the status webhook reports per sender.
type deliveryNews struct {
	mu   sync.Mutex
	news []string
}

func (d *deliveryNews) ReportDelivery(_ context.Context, sender string, filtered bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.news = append(d.news, fmt.Sprintf("%s filtered=%t", sender, filtered))
}

func (d *deliveryNews) all() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return slices.Clone(d.news)
}

// post sends form to path, signed with sig ("" sends no signature header).
func (b *bundle) post(path string, form url.Values, sig string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodPost, "http://10.0.0.7:8080"+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if sig != "" {
		req.Header.Set("X-Twilio-Signature", sig)
	}
	rec := httptest.NewRecorder()
	b.srv.ServeHTTP(rec, req)
	return rec
}

// signedPost signs form for PublicURL + path with the right token and posts it.
func (b *bundle) signedPost(path string, form url.Values) *httptest.ResponseRecorder {
	return b.post(path, form, signature(authToken, publicURL+path, form))
}

func statusForm(sid, status, code string) url.Values {
	f := url.Values{
		"AccountSid": {"AC00000000000000000000000000000000"}, "ApiVersion": {"2010-04-01"},
		"From": {ourNumber}, "To": {phone}, "MessageSid": {sid}, "SmsSid": {sid},
		"MessageStatus": {status}, "SmsStatus": {status},
	}
	if code != "" {
		f.Set("ErrorCode", code)
	}
	return f
}

func inboundForm(sid, body string) url.Values {
	return url.Values{
		"AccountSid": {"AC00000000000000000000000000000000"}, "ApiVersion": {"2010-04-01"},
		"MessageSid": {sid}, "SmsSid": {sid}, "SmsMessageSid": {sid}, "SmsStatus": {"received"},
		"From": {phone}, "To": {ourNumber}, "Body": {body}, "NumSegments": {"1"}, "NumMedia": {"0"},
		"FromCountry": {"US"}, "ToCountry": {"US"},
	}
}

func (b *bundle) currentAttempt(t *testing.T) nudge.Attempt {
	t.Helper()
	a, err := b.db.GetAttempt(context.Background(), b.attempt.ID)
	require.NoError(t, err)
	return a
}

func (b *bundle) events(t *testing.T, kind nudge.EventKind) []nudge.Event {
	t.Helper()
	es, err := b.db.Events(context.Background(), lenderID, "A-1")
	require.NoError(t, err)
	var out []nudge.Event
	for _, e := range es {
		if e.Kind == kind {
			out = append(out, e)
		}
	}
	return out
}

func (b *bundle) optOuts(t *testing.T) []nudge.OptOut {
	t.Helper()
	oos, err := b.db.ListOptOuts(context.Background(), lenderID)
	require.NoError(t, err)
	return oos
}

func (b *bundle) replies(t *testing.T) []nudge.Reply {
	t.Helper()
	rs, err := b.db.ListReplies(context.Background(), lenderID, false)
	require.NoError(t, err)
	return rs
}

func (b *bundle) contactStates(t *testing.T) map[nudge.ChannelKind]nudge.ContactState {
	t.Helper()
	a, err := b.db.GetAccount(context.Background(), lenderID, "A-1")
	require.NoError(t, err)
	out := map[nudge.ChannelKind]nudge.ContactState{}
	for _, c := range a.Contacts {
		out[c.Channel] = c.State
	}
	return out
}

// requireUntouched checks that the store is as setup left it.
func (b *bundle) requireUntouched(t *testing.T) {
	t.Helper()
	require.Equal(t, b.attempt, b.currentAttempt(t))
	require.Empty(t, b.optOuts(t))
	require.Empty(t, b.replies(t))
	require.Empty(t, b.events(t, nudge.EventCallback))
	require.Empty(t, b.events(t, nudge.EventReply))
	require.Equal(t, map[nudge.ChannelKind]nudge.ContactState{nudge.SMS: nudge.ContactOK, nudge.Voice: nudge.ContactOK}, b.contactStates(t))
}

// twiml is an SMS TwiML answer.
type twiml struct {
	XMLName  xml.Name `xml:"Response"`
	Messages []string `xml:"Message"`
}

func parseTwiML(t *testing.T, rec *httptest.ResponseRecorder) twiml {
	t.Helper()
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	require.True(t, strings.HasPrefix(rec.Header().Get("Content-Type"), "text/xml"), rec.Header().Get("Content-Type"))
	var doc twiml
	require.NoError(t, xml.Unmarshal(rec.Body.Bytes(), &doc), rec.Body.String())
	return doc
}

// subSID and subToken are a subaccount a pool sender sends through.
const (
	subSID   = "AC5ab00000000000000000000000000000"
	subToken = "subtok3n42"
)

// inAccount returns a copy of form naming account as its AccountSid.
func inAccount(form url.Values, account string) url.Values {
	f := url.Values{}
	for k, v := range form {
		f[k] = slices.Clone(v)
	}
	f.Set("AccountSid", account)
	return f
}

func TestTwilioSMSSignature(t *testing.T) {
	t.Parallel()
	statusPath, inboundPath := twilio.StatusCallbackPath, twilio.InboundPath
	// Each request would record an opt-out if it were let through.
	optOutCallback := statusForm(msgSID, "failed", "21610")
	stop := inboundForm("SM00000000000000000000000000000001", "STOP")
	tests := []struct {
		name string
		path string
		// form is what is posted; signed is what the signature covers.
		form, signed url.Values
		signURL      string
		token        string
		noHeader     bool
		code         int
	}{
		{name: "status signed", path: statusPath, form: optOutCallback, code: http.StatusNoContent},
		{name: "inbound signed", path: inboundPath, form: stop, code: http.StatusOK},
		{name: "wrong token", path: statusPath, form: optOutCallback, token: "someoneelsestoken0123456789abcde", code: http.StatusForbidden},
		{name: "inbound wrong token", path: inboundPath, form: stop, token: "someoneelsestoken0123456789abcde", code: http.StatusForbidden},
		{name: "altered parameter", path: statusPath, form: optOutCallback, signed: statusForm(msgSID, "delivered", ""), code: http.StatusForbidden},
		{name: "altered body", path: inboundPath, form: stop, signed: inboundForm("SM00000000000000000000000000000001", "HELP"), code: http.StatusForbidden},
		{name: "parameter added", path: statusPath, form: optOutCallback, signed: statusForm(msgSID, "failed", ""), code: http.StatusForbidden},
		{name: "other host", path: statusPath, form: optOutCallback, signURL: "https://attacker.example.com" + statusPath, code: http.StatusForbidden},
		{name: "other path", path: statusPath, form: optOutCallback, signURL: publicURL + inboundPath, code: http.StatusForbidden},
		{name: "other scheme", path: statusPath, form: optOutCallback, signURL: "http://nudge.example.com" + statusPath, code: http.StatusForbidden},
		{name: "host of the request", path: statusPath, form: optOutCallback, signURL: "http://10.0.0.7:8080" + statusPath, code: http.StatusForbidden},
		{name: "missing header", path: statusPath, form: optOutCallback, noHeader: true, code: http.StatusForbidden},
		{name: "inbound missing header", path: inboundPath, form: stop, noHeader: true, code: http.StatusForbidden},
		{name: "subaccount signed", path: statusPath, form: inAccount(optOutCallback, subSID), token: subToken, code: http.StatusNoContent},
		{name: "inbound subaccount signed", path: inboundPath, form: inAccount(stop, subSID), token: subToken, code: http.StatusOK},
		{name: "subaccount signed with the main token", path: statusPath, form: inAccount(optOutCallback, subSID), code: http.StatusForbidden},
		{name: "main account signed with a subaccount's token", path: statusPath, form: optOutCallback, token: subToken, code: http.StatusForbidden},
		{name: "repeated parameter", path: statusPath, code: http.StatusForbidden,
			form: func() url.Values { f := statusForm(msgSID, "failed", "21610"); f.Add("ErrorCode", "30006"); return f }()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, "en")
			signed, token, signURL := tt.form, authToken, publicURL+tt.path
			if tt.signed != nil {
				signed = tt.signed
			}
			if tt.token != "" {
				token = tt.token
			}
			if tt.signURL != "" {
				signURL = tt.signURL
			}
			sig := signature(token, signURL, signed)
			if tt.noHeader {
				sig = ""
			}
			rec := b.post(tt.path, tt.form, sig)
			require.Equal(t, tt.code, rec.Code, rec.Body.String())
			if tt.code == http.StatusForbidden {
				b.requireUntouched(t)
				return
			}
			oos := b.optOuts(t)
			require.Len(t, oos, 1, "the signed request was acted on")
			require.Equal(t, phone, oos[0].Address)
		})
	}
}

func TestTwilioSMSStatusCallbacks(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		callbacks []url.Values
		want      nudge.AttemptStatus
		reason    nudge.Reason
		code      string
		events    int
		check     func(t *testing.T, b *bundle)
	}{
		{
			name:      "delivered",
			callbacks: []url.Values{statusForm(msgSID, "delivered", "")},
			want:      nudge.AttemptDelivered, events: 1,
			check: func(t *testing.T, b *bundle) {
				e := b.events(t, nudge.EventCallback)[0]
				require.Equal(t, b.attempt.ID, e.AttemptID, "the event names the attempt that carries the message sid")
				require.Equal(t, b.attempt.ReminderID, e.ReminderID)
				require.Equal(t, string(nudge.AttemptDelivered), e.Action)
			},
		},
		{
			name:      "same callback twice",
			callbacks: []url.Values{statusForm(msgSID, "delivered", ""), statusForm(msgSID, "delivered", "")},
			want:      nudge.AttemptDelivered, events: 1,
		},
		{
			name:      "out of order",
			callbacks: []url.Values{statusForm(msgSID, "delivered", ""), statusForm(msgSID, "sent", "")},
			want:      nudge.AttemptDelivered, events: 1,
		},
		{
			name:      "queued after sent",
			callbacks: []url.Values{statusForm(msgSID, "queued", "")},
			want:      nudge.AttemptSent, events: 0,
		},
		{
			name: "unknown parameters",
			callbacks: []url.Values{func() url.Values {
				f := statusForm(msgSID, "delivered", "")
				f.Set("RawDlrDoneDate", "2611271700")
				f.Set("ChannelToAddress", "+1212555XXXX")
				f.Set("SomethingTwilioAddsNextYear", "42")
				return f
			}()},
			want: nudge.AttemptDelivered, events: 1,
		},
		{
			name:      "unknown status ignored",
			callbacks: []url.Values{statusForm(msgSID, "teleported", "")},
			want:      nudge.AttemptSent, events: 0,
		},
		{
			name:      "opted out",
			callbacks: []url.Values{statusForm(msgSID, "failed", "21610")},
			want:      nudge.AttemptFailed, reason: nudge.ReasonOptedOut, code: "21610", events: 1,
			check: func(t *testing.T, b *bundle) {
				oos := b.optOuts(t)
				require.Len(t, oos, 1)
				require.Equal(t, nudge.SMS, oos[0].Channel)
				require.Equal(t, phone, oos[0].Address)
				require.Equal(t, "provider_21610", oos[0].Source)
				opt := b.events(t, nudge.EventOptOut)
				require.Len(t, opt, 1, "the opt-out's event, written with it")
				require.Equal(t, "opt_out", opt[0].Action)
				pe, ok := nudge.PublicEventOf(nudge.FeedEntry{Event: opt[0]})
				require.True(t, ok)
				require.Equal(t, nudge.PublicOptOut, pe.Type)
				require.Equal(t, map[nudge.ChannelKind]nudge.ContactState{nudge.SMS: nudge.ContactOK, nudge.Voice: nudge.ContactOK}, b.contactStates(t))
			},
		},
		{
			name:      "landline",
			callbacks: []url.Values{statusForm(msgSID, "failed", "30006")},
			want:      nudge.AttemptFailed, reason: nudge.ReasonUndeliverable, code: "30006", events: 1,
			check: func(t *testing.T, b *bundle) {
				require.Empty(t, b.optOuts(t))
				require.Equal(t, map[nudge.ChannelKind]nudge.ContactState{nudge.SMS: nudge.ContactUndeliverable, nudge.Voice: nudge.ContactOK},
					b.contactStates(t), "only the SMS contact is undeliverable")
			},
		},
		{
			name:      "delivered after failed",
			callbacks: []url.Values{statusForm(msgSID, "undelivered", "30003"), statusForm(msgSID, "delivered", "")},
			want:      nudge.AttemptUndelivered, reason: nudge.ReasonProviderRetry, code: "30003", events: 1,
			check: func(t *testing.T, b *bundle) {
				require.Empty(t, b.optOuts(t))
				require.Equal(t, map[nudge.ChannelKind]nudge.ContactState{nudge.SMS: nudge.ContactOK, nudge.Voice: nudge.ContactOK}, b.contactStates(t))
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, "en")
			for _, cb := range tt.callbacks {
				rec := b.signedPost(twilio.StatusCallbackPath, cb)
				require.Equal(t, http.StatusNoContent, rec.Code, rec.Body.String())
			}
			a := b.currentAttempt(t)
			require.Equal(t, tt.want, a.Status)
			require.Equal(t, tt.reason, a.Reason)
			require.Equal(t, tt.code, a.ErrorCode)
			require.Len(t, b.events(t, nudge.EventCallback), tt.events)
			if tt.check != nil {
				tt.check(t, b)
			}
		})
	}
}

// lostAttempt adds an SMS attempt whose provider answer was lost: sending,
// with no provider id.
func (b *bundle) lostAttempt(t *testing.T) nudge.Attempt {
	t.Helper()
	ctx := context.Background()
	k := nudge.ReminderKey{Lender: lenderID, AccountID: "A-1", Cadence: "us-auto-standard", Step: "late-sms-2", Cycle: nudge.MustDate("2026-11-20")}
	_, err := b.db.InsertReminders(ctx, []nudge.Reminder{{Key: k, CadenceVersion: 1, Channel: nudge.SMS, Template: "late_sms",
		DueAt: t0, ExpiresAt: t0.Add(8 * time.Hour), Status: nudge.ReminderUnknown, CreatedAt: t0}})
	require.NoError(t, err)
	att, err := b.db.ClaimAttempt(ctx, nudge.Attempt{ID: dispatcher.AttemptID(k.ID(), nudge.SMS), ReminderID: k.ID(),
		Lender: lenderID, AccountID: "A-1", Channel: nudge.SMS, Address: phone, Status: nudge.AttemptUnknown, CreatedAt: t0}, nil)
	require.NoError(t, err)
	return att
}

func TestTwilioSMSStatusBeforeTheSendIsRecorded(t *testing.T) {
	t.Parallel()
	b := setup(t, "en")
	att := b.lostAttempt(t)
	const early = "SMeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee"
	rec := b.signedPost(twilio.StatusCallbackPath, statusForm(early, "delivered", ""))
	require.Equal(t, http.StatusNoContent, rec.Code, "kept, never refused: Twilio does not retry status callbacks")
	b.requireUntouched(t)

	// The worker records the provider id: the kept callback applies.
	_, err := b.db.UpdateAttempt(context.Background(), att.ID, nudge.AttemptUpdate{Status: nudge.AttemptSent, ProviderID: early, At: t0})
	require.NoError(t, err)
	got, err := b.db.GetAttempt(context.Background(), att.ID)
	require.NoError(t, err)
	require.Equal(t, nudge.AttemptDelivered, got.Status)
	require.Equal(t, early, got.ProviderID)
}

func TestTwilioSMSStatusNamesTheAttemptWhoseAnswerWasLost(t *testing.T) {
	t.Parallel()
	b := setup(t, "en")
	att := b.lostAttempt(t)
	const sid = "SMdddddddddddddddddddddddddddddddd"
	path := twilio.StatusCallbackURLFor("", att.ID)
	rec := b.signedPost(path, statusForm(sid, "delivered", ""))
	require.Equal(t, http.StatusNoContent, rec.Code, rec.Body.String())
	got, err := b.db.GetAttempt(context.Background(), att.ID)
	require.NoError(t, err)
	require.Equal(t, sid, got.ProviderID, "the late callback is the evidence the reconciler needs")
	require.Equal(t, nudge.AttemptDelivered, got.Status)

	// Another attempt's id in the URL never takes over a recorded send.
	rec = b.signedPost(twilio.StatusCallbackURLFor("", b.attempt.ID), statusForm("SMcccccccccccccccccccccccccccccccc", "failed", "30003"))
	require.Equal(t, http.StatusNoContent, rec.Code)
	require.Equal(t, msgSID, b.currentAttempt(t).ProviderID)
}

func TestTwilioSMSStatusStoreFailure(t *testing.T) {
	t.Parallel()
	b := setup(t, "en")
	b.fs.fail = true
	rec := b.signedPost(twilio.StatusCallbackPath, statusForm(msgSID, "failed", "21610"))
	require.Equal(t, http.StatusInternalServerError, rec.Code)
	b.requireUntouched(t)

	// Twilio retries: the opt-out and the outcome are recorded together.
	b.fs.fail = false
	rec = b.signedPost(twilio.StatusCallbackPath, statusForm(msgSID, "failed", "21610"))
	require.Equal(t, http.StatusNoContent, rec.Code)
	require.Len(t, b.optOuts(t), 1)
	require.Equal(t, nudge.AttemptFailed, b.currentAttempt(t).Status)
}

func TestTwilioSMSStatusWriteFailure(t *testing.T) {
	t.Parallel()
	b := setup(t, "en")
	b.fs.failWrites = true
	rec := b.signedPost(twilio.StatusCallbackPath, statusForm(msgSID, "delivered", ""))
	require.Equal(t, http.StatusInternalServerError, rec.Code, "acknowledged only once durably written")
	b.requireUntouched(t)
	require.Empty(t, b.deliveries.all(), "nothing reported for a callback not written")

	b.fs.failWrites = false
	rec = b.signedPost(twilio.StatusCallbackPath, statusForm(msgSID, "delivered", ""))
	require.Equal(t, http.StatusNoContent, rec.Code)
	require.Equal(t, nudge.AttemptDelivered, b.currentAttempt(t).Status)
	require.Len(t, b.events(t, nudge.EventCallback), 1)
}

func TestTwilioSMSInboundStop(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, lang, confirm string
	}{
		{name: "english", lang: "en", confirm: "You're unsubscribed and will get no more texts from us"},
		{name: "spanish", lang: "es", confirm: "Su suscripción fue cancelada"},
		{name: "chinese", lang: "zh-CN", confirm: "您已成功退订"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, tt.lang)
			form := inboundForm("SM00000000000000000000000000000002", "STOP")
			doc := parseTwiML(t, b.signedPost(twilio.InboundPath, form))
			require.Len(t, doc.Messages, 1, "exactly one confirmation")
			require.Contains(t, doc.Messages[0], tt.confirm)
			require.Contains(t, doc.Messages[0], lenderNm)
			oos := b.optOuts(t)
			require.Len(t, oos, 1, "the opt-out is written before the answer")
			require.Equal(t, response.SourceSMSKeyword, oos[0].Source)

			// Twilio posts the same message again.
			rec := b.signedPost(twilio.InboundPath, form)
			require.Empty(t, parseTwiML(t, rec).Messages, "no second confirmation")
			require.Contains(t, rec.Body.String(), "<Response/>")
			require.Len(t, b.replies(t), 1)
		})
	}
}

func TestTwilioSMSInbound(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		form    url.Values
		confirm string // "" means an empty <Response/>
		check   func(t *testing.T, b *bundle)
	}{
		{
			name: "advanced opt-out already confirmed",
			form: func() url.Values {
				f := inboundForm("SM00000000000000000000000000000003", "STOP")
				f.Set("OptOutType", "STOP")
				return f
			}(),
			check: func(t *testing.T, b *bundle) { require.Len(t, b.optOuts(t), 1) },
		},
		{
			name: "help", form: inboundForm("SM00000000000000000000000000000004", "HELP"),
			confirm: lenderNm + " payment reminders. For help call",
			check:   func(t *testing.T, b *bundle) { require.Empty(t, b.optOuts(t)) },
		},
		{
			name: "promise", form: inboundForm("SM00000000000000000000000000000005", "PAY 200 FRI"),
			confirm: "We've noted your plan to pay $200.00",
			check: func(t *testing.T, b *bundle) {
				p, err := b.db.ActivePromise(context.Background(), lenderID, "A-1")
				require.NoError(t, err)
				require.Equal(t, "200.00", p.Amount)
				require.Equal(t, nudge.MustDate("2026-11-27"), p.Due)
			},
		},
		{
			name: "wrong number", form: inboundForm("SM00000000000000000000000000000006", "wrong number"),
			confirm: "Thank you for letting us know.",
			check: func(t *testing.T, b *bundle) {
				require.Equal(t, map[nudge.ChannelKind]nudge.ContactState{nudge.SMS: nudge.ContactWrongParty, nudge.Voice: nudge.ContactWrongParty}, b.contactStates(t))
			},
		},
		{
			name: "needs a person", form: inboundForm("SM00000000000000000000000000000007", "Can someone explain the late fee on my statement?"),
			check: func(t *testing.T, b *bundle) {
				rs := b.replies(t)
				require.Len(t, rs, 1)
				require.True(t, rs[0].NeedsPerson)
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, "en")
			rec := b.signedPost(twilio.InboundPath, tt.form)
			doc := parseTwiML(t, rec)
			if tt.confirm == "" {
				require.Empty(t, doc.Messages)
				require.Contains(t, rec.Body.String(), "<Response/>")
			} else {
				require.Len(t, doc.Messages, 1)
				require.Contains(t, doc.Messages[0], tt.confirm)
			}
			tt.check(t, b)
		})
	}
}

func TestTwilioSMSInboundStoreFailure(t *testing.T) {
	t.Parallel()
	b := setup(t, "en")
	b.fs.fail = true
	form := inboundForm("SM00000000000000000000000000000008", "STOP")
	rec := b.signedPost(twilio.InboundPath, form)
	require.GreaterOrEqual(t, rec.Code, 500, "Twilio must try again")
	require.NotContains(t, rec.Body.String(), "<Message>")
	b.requireUntouched(t)

	b.fs.fail = false
	doc := parseTwiML(t, b.signedPost(twilio.InboundPath, form))
	require.Len(t, doc.Messages, 1, "the retry is confirmed once")
	require.Len(t, b.optOuts(t), 1)
}

// TestTwilioSMSStatusReportsDeliveriesPerSender: a delivered callback and a
// carrier-filtered one (30007) reach the sender pools' health under the
// sender that sent them (the Messaging Service when there is one); other
// statuses and codes do not.
func TestTwilioSMSStatusReportsDeliveriesPerSender(t *testing.T) {
	t.Parallel()
	b := setup(t, "en")
	rec := b.signedPost(twilio.StatusCallbackPath, statusForm(msgSID, "sent", ""))
	require.Equal(t, http.StatusNoContent, rec.Code)
	require.Empty(t, b.deliveries.all(), "sent says nothing of delivery")
	rec = b.signedPost(twilio.StatusCallbackPath, statusForm(msgSID, "delivered", ""))
	require.Equal(t, http.StatusNoContent, rec.Code)
	filtered := statusForm(msgSID, "undelivered", "30007")
	filtered.Set("MessagingServiceSid", "MG0123456789abcdef0123456789abcdef")
	rec = b.signedPost(twilio.StatusCallbackPath, filtered)
	require.Equal(t, http.StatusNoContent, rec.Code)
	rec = b.signedPost(twilio.StatusCallbackPath, statusForm(msgSID, "undelivered", "30003"))
	require.Equal(t, http.StatusNoContent, rec.Code)
	require.Equal(t, []string{ourNumber + " filtered=false", "MG0123456789abcdef0123456789abcdef filtered=true"}, b.deliveries.all())
}
