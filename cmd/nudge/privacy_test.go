package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	netmail "net/mail"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/nudgehq/nudge"
	"github.com/nudgehq/nudge/channels/smtpsink"
	"github.com/nudgehq/nudge/channels/twilio"
	"github.com/nudgehq/nudge/channels/twiliosim"
	"github.com/nudgehq/nudge/link"
	"github.com/nudgehq/nudge/logmask"
	"github.com/nudgehq/nudge/web"
	"github.com/nudgehq/nudge/web/borrower"
)

// privacyCadence texts, calls and emails every account on its due date.
const privacyCadence = `name: privacy-due
profile: us
applies_to:
  days_past_due: {min: -5, max: 30}
steps:
  - {id: due-sms, day: 0, at: "00:00", channel: sms, template: due_sms}
  - {id: due-voice, day: 0, at: "00:00", channel: voice, template: late_voice}
  - {id: due-email, day: 0, at: "00:00", channel: email, template: due_email}
`

// privacyBehaviours are the simulated borrowers' answers, one per account.
var privacyBehaviours = []twiliosim.Behaviour{
	twiliosim.BehaviourSilent, twiliosim.BehaviourPromise, twiliosim.BehaviourStop,
	twiliosim.BehaviourPaid, twiliosim.BehaviourWrongNumber, twiliosim.BehaviourSilent,
}

// lockedBuffer is a bytes.Buffer the logger may write to from any goroutine.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// privacyLink matches a borrower's self-service link in a text.
var privacyLink = regexp.MustCompile(`https?://[^\s"<>]+/p/[A-Za-z0-9_-]+`)

// TestE2ENoPersonalDataInLogs runs the api, scheduler and worker roles in
// one process, as nudge serve does, over twiliosim and an SMTP sink with
// the log at debug. It drives every path that handles a borrower's number
// or email: texts and the replies to them, calls and keypad answers,
// emails, the self-service page, one-click unsubscribe, a forged and an
// unknown call webhook, erasure and a revoked link. Then it reads the whole
// log for every imported number and email in every common encoding, and
// every SMS and link for the account ids as well.
func TestE2ENoPersonalDataInLogs(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("runs the whole product for several seconds")
	}
	ctx := context.Background()
	zone, today := e2eZone(time.Now())
	dir := t.TempDir()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	publicURL := "http://" + ln.Addr().String()

	sim := twiliosim.New(twiliosim.Config{AccountSID: e2eAccountSID, AuthToken: e2eAuthToken, Speed: 50,
		InboundURL: publicURL + twilio.InboundPath})
	require.NoError(t, sim.Start("127.0.0.1:0"))
	t.Cleanup(func() { require.NoError(t, sim.Close()) })
	sink, err := smtpsink.Start("127.0.0.1:0", smtpsink.Options{})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, sink.Close()) })
	mr := miniredis.NewMiniRedis()
	require.NoError(t, mr.Start())
	t.Cleanup(mr.Close)
	t.Cleanup(fastForward(mr))
	rdb := redis.NewClient(&redis.Options{Addr: mr.Addr()})
	t.Cleanup(func() { _ = rdb.Close() })

	cfg := Config{
		Database: e2eDatabase(t, dir), Addr: ln.Addr().String(), PublicURL: publicURL,
		Secret:    "privacy-test-secret-0123456789abcdef",
		Lenders:   []LenderConfig{{ID: e2eLender, Name: "E2E Auto Finance", Language: "en", Timezone: "America/New_York", HelpPhone: "+18005550100", AgentPhone: "+18005550101", VoicemailCallerName: "Sam Rivera"}},
		Scheduler: SchedulerConfig{Spec: "@every 1s"},
		Reconcile: ReconcileConfig{Every: 2 * time.Second, Settle: time.Minute},
		Worker:    WorkerConfig{Concurrency: 4, ShutdownTimeout: 2 * time.Second},
		Twilio:    TwilioConfig{AccountSID: e2eAccountSID, AuthToken: e2eAuthToken, From: e2eFrom, BaseURL: sim.URL(), Timeout: 5 * time.Second},
		SMTP:      SMTPConfig{Host: sink.Host(), Port: sink.Port(), From: "reminders@e2e.example", TLS: "none"},
		Log:       LogConfig{Level: "debug", Format: "json"},
	}.WithDefaults()
	logs := &lockedBuffer{}
	a := &app{stdout: io.Discard, stderr: logs}
	rt, err := a.newRuntime(ctx, cfg, runtimeOptions{rdb: rdb,
		cadences: map[string][]cadenceSource{e2eLender: {{name: "privacy.yaml", data: []byte(privacyCadence)}}}})
	require.NoError(t, err)
	t.Cleanup(rt.Close)

	// The imported borrowers: each with a number (texts and calls), an
	// email, a name, and a behaviour of their own.
	now := time.Now().UTC()
	accts := make([]nudge.Account, len(privacyBehaviours))
	var personal, ids, names []string
	for i, b := range privacyBehaviours {
		number, email := fmt.Sprintf("+1800201%04d", i), fmt.Sprintf("borrower.%d@privacy.example", i)
		accts[i] = nudge.Account{
			ID: fmt.Sprintf("PRV-%04d", i), Lender: e2eLender, Portfolio: "auto",
			Borrower: nudge.Borrower{Name: fmt.Sprintf("Quinta Borrower%d", i), Language: "en", Timezone: zone},
			Contacts: []nudge.Contact{{Channel: nudge.SMS, Address: number, Consent: true}, {Channel: nudge.Voice, Address: number, Consent: true},
				{Channel: nudge.Email, Address: email}},
			Currency: "USD", AmountDue: "250.00", DueDate: today, Status: nudge.StatusActive,
		}
		sim.Script(number, twiliosim.Borrower{Number: number, Behaviour: b, Language: "en"})
		personal = append(personal, number, email)
		ids = append(ids, accts[i].ID)
		names = append(names, accts[i].Borrower.Name)
	}
	require.NoError(t, rt.db.UpsertAccounts(ctx, accts, now.Add(-time.Second)))
	apiKey, key, err := web.NewAPIKey(e2eLender, nudge.RoleAdmin, now)
	require.NoError(t, err)
	require.NoError(t, rt.db.CreateAPIKey(ctx, key))

	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() {
		done <- runRoles(runCtx, func(ctx context.Context) error { return rt.runAPI(ctx, ln) }, rt.runScheduler, rt.runWorker)
	}()
	stopped := false
	stopRoles := func() {
		if !stopped {
			stopped = true
			stop()
			require.NoError(t, <-done)
		}
	}
	t.Cleanup(stopRoles)

	// Wait until every reminder is final and the simulator has answered.
	deadline := time.Now().Add(e2eWait)
	for {
		final := 0
		for _, acct := range accts {
			rs, err := rt.db.ListReminders(ctx, acct.Lender, acct.ID)
			require.NoError(t, err)
			for _, r := range rs {
				if r.Status.Terminal() {
					final++
				}
			}
		}
		if final == 3*len(accts) {
			break
		}
		require.True(t, time.Now().Before(deadline), "%d of %d reminders final; log:\n%s", final, 3*len(accts), logs.String())
		time.Sleep(200 * time.Millisecond)
	}
	wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	require.NoError(t, sim.Idle(wctx))

	client := &http.Client{Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	do := func(method, target, contentType, body string, header ...string) (int, string) {
		t.Helper()
		req, err := http.NewRequestWithContext(ctx, method, target, strings.NewReader(body))
		require.NoError(t, err)
		if contentType != "" {
			req.Header.Set("Content-Type", contentType)
		}
		for i := 0; i+1 < len(header); i += 2 {
			req.Header.Set(header[i], header[i+1])
		}
		resp, err := client.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		return resp.StatusCode, string(b)
	}

	// Every text: no account id, number or email in its body or links; its
	// self-service link short and working.
	selfLinks := map[string]string{} // by number
	var texts int
	for _, m := range sim.Messages() {
		if m.Direction != "outbound-api" {
			continue
		}
		texts++
		require.Empty(t, logmask.Leaks(m.Body, append(append([]string{}, ids...), personal...)...), "SMS to %s: %s", m.To, m.Body)
		require.Empty(t, logmask.Leaks(m.StatusCallback, append(append([]string{}, ids...), personal...)...))
		for _, l := range privacyLink.FindAllString(m.Body, -1) {
			require.LessOrEqual(t, len(l), len(publicURL)+3+link.TokenLength, l)
			selfLinks[m.To] = l
		}
	}
	require.NotZero(t, texts)
	for _, c := range sim.Calls() {
		require.Empty(t, logmask.Leaks(c.URL+" "+c.StatusCallback, append(append([]string{}, ids...), personal...)...), "call URLs")
	}
	require.NotEmpty(t, sim.Calls(), "the cadence calls")

	// The self-service page, and a form on it.
	page := selfLinks[accts[0].Contacts[0].Address]
	require.NotEmpty(t, page, "the silent borrower's text carries a link")
	code, body := do("GET", page, "", "")
	require.Equal(t, http.StatusOK, code, body)
	form := url.Values{"action": {borrower.ActionPaid}}
	for _, field := range []string{"nonce", "csrf"} {
		m := regexp.MustCompile(`name="action" value="paid">[\s\S]*?name="` + field + `" value="([^"]+)"`).FindStringSubmatch(body)
		if m == nil {
			m = regexp.MustCompile(`name="` + field + `" value="([^"]+)"[\s\S]*?name="action" value="paid"`).FindStringSubmatch(body)
		}
		require.NotNil(t, m, "the paid form's %s", field)
		form.Set(field, m[1])
	}
	code, body = do("POST", page, "application/x-www-form-urlencoded", form.Encode())
	require.Equal(t, http.StatusOK, code, body)
	code, _ = do("GET", publicURL+"/p/"+link.NewToken(), "", "")
	require.Equal(t, http.StatusGone, code, "an unknown link")
	code, _ = do("GET", publicURL+"/p/"+url.PathEscape(accts[1].ID), "", "")
	require.Equal(t, http.StatusBadRequest, code, "not a token")

	// One-click unsubscribe from a received email.
	var unsubscribed bool
	for _, m := range sink.Messages() {
		msg, err := netmail.ReadMessage(bytes.NewReader(m.Data))
		require.NoError(t, err)
		target := strings.Trim(msg.Header.Get("List-Unsubscribe"), "<>")
		require.Empty(t, logmask.Leaks(target, append(append([]string{}, ids...), personal...)...), target)
		for _, l := range privacyLink.FindAllString(string(m.Data), -1) {
			require.Empty(t, logmask.Leaks(l, append(append([]string{}, ids...), personal...)...), l)
		}
		if !unsubscribed && target != "" {
			code, body := do("POST", target, "application/x-www-form-urlencoded", "List-Unsubscribe=One-Click")
			require.Equal(t, http.StatusOK, code, body)
			unsubscribed = true
		}
	}
	require.True(t, unsubscribed, "an email reached the sink")

	// A forged and an unknown call webhook.
	call := sim.Calls()[0]
	code, _ = do("POST", call.URL, "application/x-www-form-urlencoded", "CallSid=CA0&CallStatus=completed", twilio.SignatureHeader, "forged")
	require.Equal(t, http.StatusForbidden, code)
	unknown := publicURL + twilio.VoicePathPrefix + link.NewToken() + twilio.VoiceStatusSuffix
	form = url.Values{"CallSid": {"CA0"}, "CallStatus": {"completed"}}
	code, _ = do("POST", unknown, "application/x-www-form-urlencoded", form.Encode(), twilio.SignatureHeader, twilio.SignRequest(e2eAuthToken, unknown, form))
	require.Equal(t, http.StatusNotFound, code)

	// Erasure, after which the borrower's link answers as an expired one.
	code, body = do("DELETE", publicURL+"/v1/accounts/"+accts[0].ID+"/personal-data", "", "", "Authorization", "Bearer "+apiKey)
	require.Equal(t, http.StatusOK, code, body)
	code, body = do("GET", page, "", "")
	require.Equal(t, http.StatusGone, code, body)
	require.Contains(t, body, "This link has expired")

	stopRoles()
	out := logs.String()
	require.Contains(t, out, `"msg":"personal data erased"`, "the log was captured")
	require.Contains(t, out, "twilio voice webhook refused")
	require.Empty(t, logmask.Leaks(out, append(personal, names...)...), "the log keeps personal data")
	require.NotContains(t, out, strings.TrimPrefix(page, publicURL), "no log line holds a whole link")
	t.Logf("%d texts, %d calls, %d emails, %d log lines scanned for %d numbers, emails and names",
		texts, len(sim.Calls()), len(sink.Messages()), strings.Count(out, "\n"), len(personal)+len(names))
}
