package ops_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/nudgehq/nudge"
	"github.com/nudgehq/nudge/store"
	"github.com/nudgehq/nudge/web"
	"github.com/nudgehq/nudge/web/internal/webtest"
	"github.com/nudgehq/nudge/web/ops"
)

// opsT0 is "now" for the dashboard tests: a Monday afternoon, UTC.
var opsT0 = time.Date(2026, 6, 15, 15, 0, 0, 0, time.UTC)

// opsSuppressedAccount has a reminder suppressed because its number opted out.
const opsSuppressedAccount = "A-SUPP"

// opsBundle is a dashboard over a SQLite store seeded with a demo-sized
// data set and a Redis holding a few queued tasks.
type opsBundle struct {
	db     *store.DB
	rdb    redis.UniversalClient
	clock  *nudge.FixedClock
	srv    *httptest.Server
	keys   map[nudge.Role]string
	keyIDs map[nudge.Role]string
	// platform are platform keys (admin and viewer) by role.
	platform map[nudge.Role]string
	// taskIDs are the queued tasks on the sms queue.
	taskIDs []string
}

type opsOption func(*ops.OpsConfig)

func opsSetup(t *testing.T, opts ...opsOption) *opsBundle {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, "sqlite://"+filepath.Join(t.TempDir(), "nudge.db"))
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close() })
	require.NoError(t, db.Migrate(ctx))
	b := &opsBundle{db: db, rdb: webtest.Redis(t), clock: nudge.NewFixedClock(opsT0),
		keys: map[nudge.Role]string{}, keyIDs: map[nudge.Role]string{}, platform: map[nudge.Role]string{}}
	for _, l := range []string{"acme", "beta"} {
		require.NoError(t, db.UpsertLender(ctx, nudge.Lender{ID: l, Name: strings.ToUpper(l[:1]) + l[1:] + " Auto", CreatedAt: opsT0}))
	}
	for _, role := range []nudge.Role{nudge.RoleAdmin, nudge.RoleOperator, nudge.RoleViewer} {
		token, key, err := web.NewAPIKey("acme", role, opsT0)
		require.NoError(t, err)
		require.NoError(t, db.CreateAPIKey(ctx, key))
		b.keys[role], b.keyIDs[role] = token, key.ID
	}
	for _, role := range []nudge.Role{nudge.RoleAdmin, nudge.RoleViewer} {
		token, key, err := web.NewAPIKey(nudge.PlatformLender, role, opsT0)
		require.NoError(t, err)
		require.NoError(t, db.CreateAPIKey(ctx, key))
		b.platform[role] = token
	}
	opsSeed(t, db, "acme", 120)
	opsSeed(t, db, "beta", 10)
	b.taskIDs = webtest.QueueTasks(t, b.rdb, 5)

	cfg := ops.OpsConfig{Store: db, Secret: []byte(strings.Repeat("s", 32)), Redis: b.rdb, Clock: b.clock}
	for _, o := range opts {
		o(&cfg)
	}
	ops, err := ops.NewOps(cfg)
	require.NoError(t, err)
	// The dashboard tests log in many times from one address; the per-address
	// limit has its own tests (limits_test.go).
	srv := web.NewServer(nil, nil, web.WithLimits(web.Limits{Unauthenticated: web.RateLimit{Off: true}}))
	ops.Register(srv)
	b.srv = httptest.NewServer(srv)
	t.Cleanup(b.srv.Close)
	return b
}

// opsSeed writes a demo-sized history for lender: accounts, reminders of
// three cadence steps over the last three weeks, attempts in every common
// status, decisions (sends, suppressions and deferrals with reasons and
// rules), replies, promises, payments and opt-outs; and one account whose
// reminder was suppressed because the borrower opted out.
func opsSeed(t *testing.T, db *store.DB, lender string, accounts int) {
	t.Helper()
	ctx := context.Background()
	var accts []nudge.Account
	for i := range accounts {
		accts = append(accts, opsAccount(lender, fmt.Sprintf("A-%03d", i), fmt.Sprintf("+1512555%04d", i)))
	}
	accts = append(accts, opsAccount(lender, opsSuppressedAccount, "+15125559999"))
	require.NoError(t, db.UpsertAccounts(ctx, accts, opsT0.Add(-30*24*time.Hour)))

	steps := []struct {
		id      string
		channel nudge.ChannelKind
		day     int
	}{{"predue-sms", nudge.SMS, -18}, {"due-email", nudge.Email, -10}, {"late-voice", nudge.Voice, 0}}
	statuses := map[nudge.ChannelKind][]nudge.AttemptStatus{
		nudge.SMS:   {nudge.AttemptDelivered, nudge.AttemptDelivered, nudge.AttemptDelivered, nudge.AttemptSent, nudge.AttemptUndelivered, nudge.AttemptFailed},
		nudge.Email: {nudge.AttemptDelivered, nudge.AttemptSent, nudge.AttemptDelivered, nudge.AttemptFailed},
		nudge.Voice: {nudge.AttemptCompleted, nudge.AttemptNoAnswer, nudge.AttemptBusy, nudge.AttemptCompleted, nudge.AttemptFailed},
	}
	suppressReasons := []struct {
		reason nudge.Reason
		rule   string
	}{
		{nudge.ReasonOptedOut, "TCPA 47 CFR 64.1200"}, {nudge.ReasonHold, "lender hold"},
		{nudge.ReasonCallCap, "12 CFR 1006.14(b)(2)(i)"}, {nudge.ReasonPromiseActive, "promise pause"},
	}
	deferReasons := []nudge.Reason{nudge.ReasonQuietHours, nudge.ReasonBlackout}
	var rs []nudge.Reminder
	for i, a := range accts[:accounts] {
		for _, s := range steps {
			due := opsT0.Add(time.Duration(s.day)*24*time.Hour - time.Duration(i%5)*time.Hour)
			rs = append(rs, nudge.Reminder{Key: nudge.ReminderKey{Lender: lender, AccountID: a.ID, Cadence: "standard", Step: s.id,
				Cycle: nudge.MustDate("2026-06-15")}, Channel: s.channel, DueAt: due, CreatedAt: due.Add(-time.Hour)})
		}
	}
	inserted, err := db.InsertReminders(ctx, rs)
	require.NoError(t, err)
	for i, r := range inserted {
		at := r.DueAt
		ev := func(e nudge.Event) {
			e.Lender, e.AccountID, e.ReminderID = lender, r.Key.AccountID, r.ID
			if e.At.IsZero() {
				e.At = at
			}
			require.NoError(t, db.AppendEvent(ctx, e))
		}
		switch {
		case i%9 == 4: // suppressed
			sr := suppressReasons[i%len(suppressReasons)]
			detail, _ := json.Marshal(map[string]any{"action": "suppress", "reason": sr.reason, "rule": sr.rule,
				"explanation": "Not sent: " + string(sr.reason) + "."})
			ev(nudge.Event{Kind: nudge.EventDecision, Action: "suppress", Reason: sr.reason, Rule: sr.rule, Detail: detail})
			require.NoError(t, db.SetReminderStatus(ctx, r.ID, nudge.ReminderSuppressed, sr.reason, at, at))
			continue
		case i%7 == 3: // deferred, then sent
			dr := deferReasons[i%len(deferReasons)]
			detail, _ := json.Marshal(map[string]any{"action": "defer", "reason": dr, "until": at.Add(2 * time.Hour)})
			ev(nudge.Event{Kind: nudge.EventDecision, Action: "defer", Reason: dr, Rule: "calling hours 8am-9pm", Detail: detail})
			at = at.Add(2 * time.Hour)
		}
		ev(nudge.Event{Kind: nudge.EventDecision, Action: "send", At: at})
		sts := statuses[r.Channel]
		st := sts[i%len(sts)]
		a, err := db.ClaimAttempt(ctx, nudge.Attempt{ReminderID: r.ID, Lender: lender, AccountID: r.Key.AccountID, Channel: r.Channel,
			Address: "+15125550000", Status: st, CreatedAt: at, SentAt: at}, nil)
		require.NoError(t, err)
		detail, _ := json.Marshal(map[string]any{"status": st, "channel": r.Channel})
		ev(nudge.Event{Kind: nudge.EventAttempt, AttemptID: a.ID, At: at, Detail: detail})
		require.NoError(t, db.SetReminderStatus(ctx, r.ID, nudge.ReminderSent, "", at, at))
		if i%6 == 0 && (st == nudge.AttemptDelivered || st == nudge.AttemptCompleted) {
			replyAt := at.Add(3 * time.Hour)
			intent, needs := nudge.IntentPromise, false
			if i%12 == 0 {
				intent, needs = nudge.IntentUnknown, true
			}
			_, err := db.InsertReply(ctx, nudge.Reply{Lender: lender, AccountID: r.Key.AccountID, Channel: nudge.SMS,
				From: "+15125550000", Body: fmt.Sprintf("reply %d", i), Intent: intent, NeedsPerson: needs, CreatedAt: replyAt})
			require.NoError(t, err)
			if intent == nudge.IntentPromise {
				status := []nudge.PromiseStatus{nudge.PromiseKept, nudge.PromiseBroken, nudge.PromisePending}[i%3]
				require.NoError(t, db.InsertPromise(ctx, nudge.Promise{Lender: lender, AccountID: r.Key.AccountID, Amount: "100.00",
					Currency: "USD", Due: nudge.DateOf(replyAt.Add(72 * time.Hour)), Status: status, CreatedAt: replyAt}))
				if status == nudge.PromiseKept {
					ev(nudge.Event{Kind: nudge.EventPayment, Reason: nudge.ReasonCycleEnded, At: replyAt.Add(24 * time.Hour)})
				}
			}
		}
	}
	for i := range accounts / 10 {
		_, err := db.AddOptOut(ctx, nudge.OptOut{Lender: lender, Channel: nudge.SMS, Address: fmt.Sprintf("+1512555%04d", i),
			Source: []string{"sms_keyword", "email_link", "api"}[i%3], CreatedAt: opsT0.Add(-time.Duration(i) * 24 * time.Hour)})
		require.NoError(t, err)
	}

	// The suppressed account: opted out by STOP, then its reminder was suppressed.
	_, err = db.AddOptOut(ctx, nudge.OptOut{Lender: lender, Channel: nudge.SMS, Address: "+15125559999", Source: "sms_keyword", CreatedAt: opsT0.Add(-48 * time.Hour)})
	require.NoError(t, err)
	supp, err := db.InsertReminders(ctx, []nudge.Reminder{{Key: nudge.ReminderKey{Lender: lender, AccountID: opsSuppressedAccount,
		Cadence: "standard", Step: "late-sms", Cycle: nudge.MustDate("2026-06-15")}, Channel: nudge.SMS,
		DueAt: opsT0.Add(-time.Hour), CreatedAt: opsT0.Add(-26 * time.Hour)}})
	require.NoError(t, err)
	require.Len(t, supp, 1)
	detail, _ := json.Marshal(map[string]any{"action": "suppress", "reason": nudge.ReasonOptedOut,
		"explanation": "The borrower texted STOP from this number; it may not be texted again.", "zones": []string{"America/Chicago"}})
	require.NoError(t, db.AppendEvent(ctx, nudge.Event{Lender: lender, AccountID: opsSuppressedAccount, ReminderID: supp[0].ID,
		Kind: nudge.EventDecision, Action: "suppress", Reason: nudge.ReasonOptedOut, Rule: "TCPA 47 CFR 64.1200", Detail: detail, At: opsT0.Add(-time.Hour)}))
	require.NoError(t, db.SetReminderStatus(ctx, supp[0].ID, nudge.ReminderSuppressed, nudge.ReasonOptedOut, time.Time{}, opsT0.Add(-time.Hour)))
}

func opsAccount(lender, id, phone string) nudge.Account {
	return nudge.Account{ID: id, Lender: lender, Borrower: nudge.Borrower{Name: "Borrower " + id, Timezone: "America/Chicago"},
		Address: &nudge.Address{Country: "US", Region: "TX"},
		Contacts: []nudge.Contact{{Channel: nudge.SMS, Address: phone, Consent: true}, {Channel: nudge.Voice, Address: phone, Consent: true},
			{Channel: nudge.Email, Address: strings.ToLower(id) + "@example.com"}},
		Currency: "USD", AmountDue: "412.50", DueDate: nudge.MustDate("2026-06-15"), Status: nudge.StatusActive, Holds: []nudge.Hold{}}
}

// opsClient is a browser-like client: a cookie jar, no redirect following.
type opsClient struct {
	t    *testing.T
	base string
	c    *http.Client
}

func (b *opsBundle) client(t *testing.T) *opsClient {
	jar, err := cookiejar.New(nil)
	require.NoError(t, err)
	return &opsClient{t: t, base: b.srv.URL, c: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}}
}

func (c *opsClient) do(method, path string, form url.Values, header map[string]string) (*http.Response, string) {
	c.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, c.base+path, body)
	require.NoError(c.t, err)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := c.c.Do(req)
	require.NoError(c.t, err)
	b, err := io.ReadAll(resp.Body)
	require.NoError(c.t, err)
	require.NoError(c.t, resp.Body.Close())
	return resp, string(b)
}

var opsCSRFPattern = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func opsCSRF(t *testing.T, html string) string {
	t.Helper()
	m := opsCSRFPattern.FindStringSubmatch(html)
	require.NotNil(t, m, "the page has a CSRF field")
	return m[1]
}

// login logs in with token and returns the login response.
func (c *opsClient) login(token string) *http.Response {
	c.t.Helper()
	_, page := c.do(http.MethodGet, "/ops/login", nil, nil)
	resp, _ := c.do(http.MethodPost, "/ops/login", url.Values{"key": {token}, "csrf": {opsCSRF(c.t, page)}, "next": {"/ops/"}}, nil)
	return resp
}

func TestOpsLogin(t *testing.T) {
	t.Parallel()
	b := opsSetup(t, func(c *ops.OpsConfig) { c.PublicURL = "https://nudge.example.com" })

	t.Run("pages redirect to the login form", func(t *testing.T) {
		t.Parallel()
		resp, _ := b.client(t).do(http.MethodGet, "/ops/funnel?from=2026-06-01", nil, nil)
		require.Equal(t, http.StatusSeeOther, resp.StatusCode)
		require.Equal(t, "/ops/login?next="+url.QueryEscape("/ops/funnel?from=2026-06-01"), resp.Header.Get("Location"))
	})
	tests := []struct {
		name   string
		key    string
		csrf   func(page string) string
		status int
		msg    string
	}{
		{name: "unknown key", key: "nudge_abc_def", status: http.StatusUnauthorized, msg: "not valid"},
		{name: "malformed key", key: "hello", status: http.StatusUnauthorized, msg: "not valid"},
		{name: "right id wrong secret", key: "nudge_" + b.keyIDs[nudge.RoleAdmin] + "_wrong", status: http.StatusUnauthorized, msg: "not valid"},
		{name: "missing csrf", key: b.keys[nudge.RoleAdmin], csrf: func(string) string { return "" }, status: http.StatusForbidden, msg: "expired"},
		{name: "forged csrf", key: b.keys[nudge.RoleAdmin], csrf: func(string) string { return "AAAA" }, status: http.StatusForbidden, msg: "expired"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := b.client(t)
			_, page := c.do(http.MethodGet, "/ops/login", nil, nil)
			csrf := opsCSRF(t, page)
			if tc.csrf != nil {
				csrf = tc.csrf(page)
			}
			resp, body := c.do(http.MethodPost, "/ops/login", url.Values{"key": {tc.key}, "csrf": {csrf}}, nil)
			require.Equal(t, tc.status, resp.StatusCode)
			require.Contains(t, body, tc.msg)
			for _, ck := range resp.Cookies() {
				require.NotEqual(t, ops.OpsSessionCookie, ck.Name, "no session on a failed login")
			}
		})
	}
	t.Run("a valid key gets a secure session cookie", func(t *testing.T) {
		t.Parallel()
		c := b.client(t)
		resp := c.login(b.keys[nudge.RoleViewer])
		require.Equal(t, http.StatusSeeOther, resp.StatusCode)
		require.Equal(t, "/ops/", resp.Header.Get("Location"))
		var session *http.Cookie
		for _, ck := range resp.Cookies() {
			if ck.Name == ops.OpsSessionCookie {
				session = ck
			}
		}
		require.NotNil(t, session)
		require.True(t, session.HttpOnly)
		require.True(t, session.Secure, "PublicURL is https")
		require.Equal(t, http.SameSiteStrictMode, session.SameSite)
		require.Equal(t, "/ops", session.Path)
		require.NotContains(t, session.Value, strings.Split(b.keys[nudge.RoleViewer], "_")[2], "the cookie never holds the secret")
	})
	t.Run("next may not leave the dashboard", func(t *testing.T) {
		t.Parallel()
		c := b.client(t)
		_, page := c.do(http.MethodGet, "/ops/login", nil, nil)
		resp, _ := c.do(http.MethodPost, "/ops/login", url.Values{"key": {b.keys[nudge.RoleAdmin]}, "csrf": {opsCSRF(t, page)},
			"next": {"//evil.example/ops/"}}, nil)
		require.Equal(t, "/ops/", resp.Header.Get("Location"))
	})
}

func TestOpsSessionLifetime(t *testing.T) {
	t.Parallel()
	b := opsSetup(t)
	c := b.client(t)
	require.Equal(t, http.StatusSeeOther, c.login(b.keys[nudge.RoleOperator]).StatusCode)
	resp, _ := c.do(http.MethodGet, "/ops/replies", nil, nil)
	require.Equal(t, http.StatusOK, resp.StatusCode)

	t.Run("a tampered cookie is refused", func(t *testing.T) {
		jar, _ := cookiejar.New(nil)
		u, _ := url.Parse(b.srv.URL + "/ops/")
		for _, ck := range c.c.Jar.Cookies(u) {
			if ck.Name == ops.OpsSessionCookie {
				body, sig, _ := strings.Cut(ck.Value, ".")
				jar.SetCookies(u, []*http.Cookie{{Name: ck.Name, Value: body + "x." + sig, Path: "/ops"}})
			}
		}
		forged := &opsClient{t: t, base: b.srv.URL, c: &http.Client{Jar: jar, CheckRedirect: c.c.CheckRedirect}}
		resp, _ := forged.do(http.MethodGet, "/ops/replies", nil, nil)
		require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	})

	t.Run("logout needs the CSRF token", func(t *testing.T) {
		resp, _ := c.do(http.MethodPost, "/ops/logout", url.Values{"csrf": {"nope"}}, nil)
		require.Equal(t, http.StatusForbidden, resp.StatusCode)
	})

	b.clock.Advance(ops.DefaultOpsSessionTTL + time.Second)
	resp, _ = c.do(http.MethodGet, "/ops/replies", nil, nil)
	require.Equal(t, http.StatusSeeOther, resp.StatusCode, "the session expired")
}

func TestOpsRevokedKeyLosesSession(t *testing.T) {
	t.Parallel()
	b := opsSetup(t)
	c := b.client(t)
	require.Equal(t, http.StatusSeeOther, c.login(b.keys[nudge.RoleAdmin]).StatusCode)
	require.NoError(t, b.db.RevokeAPIKey(context.Background(), "acme", b.keyIDs[nudge.RoleAdmin], opsT0))
	resp, _ := c.do(http.MethodGet, "/ops/", nil, nil)
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
}

func TestOpsLogout(t *testing.T) {
	t.Parallel()
	b := opsSetup(t)
	c := b.client(t)
	require.Equal(t, http.StatusSeeOther, c.login(b.keys[nudge.RoleViewer]).StatusCode)
	_, page := c.do(http.MethodGet, "/ops/", nil, nil)
	resp, _ := c.do(http.MethodPost, "/ops/logout", url.Values{"csrf": {opsCSRF(t, page)}}, nil)
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	require.Equal(t, "/ops/login", resp.Header.Get("Location"))
	resp, _ = c.do(http.MethodGet, "/ops/", nil, nil)
	require.Equal(t, http.StatusSeeOther, resp.StatusCode, "logged out")
}

// TestOpsPagesEveryRole opens every page with a key of every role.
func TestOpsPagesEveryRole(t *testing.T) {
	t.Parallel()
	b := opsSetup(t)
	pages := []struct {
		name string
		path string
		want []string
	}{
		{"overview", "/ops/?range=30d", []string{`id="chart-sends"`, `id="chart-time"`, `id="chart-decisions"`, "<svg", "opted_out", "quiet_hours",
			"sms_keyword", `<td>sms</td><td>5</td>`, "Delivery rate"}},
		{"overview with a range", "/ops/?lender=acme&from=2026-06-14&to=2026-06-15", []string{"2026-06-14 – 2026-06-15", "<svg"}},
		{"funnel", "/ops/funnel?range=30d", []string{`id="chart-funnel"`, "<svg", "standard", "predue-sms", "due-email", "late-voice"}},
		{"kpis", "/ops/kpis?range=30d", []string{`id="chart-kpi-rates"`, `id="chart-kpi-cycles"`, "<svg", `id="kpis"`, "Right-party contact rate", "Cure rate"}},
		{"kpis by step", "/ops/kpis?range=30d&by=step", []string{`aria-current="page">Step</a>`, "predue-sms", "due-email", "late-voice"}},
		{"account lookup", "/ops/accounts", []string{`id="account-id"`}},
		{"account timeline", "/ops/accounts/" + opsSuppressedAccount, []string{"suppressed", "opted_out", "TCPA 47 CFR 64.1200",
			"The borrower texted STOP from this number", "this borrower contacted?"}},
		// The lists over dates around the seeded data (a tab's range ends now,
		// and the seed writes some replies and promises after it).
		{"replies", "/ops/replies?from=2026-05-01&to=2026-06-30", []string{"reply 0", "Not understood: read it and decide", "/ops/accounts/A-000"}},
		{"failed attempts", "/ops/attempts?status=failed,undelivered&from=2026-05-01&to=2026-06-30", []string{`id="list"`, "/ops/accounts/A-", "undelivered"}},
		{"deferred", "/ops/deferred?from=2026-05-01&to=2026-06-30", []string{`id="list"`, "quiet_hours", "calling hours 8am-9pm"}},
		{"suppressed", "/ops/suppressed?from=2026-05-01&to=2026-06-30", []string{`id="list"`, "TCPA 47 CFR 64.1200"}},
		{"opt-outs", "/ops/optouts?from=2026-05-01&to=2026-06-30", []string{`id="list"`, "sms_keyword", "/ops/accounts/A-SUPP"}},
		{"promises", "/ops/promises?status=kept&from=2026-05-01&to=2026-06-30", []string{`id="list"`, "100.00 USD", "kept"}},
		{"every reply", "/ops/replies?view=all&from=2026-05-01&to=2026-06-30", []string{"Promised to pay", "Not understood: read it and decide"}},
	}
	for _, role := range []nudge.Role{nudge.RoleAdmin, nudge.RoleOperator, nudge.RoleViewer} {
		c := b.client(t)
		require.Equal(t, http.StatusSeeOther, c.login(b.keys[role]).StatusCode)
		for _, p := range pages {
			t.Run(string(role)+"/"+p.name, func(t *testing.T) {
				resp, body := c.do(http.MethodGet, p.path, nil, nil)
				require.Equal(t, http.StatusOK, resp.StatusCode, body)
				require.Equal(t, "text/html; charset=utf-8", resp.Header.Get("Content-Type"))
				require.Contains(t, body, "key "+b.keyIDs[role]+" · "+string(role))
				for _, w := range p.want {
					require.Contains(t, body, w)
				}
				require.NotContains(t, body, "Beta Auto", "never another lender's data")
			})
		}
		t.Run(string(role)+"/queue", func(t *testing.T) {
			resp, body := c.do(http.MethodGet, "/ops/queue", nil, nil)
			require.Equal(t, http.StatusOK, resp.StatusCode, body)
			require.Contains(t, body, `id="queue-counts"`)
			require.NotContains(t, body, "Beta Auto")
			require.NotContains(t, body, `href="/ops/queues/"`, "the shared monitor is not offered to a lender's key")
		})
	}
	for _, role := range []nudge.Role{nudge.RoleAdmin, nudge.RoleViewer} {
		c := b.client(t)
		require.Equal(t, http.StatusSeeOther, c.login(b.platform[role]).StatusCode)
		t.Run("platform "+string(role)+"/queues", func(t *testing.T) {
			resp, body := c.do(http.MethodGet, "/ops/queues/", nil, nil)
			require.Equal(t, http.StatusOK, resp.StatusCode)
			require.Contains(t, body, `window.FLAG_READ_ONLY="`+fmt.Sprint(role != nudge.RoleAdmin)+`"`)
			require.Contains(t, body, `/ops/queues/static/js/`)
			require.NotContains(t, body, "googleapis", "nothing from a CDN")
			require.Contains(t, body, `href="/ops/static/fonts/fonts.css"`)
			resp, body = c.do(http.MethodGet, "/ops/queues/api/queues/sms/pending_tasks", nil, nil)
			require.Equal(t, http.StatusOK, resp.StatusCode)
			require.Contains(t, body, b.taskIDs[0])
		})
	}
}

func TestOpsQueueMonitorIsForPlatformKeys(t *testing.T) {
	t.Parallel()
	b := opsSetup(t)
	insp := asynq.NewInspectorFromRedisClient(b.rdb)
	path := "/ops/queues/api/queues/sms/pending_tasks/" + b.taskIDs[0]
	origin := map[string]string{"Origin": b.srv.URL}
	tests := []struct {
		name    string
		key     string
		header  map[string]string
		status  int
		deleted bool
	}{
		{"lender viewer", b.keys[nudge.RoleViewer], origin, http.StatusForbidden, false},
		{"lender operator", b.keys[nudge.RoleOperator], origin, http.StatusForbidden, false},
		{"lender admin", b.keys[nudge.RoleAdmin], origin, http.StatusForbidden, false},
		{"platform viewer", b.platform[nudge.RoleViewer], origin, http.StatusForbidden, false},
		{"platform admin from another site", b.platform[nudge.RoleAdmin], map[string]string{"Origin": "https://evil.example"}, http.StatusForbidden, false},
		{"platform admin without origin", b.platform[nudge.RoleAdmin], nil, http.StatusForbidden, false},
		{"platform admin", b.platform[nudge.RoleAdmin], origin, http.StatusNoContent, true},
	}
	for _, tc := range tests {
		c := b.client(t)
		require.Equal(t, http.StatusSeeOther, c.login(tc.key).StatusCode)
		resp, body := c.do(http.MethodDelete, path, nil, tc.header)
		require.Equal(t, tc.status, resp.StatusCode, "%s: %s", tc.name, body)
		_, err := insp.GetTaskInfo("sms", b.taskIDs[0])
		if tc.deleted {
			require.ErrorIs(t, err, asynq.ErrTaskNotFound, tc.name)
		} else {
			require.NoError(t, err, "%s: the task is still queued", tc.name)
		}
	}
	audit, err := b.db.ListAudit(context.Background(), nudge.PlatformLender)
	require.NoError(t, err)
	require.Len(t, audit, 1, "the platform admin's change is in the audit log")
	require.Equal(t, "queue_monitor.delete", audit[0].Action)

	for _, key := range []string{b.keys[nudge.RoleAdmin], b.keys[nudge.RoleViewer]} {
		c := b.client(t)
		require.Equal(t, http.StatusSeeOther, c.login(key).StatusCode)
		for _, p := range []string{"/ops/queues/", "/ops/queues/api/queues"} {
			resp, body := c.do(http.MethodGet, p, nil, nil)
			require.Equal(t, http.StatusForbidden, resp.StatusCode, "a lender's key never sees the shared queues: %s", p)
			require.Contains(t, body, "/ops/queue")
		}
	}
	c := b.client(t)
	require.Equal(t, http.StatusSeeOther, c.login(b.platform[nudge.RoleViewer]).StatusCode)
	resp, _ := c.do(http.MethodGet, "/ops/queues/api/queues", nil, nil)
	require.Equal(t, http.StatusOK, resp.StatusCode, "a platform viewer reads the monitor")

	resp, _ = b.client(t).do(http.MethodDelete, path, nil, origin)
	require.Equal(t, http.StatusUnauthorized, resp.StatusCode, "no session")
	resp, _ = b.client(t).do(http.MethodGet, "/ops/queues/api/queues", nil, nil)
	require.Equal(t, http.StatusUnauthorized, resp.StatusCode, "the monitor's API needs a session")
}

func TestOpsTenantScope(t *testing.T) {
	t.Parallel()
	b := opsSetup(t)
	c := b.client(t)
	require.Equal(t, http.StatusSeeOther, c.login(b.keys[nudge.RoleAdmin]).StatusCode)
	tests := []struct {
		name   string
		path   string
		status int
		msg    string
	}{
		{"another lender's overview", "/ops/?lender=beta", http.StatusForbidden, "cannot see lender beta"},
		{"another lender's funnel", "/ops/funnel?lender=beta", http.StatusForbidden, "cannot see lender beta"},
		{"another lender's kpis", "/ops/kpis?lender=beta", http.StatusForbidden, "cannot see lender beta"},
		{"kpis by an unknown dimension", "/ops/kpis?by=colour", http.StatusBadRequest, "unknown dimension"},
		{"an unknown account", "/ops/accounts/NOPE", http.StatusNotFound, "no account"},
		{"from after to", "/ops/?from=2026-06-10&to=2026-06-01", http.StatusBadRequest, "is after"},
		{"not a date", "/ops/funnel?from=yesterday", http.StatusBadRequest, "from:"},
		{"too long a range", "/ops/?from=2024-01-01&to=2026-06-01", http.StatusBadRequest, "longer than"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := c.do(http.MethodGet, tc.path, nil, nil)
			require.Equal(t, tc.status, resp.StatusCode)
			require.Contains(t, body, tc.msg)
		})
	}
	t.Run("lookup redirects to the timeline", func(t *testing.T) {
		resp, _ := c.do(http.MethodGet, "/ops/accounts?id=A-001", nil, nil)
		require.Equal(t, http.StatusSeeOther, resp.StatusCode)
		require.Equal(t, "/ops/accounts/A-001", resp.Header.Get("Location"))
	})
	t.Run("static assets are served from the binary", func(t *testing.T) {
		resp, body := c.do(http.MethodGet, "/ops/static/ops.css", nil, nil)
		require.Equal(t, http.StatusOK, resp.StatusCode)
		require.Contains(t, body, ".timeline")
	})
}

func TestNewOpsValidates(t *testing.T) {
	t.Parallel()
	_, err := ops.NewOps(ops.OpsConfig{Secret: []byte(strings.Repeat("s", 32))})
	require.ErrorContains(t, err, "missing store")
	_, err = ops.NewOps(ops.OpsConfig{Store: &store.DB{}, Secret: []byte("short")})
	require.ErrorContains(t, err, "at least 32 bytes")
}
