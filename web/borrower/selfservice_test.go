package borrower_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/nudgehq/nudge"
	"github.com/nudgehq/nudge/compliance"
	"github.com/nudgehq/nudge/dispatcher"
	"github.com/nudgehq/nudge/link"
	"github.com/nudgehq/nudge/response"
	"github.com/nudgehq/nudge/store"
	"github.com/nudgehq/nudge/templates"
	"github.com/nudgehq/nudge/web"
	"github.com/nudgehq/nudge/web/borrower"
)

// ssT0 is Monday 2026-06-01 15:00 UTC: 11:00 in New York, where the
// borrower lives, so "today" is 2026-06-01 and the us profile's 30-day
// promise horizon ends on 2026-07-01.
var ssT0 = time.Date(2026, 6, 1, 15, 0, 0, 0, time.UTC)

const (
	ssNumber = "+12125550123"
	ssEmail  = "ana@example.com"
)

// ssBundle is the self-service page over a fresh SQLite store, a real
// response.Handler and an Enqueuer on miniredis, with lender acme and
// account A-1 whose one reminder is queued.
type ssBundle struct {
	db         *store.DB
	clock      *nudge.FixedClock
	links      *link.Service
	enq        *dispatcher.Enqueuer
	srv        *web.Server
	reminderID string
}

func ssSetup(t *testing.T, language string) *ssBundle {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, "sqlite://"+filepath.Join(t.TempDir(), "nudge.db"))
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, db.Close()) })
	require.NoError(t, db.Migrate(ctx))
	mr := miniredis.RunT(t)
	rdb := redis.NewClient(&redis.Options{Addr: mr.Addr()})
	t.Cleanup(func() { _ = rdb.Close() })
	clock := nudge.NewFixedClock(ssT0)
	links, err := link.New([]byte("self-service-test-secret-0123456789abcdef"), db, clock)
	require.NoError(t, err)
	enq := dispatcher.NewEnqueuer(rdb, dispatcher.EnqueuerConfig{Clock: clock})

	require.NoError(t, db.UpsertLender(ctx, nudge.Lender{ID: "acme", Name: "ACME Auto", Language: "en",
		HelpPhone: "+18005550100", Profile: "us", CreatedAt: ssT0}))
	acct := nudge.Account{ID: "A-1", Lender: "acme",
		Borrower: nudge.Borrower{Name: "Ana Diaz", Language: language, Timezone: "America/New_York"},
		Address:  &nudge.Address{Country: "US", Region: "NY"},
		Contacts: []nudge.Contact{{Channel: nudge.SMS, Address: ssNumber, Consent: true}, {Channel: nudge.Voice, Address: ssNumber, Consent: true},
			{Channel: nudge.Email, Address: ssEmail}},
		Currency: "USD", AmountDue: "412.50", DueDate: nudge.MustDate("2026-06-04"), Status: nudge.StatusActive}
	require.NoError(t, db.UpsertAccounts(ctx, []nudge.Account{acct}, ssT0))
	rs, err := db.InsertReminders(ctx, []nudge.Reminder{{Key: nudge.ReminderKey{Lender: "acme", AccountID: "A-1", Cadence: "minimal",
		Step: "due-sms", Cycle: acct.DueDate}, Channel: nudge.SMS, Template: "due_sms", DueAt: ssT0.Add(24 * time.Hour),
		Status: nudge.ReminderQueued, CreatedAt: ssT0}})
	require.NoError(t, err)
	require.NoError(t, enq.Enqueue(ctx, rs[0], ssT0.Add(24*time.Hour)))

	reg := compliance.NewRegistry()
	profile := func(context.Context, nudge.Account) (*compliance.Profile, error) { return reg.Lookup("us") }
	srv := web.NewServer(nil, nil)
	(&borrower.SelfService{
		Links: links, Store: db, Profile: profile, Clock: clock,
		Answers: &response.Handler{Store: db, Tasks: enq, Pack: templates.Default(), Profile: profile, Clock: clock},
	}).Register(srv)
	return &ssBundle{db: db, clock: clock, links: links, enq: enq, srv: srv, reminderID: rs[0].ID}
}

// token issues a self-service link for A-1's SMS number, valid for 30
// days; the same link gives the same token while it lives.
func (b *ssBundle) token(mod ...func(*link.Link)) string {
	l := link.Link{Token: link.NewToken(), Purpose: link.SelfService, Lender: "acme", AccountID: "A-1", Channel: nudge.SMS,
		Address: ssNumber, CreatedAt: ssT0, ExpiresAt: ssT0.Add(30 * 24 * time.Hour)}
	for _, m := range mod {
		m(&l)
	}
	got, err := b.db.IssueLink(context.Background(), l, ssT0)
	if err != nil {
		panic(err)
	}
	return got.Token
}

func (b *ssBundle) do(t *testing.T, method, token string, form url.Values, acceptLanguage string) *httptest.ResponseRecorder {
	t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req := httptest.NewRequest(method, borrower.SelfServicePath+token, body)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if acceptLanguage != "" {
		req.Header.Set("Accept-Language", acceptLanguage)
	}
	rec := httptest.NewRecorder()
	b.srv.ServeHTTP(rec, req)
	return rec
}

var (
	ssNoncePattern = regexp.MustCompile(`name="nonce" value="([^"]+)"`)
	ssCSRFPattern  = regexp.MustCompile(`name="csrf" value="([^"]+)"`)
)

// form returns the hidden fields of the page's form for action.
func ssForm(t *testing.T, page, action string) url.Values {
	t.Helper()
	i := strings.Index(page, `name="action" value="`+action+`"`)
	require.GreaterOrEqual(t, i, 0, "the page has a %s form", action)
	rest := page[i:]
	nonce := ssNoncePattern.FindStringSubmatch(rest)
	csrf := ssCSRFPattern.FindStringSubmatch(rest)
	require.NotNil(t, nonce)
	require.NotNil(t, csrf)
	return url.Values{"action": {action}, "nonce": {nonce[1]}, "csrf": {csrf[1]}}
}

// fresh loads the page and returns the hidden fields of its action form.
func (b *ssBundle) fresh(t *testing.T, token, action string) url.Values {
	t.Helper()
	rec := b.do(t, "GET", token, nil, "")
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	return ssForm(t, rec.Body.String(), action)
}

// requireUnchanged checks that nothing was recorded for A-1.
func (b *ssBundle) requireUnchanged(t *testing.T) {
	t.Helper()
	ctx := context.Background()
	ps, err := b.db.ListPromises(ctx, "acme", "A-1")
	require.NoError(t, err)
	require.Empty(t, ps, "no promise")
	reps, err := b.db.ListReplies(ctx, "acme", false)
	require.NoError(t, err)
	require.Empty(t, reps, "no reply")
	oos, err := b.db.ListOptOuts(ctx, "acme")
	require.NoError(t, err)
	require.Empty(t, oos, "no opt-out")
	a, err := b.db.GetAccount(ctx, "acme", "A-1")
	require.NoError(t, err)
	require.Empty(t, a.Holds, "no hold")
	r, err := b.db.GetReminder(ctx, b.reminderID)
	require.NoError(t, err)
	require.Equal(t, nudge.ReminderQueued, r.Status, "the reminder is still queued")
	_, err = b.enq.Inspector().GetTaskInfo(dispatcher.QueueSMS+":acme", b.reminderID)
	require.NoError(t, err, "its task is still on the queue")
}

// requirePaused checks that the cadence is paused: the queued reminder is
// canceled and its task deleted.
func (b *ssBundle) requirePaused(t *testing.T, reason nudge.Reason) {
	t.Helper()
	r, err := b.db.GetReminder(context.Background(), b.reminderID)
	require.NoError(t, err)
	require.Equal(t, nudge.ReminderCanceled, r.Status)
	require.Equal(t, reason, r.Reason)
	_, err = b.enq.Inspector().GetTaskInfo(dispatcher.QueueSMS+":acme", b.reminderID)
	require.True(t, errors.Is(err, asynq.ErrTaskNotFound) || errors.Is(err, asynq.ErrQueueNotFound), "the task is gone: %v", err)
}

func TestSelfServiceShowsAccount(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, language, acceptLanguage string
		lang                           string
		want                           []string
	}{
		{name: "en", language: "en", lang: "en", want: []string{"$412.50", "June 4, 2026", "Promise to pay", "I already paid",
			"Text messages to &#43;1********23", "Emails to a***@example.com", "Questions? Call"}},
		{name: "es", language: "es", lang: "es", want: []string{"412.50", "4 de junio de 2026", "Prometer el pago", "Ya pagué",
			"Mensajes de texto a &#43;1********23"}},
		{name: "zh-CN", language: "zh-CN", lang: "zh-CN", want: []string{"412.50", "2026年6月4日", "承诺还款", "我已还款"}},
		{name: "browser language when the borrower states none", acceptLanguage: "es-MX,es;q=0.9", lang: "en",
			want: []string{"June 4, 2026"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := ssSetup(t, tt.language)
			rec := b.do(t, "GET", b.token(), nil, tt.acceptLanguage)
			require.Equal(t, http.StatusOK, rec.Code)
			page := rec.Body.String()
			require.Contains(t, page, `<html lang="`+tt.lang+`">`)
			for _, w := range tt.want {
				require.Contains(t, page, w)
			}
			require.Contains(t, page, `type="date" id="date" name="date" value="" min="2026-06-01" max="2026-07-01"`)
			require.Contains(t, page, `name="amount" value="412.50"`)
			require.Contains(t, page, `<label for="date">`)
			require.Contains(t, page, `<label for="amount">`)
			require.NotContains(t, page, "<script")
			require.NotContains(t, page, ssNumber, "addresses are masked")
			require.NotContains(t, page, ssEmail)
			h := rec.Header()
			require.Equal(t, "no-store", h.Get("Cache-Control"))
			require.Contains(t, h.Get("Content-Security-Policy"), "default-src 'none'")
			require.Contains(t, h.Get("Content-Security-Policy"), "frame-ancestors 'none'")
			require.Equal(t, "no-referrer", h.Get("Referrer-Policy"))
			require.Equal(t, tt.lang, h.Get("Content-Language"))
			b.requireUnchanged(t)
		})
	}
}

func TestSelfServiceBadLinks(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		token func(b *ssBundle) string
		code  int
		want  string
	}{
		{name: "expired", token: func(b *ssBundle) string {
			return b.token(func(l *link.Link) { l.Channel, l.ExpiresAt = nudge.Voice, ssT0.Add(-time.Minute) })
		}, code: http.StatusGone, want: "This link has expired"},
		{name: "altered", token: func(b *ssBundle) string {
			tok := b.token()
			c := byte('A')
			if tok[5] == c {
				c = 'B'
			}
			return tok[:5] + string(c) + tok[6:]
		}, code: http.StatusGone, want: "This link has expired"},
		{name: "truncated", token: func(b *ssBundle) string { return b.token()[:20] }, code: http.StatusBadRequest, want: "This link does not work"},
		{name: "a signed link of old", token: func(*ssBundle) string {
			return "eyJwIjoicCIsImwiOiJhY21lIiwiYSI6IkEtMSIsImMiOiJzbXMiLCJkIjoiKzEyMTI1NTUwMTIzIn0.c2lnbmF0dXJl"
		}, code: http.StatusBadRequest, want: "This link does not work"},
		{name: "unsubscribe token", token: func(b *ssBundle) string {
			return b.token(func(l *link.Link) { l.Purpose, l.ExpiresAt = link.Unsubscribe, time.Time{} })
		}, code: http.StatusGone, want: "This link has expired"},
		{name: "unknown", token: func(*ssBundle) string { return link.NewToken() }, code: http.StatusGone, want: "This link has expired"},
		{name: "revoked by erasure", token: func(b *ssBundle) string {
			tok := b.token()
			require.NoError(t, b.db.ErasePersonalData(context.Background(), "acme", "A-1", ssT0))
			return tok
		}, code: http.StatusGone, want: "This link has expired"},
		{name: "garbage", token: func(*ssBundle) string { return "not-a-token" }, code: http.StatusBadRequest, want: "This link does not work"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := ssSetup(t, "en")
			form := b.fresh(t, b.token(), borrower.ActionPaid)
			tok := tt.token(b)
			for _, method := range []string{"GET", "POST"} {
				var f url.Values
				if method == "POST" {
					f = form
				}
				rec := b.do(t, method, tok, f, "")
				require.Equal(t, tt.code, rec.Code, "%s: %s", method, rec.Body.String())
				require.Contains(t, rec.Body.String(), tt.want)
				require.NotContains(t, rec.Body.String(), "412.50", "a bad link shows nothing of the account")
				require.Equal(t, "no-store", rec.Header().Get("Cache-Control"))
			}
			b.requireUnchanged(t)
		})
	}
}

func TestSelfServiceCSRF(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		form func(t *testing.T, b *ssBundle) url.Values
	}{
		{name: "missing", form: func(t *testing.T, b *ssBundle) url.Values {
			f := b.fresh(t, b.token(), borrower.ActionPaid)
			f.Del("csrf")
			return f
		}},
		{name: "wrong", form: func(t *testing.T, b *ssBundle) url.Values {
			f := b.fresh(t, b.token(), borrower.ActionPaid)
			f.Set("csrf", f.Get("csrf")[:len(f.Get("csrf"))-2]+"AA")
			return f
		}},
		{name: "another action's token", form: func(t *testing.T, b *ssBundle) url.Values {
			f := b.fresh(t, b.token(), borrower.ActionStop)
			f.Set("action", borrower.ActionPaid)
			return f
		}},
		{name: "another nonce", form: func(t *testing.T, b *ssBundle) url.Values {
			f := b.fresh(t, b.token(), borrower.ActionPaid)
			f.Set("nonce", strings.Repeat("A", 22))
			return f
		}},
		{name: "another link's form", form: func(t *testing.T, b *ssBundle) url.Values {
			return b.fresh(t, b.token(func(l *link.Link) { l.Channel, l.Address = nudge.Email, ssEmail }), borrower.ActionPaid)
		}},
		{name: "expired form", form: func(t *testing.T, b *ssBundle) url.Values {
			f := b.fresh(t, b.token(), borrower.ActionPaid)
			b.clock.Advance(borrower.DefaultFormTTL + time.Minute)
			return f
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := ssSetup(t, "en")
			rec := b.do(t, "POST", b.token(), tt.form(t, b), "")
			require.Equal(t, http.StatusForbidden, rec.Code, rec.Body.String())
			require.Contains(t, rec.Body.String(), "nothing was changed")
			b.requireUnchanged(t)
		})
	}
}

func TestSelfServicePromise(t *testing.T) {
	t.Parallel()
	b := ssSetup(t, "en")
	ctx := context.Background()
	form := b.fresh(t, b.token(), borrower.ActionPromise)
	form.Set("date", "2026-06-12")
	form.Set("amount", "200")
	rec := b.do(t, "POST", b.token(), form, "")
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	require.Contains(t, rec.Body.String(), "We recorded your promise to pay $200.00 by June 12, 2026")
	require.Contains(t, rec.Body.String(), `role="status"`)
	require.Contains(t, rec.Body.String(), "You promised to pay $200.00 by June 12, 2026.")

	p, err := b.db.ActivePromise(ctx, "acme", "A-1")
	require.NoError(t, err)
	require.Equal(t, nudge.MustDate("2026-06-12"), p.Due)
	require.Equal(t, "200.00", p.Amount, "written with the currency's digits")
	require.Equal(t, "USD", p.Currency)
	require.Equal(t, nudge.SMS, p.Channel)
	b.requirePaused(t, nudge.ReasonPromiseActive)

	rec = b.do(t, "POST", b.token(), form, "")
	require.Equal(t, http.StatusOK, rec.Code, "the same form again is accepted")
	ps, err := b.db.ListPromises(ctx, "acme", "A-1")
	require.NoError(t, err)
	require.Len(t, ps, 1, "and records nothing more")
	reps, err := b.db.ListReplies(ctx, "acme", false)
	require.NoError(t, err)
	require.Len(t, reps, 1)
	require.Equal(t, nudge.IntentPromise, reps[0].Intent)
	require.Equal(t, ssNumber, reps[0].From)
}

func TestSelfServicePromiseValidation(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, date, amount string
		want               string
		ok                 bool
	}{
		{name: "yesterday", date: "2026-05-31", amount: "412.50", want: "Choose a date from June 1, 2026 to July 1, 2026."},
		{name: "beyond the horizon", date: "2026-07-02", amount: "412.50", want: "Choose a date from June 1, 2026 to July 1, 2026."},
		{name: "no date", date: "", amount: "412.50", want: "Enter the date you will pay."},
		{name: "not a date", date: "12/06/2026", amount: "412.50", want: "Enter the date you will pay."},
		{name: "zero", date: "2026-06-12", amount: "0", want: "Enter an amount above zero and no more than $4,125.00."},
		{name: "over ten times", date: "2026-06-12", amount: "4125.01", want: "Enter an amount above zero and no more than $4,125.00."},
		{name: "negative", date: "2026-06-12", amount: "-5", want: "Enter an amount like $412.50."},
		{name: "too many decimals", date: "2026-06-12", amount: "10.125", want: "Enter an amount like $412.50."},
		{name: "words", date: "2026-06-12", amount: "lots", want: "Enter an amount like $412.50."},
		{name: "exponent", date: "2026-06-12", amount: "1e2", want: "Enter an amount like $412.50."},
		{name: "last day and ten times", date: "2026-07-01", amount: "4125.00", ok: true},
		{name: "today with a decimal comma", date: "2026-06-01", amount: "100,50", ok: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := ssSetup(t, "en")
			form := b.fresh(t, b.token(), borrower.ActionPromise)
			form.Set("date", tt.date)
			form.Set("amount", tt.amount)
			rec := b.do(t, "POST", b.token(), form, "")
			if tt.ok {
				require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
				_, err := b.db.ActivePromise(context.Background(), "acme", "A-1")
				require.NoError(t, err)
				return
			}
			require.Equal(t, http.StatusUnprocessableEntity, rec.Code)
			page := rec.Body.String()
			require.Contains(t, page, tt.want)
			require.Contains(t, page, `aria-invalid="true"`)
			require.Contains(t, page, `role="alert"`)
			require.Contains(t, page, `value="`+tt.amount+`"`, "the form keeps what was typed")
			b.requireUnchanged(t)
		})
	}
}

func TestSelfServicePaid(t *testing.T) {
	t.Parallel()
	b := ssSetup(t, "es")
	rec := b.do(t, "POST", b.token(), b.fresh(t, b.token(), borrower.ActionPaid), "")
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	require.Contains(t, rec.Body.String(), "Verificaremos su pago")
	ctx := context.Background()
	a, err := b.db.GetAccount(ctx, "acme", "A-1")
	require.NoError(t, err)
	require.True(t, a.HasHold(nudge.HoldPaymentClaimed))
	b.requirePaused(t, nudge.ReasonPaymentClaimed)
	reps, err := b.db.ListReplies(ctx, "acme", true)
	require.NoError(t, err)
	require.Len(t, reps, 1, "a person reconciles the claimed payment")
	require.Equal(t, nudge.IntentPaid, reps[0].Intent)
}

func TestSelfServiceStop(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		stop   []string
		code   int
		wantOn map[nudge.ChannelKind]bool
	}{
		{name: "the link's channel", stop: []string{"link"}, code: http.StatusOK,
			wantOn: map[nudge.ChannelKind]bool{nudge.SMS: true, nudge.Voice: false, nudge.Email: false}},
		{name: "every channel", stop: []string{"link", "c1", "c2"}, code: http.StatusOK,
			wantOn: map[nudge.ChannelKind]bool{nudge.SMS: true, nudge.Voice: true, nudge.Email: true}},
		{name: "email only", stop: []string{"c2"}, code: http.StatusOK,
			wantOn: map[nudge.ChannelKind]bool{nudge.SMS: false, nudge.Voice: false, nudge.Email: true}},
		{name: "nothing chosen", code: http.StatusUnprocessableEntity,
			wantOn: map[nudge.ChannelKind]bool{nudge.SMS: false, nudge.Voice: false, nudge.Email: false}},
		{name: "an unknown choice", stop: []string{"c9"}, code: http.StatusUnprocessableEntity,
			wantOn: map[nudge.ChannelKind]bool{nudge.SMS: false, nudge.Voice: false, nudge.Email: false}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := ssSetup(t, "en")
			form := b.fresh(t, b.token(), borrower.ActionStop)
			form["stop"] = tt.stop
			rec := b.do(t, "POST", b.token(), form, "")
			require.Equal(t, tt.code, rec.Code, rec.Body.String())
			ctx := context.Background()
			for ch, want := range tt.wantOn {
				addr := ssNumber
				if ch == nudge.Email {
					addr = ssEmail
				}
				got, err := b.db.IsOptedOut(ctx, "acme", ch, addr)
				require.NoError(t, err)
				require.Equal(t, want, got, "%s opted out", ch)
			}
			if tt.code != http.StatusOK {
				require.Contains(t, rec.Body.String(), "Choose at least one way to stop.")
				b.requireUnchanged(t)
				return
			}
			require.Contains(t, rec.Body.String(), "We will no longer contact you this way.")
			require.Contains(t, rec.Body.String(), "(stopped)")
			oos, err := b.db.ListOptOuts(ctx, "acme")
			require.NoError(t, err)
			for _, o := range oos {
				require.Equal(t, response.SourceWeb, o.Source)
			}
		})
	}
}

func TestSelfServiceClosedAccount(t *testing.T) {
	t.Parallel()
	b := ssSetup(t, "en")
	ctx := context.Background()
	form := b.fresh(t, b.token(), borrower.ActionPromise)
	require.NoError(t, b.db.SetAccountStatus(ctx, "acme", "A-1", nudge.StatusPaid, ssT0))
	rec := b.do(t, "GET", b.token(), nil, "")
	require.Equal(t, http.StatusOK, rec.Code)
	require.Contains(t, rec.Body.String(), "There is nothing to pay on this account right now.")
	require.NotContains(t, rec.Body.String(), `id="promise-form"`)
	require.Contains(t, rec.Body.String(), `id="stop-form"`, "stopping reminders always works")

	form.Set("date", "2026-06-12")
	form.Set("amount", "100")
	rec = b.do(t, "POST", b.token(), form, "")
	require.Equal(t, http.StatusConflict, rec.Code)
	ps, err := b.db.ListPromises(ctx, "acme", "A-1")
	require.NoError(t, err)
	require.Empty(t, ps)
}
