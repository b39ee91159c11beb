package ops_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/nudgehq/nudge"
	"github.com/nudgehq/nudge/compliance"
	"github.com/nudgehq/nudge/schedules"
	"github.com/nudgehq/nudge/store"
	"github.com/nudgehq/nudge/templates"
)

// The console fixture's borrowers and records.
const (
	consoleAccount  = "LN-7" // Ana Quintero, +12125550123, ana.q@example.com
	consoleReply    = "rep_console_voice"
	consoleHawaii   = 12 // accounts the planner holds back for quiet hours
	consoleCadence  = "console-reminders"
	consoleTemplate = "late_sms@en:0123456789ab"
)

// consoleCadenceYAML has one SMS step on the due date at 10:00.
const consoleCadenceYAML = `name: console-reminders
profile: us
applies_to:
  days_past_due: {min: -5, max: 30}
steps:
  - {id: due-sms, day: 0, at: "10:00", channel: sms, template: due_sms}
`

// noEnqueue is the planner's enqueuer: the tests read the ledger, not Redis.
type noEnqueue struct{}

func (noEnqueue) Enqueue(context.Context, nudge.Reminder, time.Time) error { return nil }

// consoleSeed adds what the console tests look for to the ops fixture: a
// borrower reachable at (212) 555-0123 with a text that failed with Twilio
// 30007 and a keypad answer that needs a person; another lender's borrower;
// and consoleHawaii accounts whose Honolulu numbers the real planner holds
// back until 08:00 there, as it did for the 112 reminders.
func consoleSeed(t *testing.T, b *opsBundle) {
	t.Helper()
	ctx := context.Background()
	ana := opsAccount("acme", consoleAccount, "+12125550123")
	ana.Borrower.Name = "Ana Quintero"
	ana.Contacts[2].Address = "ana.q@example.com"
	ana.NextActionAt = time.Time{}
	other := opsAccount("beta", "LN-8", "+12125550188")
	other.Borrower.Name = "Zed Other"
	require.NoError(t, b.db.UpsertAccounts(ctx, []nudge.Account{other}, opsT0))
	// Ana is not due for planning: her history is written by hand.
	require.NoError(t, b.db.UpsertAccounts(ctx, []nudge.Account{ana}, opsT0))
	require.NoError(t, b.db.SetNextAction(ctx, "acme", consoleAccount, time.Time{}))

	rs, err := b.db.InsertReminders(ctx, []nudge.Reminder{{Key: nudge.ReminderKey{Lender: "acme", AccountID: consoleAccount,
		Cadence: "standard", Step: "late-sms", Cycle: nudge.MustDate("2026-06-15")}, Channel: nudge.SMS,
		DueAt: opsT0.Add(-time.Hour), CreatedAt: opsT0.Add(-2 * time.Hour)}})
	require.NoError(t, err)
	a, err := b.db.ClaimAttempt(ctx, nudge.Attempt{ReminderID: rs[0].ID, Lender: "acme", AccountID: consoleAccount, Channel: nudge.SMS,
		Address: "+12125550123", Status: nudge.AttemptClaimed, CreatedAt: opsT0.Add(-time.Hour)}, nil)
	require.NoError(t, err)
	_, err = b.db.UpdateAttempt(ctx, a.ID, nudge.AttemptUpdate{Status: nudge.AttemptFailed, ErrorCode: "30007", Reason: nudge.ReasonProviderFailed,
		Body: "Acme Auto: Ana, $412.50 was due June 15. Reply STOP to opt out", Template: consoleTemplate, At: opsT0.Add(-time.Hour)})
	require.NoError(t, err)
	// Earlier this month, more refusals of other borrowers' texts and calls.
	for i := range 20 {
		acct := fmt.Sprintf("HI-%02d", i%consoleHawaii)
		at := opsT0.Add(-time.Duration(i+2) * 24 * time.Hour)
		rs, err := b.db.InsertReminders(ctx, []nudge.Reminder{{Key: nudge.ReminderKey{Lender: "acme", AccountID: acct,
			Cadence: "standard", Step: fmt.Sprintf("old-%d", i), Cycle: nudge.MustDate("2026-05-15")}, Channel: nudge.SMS, DueAt: at, CreatedAt: at}})
		require.NoError(t, err)
		a, err := b.db.ClaimAttempt(ctx, nudge.Attempt{ReminderID: rs[0].ID, Lender: "acme", AccountID: acct, Channel: nudge.SMS,
			Address: "+18085550000", Status: nudge.AttemptClaimed, CreatedAt: at}, nil)
		require.NoError(t, err)
		_, err = b.db.UpdateAttempt(ctx, a.ID, nudge.AttemptUpdate{Status: nudge.AttemptUndelivered,
			ErrorCode: []string{"30003", "30005", "30006", "21610", "21211"}[i%5], At: at})
		require.NoError(t, err)
	}
	_, err = b.db.InsertReply(ctx, nudge.Reply{ID: consoleReply, Lender: "acme", AccountID: consoleAccount, Channel: nudge.Voice,
		From: "+12125550123", Body: "3", Intent: nudge.IntentTalkToPerson, NeedsPerson: true, CreatedAt: opsT0.Add(-30 * time.Minute)})
	require.NoError(t, err)

	var hawaii []nudge.Account
	for i := range consoleHawaii {
		h := opsAccount("acme", fmt.Sprintf("HI-%02d", i), fmt.Sprintf("+1808555%04d", i))
		h.Borrower.Timezone, h.Address = "America/New_York", &nudge.Address{Country: "US", Region: "NY"}
		hawaii = append(hawaii, h)
	}
	require.NoError(t, b.db.UpsertAccounts(ctx, hawaii, opsT0.Add(-time.Minute)))
	_, err = b.db.PutCadence(ctx, "acme", consoleCadence, []byte(consoleCadenceYAML), opsT0)
	require.NoError(t, err)
	require.NoError(t, b.db.ActivateCadence(ctx, "acme", consoleCadence, 1))
	reg := compliance.NewRegistry()
	lib := schedules.NewLibrary(b.db, reg, schedules.WithTemplates(templates.Default()),
		schedules.WithProfiles(func(name string) bool { _, err := reg.Lookup(name); return err == nil }))
	p := &schedules.Planner{Store: b.db, Cadences: lib, Enqueuer: noEnqueue{}, Clock: b.clock}
	st, err := p.Tick(ctx)
	require.NoError(t, err)
	require.Positive(t, st.Planned)
}

// headline returns the overview's headline number linked as list (the
// first is today's, the second the range's) and its link.
func headline(t *testing.T, page, list string, nth int) (int, string) {
	t.Helper()
	ms := regexp.MustCompile(`data-list="`+list+`" href="([^"]+)">(\d+)</a>`).FindAllStringSubmatch(page, -1)
	require.Greater(t, len(ms), nth, "the overview links %s", list)
	n, err := strconv.Atoi(ms[nth][2])
	require.NoError(t, err)
	return n, strings.ReplaceAll(ms[nth][1], "&amp;", "&")
}

func TestConsoleSearch(t *testing.T) {
	t.Parallel()
	b := opsSetup(t)
	consoleSeed(t, b)
	c := b.client(t)
	require.Equal(t, http.StatusSeeOther, c.login(b.keys[nudge.RoleViewer]).StatusCode)
	tests := []struct {
		name, q string
		// want is the account a single match opens; wantList the accounts a
		// list shows; none that nothing matched.
		want     string
		wantList []string
		none     bool
	}{
		{name: "a US number as people write it", q: "(212) 555-0123", want: consoleAccount},
		{name: "the same number in E.164", q: "+1 212-555-0123", want: consoleAccount},
		{name: "the same number with dots", q: "212.555.0123", want: consoleAccount},
		{name: "a lower-case account id", q: "ln-7", want: consoleAccount},
		{name: "an email in another case", q: "Ana.Q@Example.COM", want: consoleAccount},
		{name: "part of a name in another case", q: "QUINTER", want: consoleAccount},
		{name: "several names", q: "borrower a-00", wantList: []string{"A-000", "A-001", "A-009"}},
		{name: "another lender's number", q: "(212) 555-0188", none: true},
		{name: "another lender's name", q: "Zed", none: true},
		{name: "another lender's id", q: "ln-8", none: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := c.do(http.MethodGet, "/ops/accounts?q="+url.QueryEscape(tc.q), nil, nil)
			switch {
			case tc.want != "":
				require.Equal(t, http.StatusSeeOther, resp.StatusCode, body)
				require.Equal(t, "/ops/accounts/"+tc.want, resp.Header.Get("Location"))
			case tc.none:
				require.Equal(t, http.StatusOK, resp.StatusCode)
				require.Contains(t, body, `id="search-none"`)
				require.NotContains(t, body, "LN-8")
			default:
				require.Equal(t, http.StatusOK, resp.StatusCode)
				require.Contains(t, body, `id="search-results"`)
				for _, id := range tc.wantList {
					require.Contains(t, body, `href="/ops/accounts/`+id+`"`)
				}
				require.Contains(t, body, "10 accounts match")
			}
		})
	}
	t.Run("a platform key acting as another lender finds that lender's borrower only", func(t *testing.T) {
		p := b.client(t)
		require.Equal(t, http.StatusSeeOther, p.login(b.platform[nudge.RoleViewer]).StatusCode)
		resp, _ := p.do(http.MethodGet, "/ops/accounts?lender=beta&q="+url.QueryEscape("(212) 555-0188"), nil, nil)
		require.Equal(t, http.StatusSeeOther, resp.StatusCode)
		require.Equal(t, "/ops/accounts/LN-8", resp.Header.Get("Location"))
		resp, body := p.do(http.MethodGet, "/ops/accounts?lender=beta&q="+url.QueryEscape("(212) 555-0123"), nil, nil)
		require.Equal(t, http.StatusOK, resp.StatusCode)
		require.Contains(t, body, `id="search-none"`)
	})
	t.Run("too long a search", func(t *testing.T) {
		resp, _ := c.do(http.MethodGet, "/ops/accounts?q="+strings.Repeat("x", 201), nil, nil)
		require.Equal(t, http.StatusBadRequest, resp.StatusCode)
	})
}

// listRow matches a list row's account link.
var listRow = regexp.MustCompile(`<tr><td>(?:[^<]*</td><td>)?<a href="/ops/accounts/([^"]+)">`)

func TestConsoleLists(t *testing.T) {
	t.Parallel()
	b := opsSetup(t)
	consoleSeed(t, b)
	c := b.client(t)
	require.Equal(t, http.StatusSeeOther, c.login(b.keys[nudge.RoleOperator]).StatusCode)
	// The range spans the seeded month (a tab would end now).
	_, overview := c.do(http.MethodGet, "/ops/?from=2026-05-16&to=2026-06-15", nil, nil)

	// Today's failed number opens today's failed and undelivered attempts,
	// the 30007 with its meaning.
	todayFailed, link := headline(t, overview, "failed", 0)
	require.Positive(t, todayFailed)
	resp, body := c.do(http.MethodGet, link, nil, nil)
	require.Equal(t, http.StatusOK, resp.StatusCode, body)
	require.Len(t, listRow.FindAllStringSubmatch(body, -1), todayFailed, "the list is what the number counts")
	require.Contains(t, body, `href="/ops/accounts/`+consoleAccount+`"`)
	require.Contains(t, body, `<span class="code">30007</span> <span class="meaning">The carrier filtered the message as spam or unregistered traffic.</span>`)
	require.NotContains(t, body, "<td>delivered</td>")

	// Filters: an error code, a channel.
	_, body = c.do(http.MethodGet, link+"&code=30007", nil, nil)
	rows := listRow.FindAllStringSubmatch(body, -1)
	require.Len(t, rows, 1)
	require.Equal(t, consoleAccount, rows[0][1])
	_, body = c.do(http.MethodGet, link+"&channel=voice", nil, nil)
	require.NotContains(t, body, "<td>sms</td>")
	require.NotContains(t, body, consoleAccount)

	// The range's failed attempts, page by page, newest first: every one
	// once, as many as the number says.
	rangeFailed, link := headline(t, overview, "failed", 1)
	require.Greater(t, rangeFailed, 50, "enough for two pages")
	seen := map[string]bool{}
	var total, pages int
	for next := link; next != ""; pages++ {
		resp, body := c.do(http.MethodGet, next, nil, nil)
		require.Equal(t, http.StatusOK, resp.StatusCode)
		times := regexp.MustCompile(`<tr><td>([^<]+)</td><td><a href="/ops/accounts/([^"]+)">[^<]*</a></td><td>([a-z]+)</td>`).FindAllStringSubmatch(body, -1)
		require.NotEmpty(t, times)
		for _, m := range times {
			key := strings.Join(m[1:], "|")
			require.False(t, seen[key], "row %s repeated on page %d", key, pages+1)
			seen[key] = true
		}
		total += len(times)
		next = ""
		if m := regexp.MustCompile(`href="\?([^"]+)" id="next"`).FindStringSubmatch(body); m != nil {
			next = "/ops/attempts?" + strings.ReplaceAll(m[1], "&amp;", "&")
		}
	}
	require.Equal(t, rangeFailed, total)
	require.GreaterOrEqual(t, pages, 2)

	// Other headline numbers open lists of the same length.
	for _, path := range []string{"/ops/optouts?from=2026-05-16&to=2026-06-15", "/ops/suppressed?from=2026-05-16&to=2026-06-15", "/ops/promises?status=kept&from=2026-05-16&to=2026-06-15"} {
		resp, body := c.do(http.MethodGet, path, nil, nil)
		require.Equal(t, http.StatusOK, resp.StatusCode, path)
		require.Contains(t, body, `id="list"`, path)
		require.Contains(t, body, `<a href="/ops/accounts/`, path)
	}

	// Bad filters are named.
	for _, tc := range []struct{ path, msg string }{
		{"/ops/attempts?status=bogus", `status: &#34;bogus&#34; is not an attempt status`},
		{"/ops/attempts?after=yesterday", "after: "},
		{"/ops/attempts?channel=fax", "channel: "},
		{"/ops/deferred?page=0", "page: "},
		{"/ops/promises?status=maybe", "status: "},
	} {
		resp, body := c.do(http.MethodGet, tc.path, nil, nil)
		require.Equal(t, http.StatusBadRequest, resp.StatusCode, tc.path)
		require.Contains(t, body, tc.msg, tc.path)
	}
}

// consoleDeferredToday is what the database holds as deferred today for
// consoleSeed's lender: the reminders deferred now (the planner's) and the
// reminders a send-time decision of today deferred, each once.
func consoleDeferredToday(t *testing.T, b *opsBundle) int {
	t.Helper()
	ctx := context.Background()
	counts, err := b.db.CountRemindersByStatus(ctx, "acme")
	require.NoError(t, err)
	dayStart := time.Date(2026, 6, 15, 0, 0, 0, 0, time.UTC)
	sendTime := map[string]bool{}
	for i := range 121 {
		id := fmt.Sprintf("A-%03d", i)
		if i == 120 {
			id = opsSuppressedAccount
		}
		evs, err := b.db.Events(ctx, "acme", id)
		require.NoError(t, err)
		for _, e := range evs {
			if e.Kind == nudge.EventDecision && e.Action == "defer" && !e.At.Before(dayStart) && e.At.Before(dayStart.Add(24*time.Hour)) {
				sendTime[e.ReminderID] = true
			}
		}
	}
	require.NotEmpty(t, sendTime)
	return counts[nudge.ReminderDeferred] + len(sendTime)
}

// TestConsoleDeferredCount: the overview counts the reminders deferred at
// planning time too, each once, as many as the database holds; the list
// and the account page say why and until when.
func TestConsoleDeferredCount(t *testing.T) {
	t.Parallel()
	b := opsSetup(t)
	consoleSeed(t, b)
	ctx := context.Background()
	c := b.client(t)
	require.Equal(t, http.StatusSeeOther, c.login(b.keys[nudge.RoleViewer]).StatusCode)

	counts, err := b.db.CountRemindersByStatus(ctx, "acme")
	require.NoError(t, err)
	require.Equal(t, consoleHawaii, counts[nudge.ReminderDeferred], "the planner held back every Honolulu number")
	deferredToday := consoleDeferredToday(t, b)

	_, overview := c.do(http.MethodGet, "/ops/", nil, nil)
	today, link := headline(t, overview, "deferred", 0)
	require.Equal(t, deferredToday, today)

	resp, body := c.do(http.MethodGet, link, nil, nil)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Len(t, listRow.FindAllStringSubmatch(body, -1), today)
	require.Contains(t, body, `href="/ops/accounts/HI-00"`)
	require.Contains(t, body, "held back at planning until the allowed window")
	require.Contains(t, body, `<td class="next">2026-06-15 18:00 UTC</td>`, "08:00 in Honolulu")

	_, body = c.do(http.MethodGet, "/ops/accounts/HI-03", nil, nil)
	require.Regexp(t, `<td>sms</td><td>deferred</td>\s*<td class="reason">quiet_hours</td><td class="next">2026-06-15 18:00 UTC</td>`, body,
		"the account page shows a deferred reminder's reason and next time, not a bare queued")
	require.Contains(t, body, "Planned and held back until 2026-06-15 18:00 UTC")
}

func TestConsoleAccountShowsWhatWasSent(t *testing.T) {
	t.Parallel()
	b := opsSetup(t)
	consoleSeed(t, b)
	c := b.client(t)
	require.Equal(t, http.StatusSeeOther, c.login(b.keys[nudge.RoleViewer]).StatusCode)
	_, body := c.do(http.MethodGet, "/ops/accounts/"+consoleAccount, nil, nil)
	require.Contains(t, body, `error <span class="code">30007</span>: <span class="meaning">The carrier filtered the message as spam or unregistered traffic.</span>`)
	require.Contains(t, body, "<pre>Acme Auto: Ana, $412.50 was due June 15. Reply STOP to opt out</pre>")
	require.Contains(t, body, `template `+consoleTemplate)
	require.Contains(t, body, "Pressed <kbd>3</kbd> on the call")
	require.Contains(t, body, "Asked to talk to a person")

	// Erased, the body goes with the borrower; the template version stays.
	require.NoError(t, b.db.ErasePersonalData(context.Background(), "acme", consoleAccount, opsT0))
	_, body = c.do(http.MethodGet, "/ops/accounts/"+consoleAccount, nil, nil)
	require.NotContains(t, body, "$412.50 was due")
	require.Contains(t, body, `template `+consoleTemplate)

	// In Spanish the code's meaning is the catalogue's (last: the choice is
	// remembered in a cookie).
	_, body = c.do(http.MethodGet, "/ops/accounts/"+consoleAccount+"?lang=es", nil, nil)
	require.Contains(t, body, `error <span class="code">30007</span>: <span class="meaning">El operador filtró el mensaje como spam o tráfico no registrado.</span>`)
}

func TestConsoleReplyQueue(t *testing.T) {
	t.Parallel()
	b := opsSetup(t)
	consoleSeed(t, b)
	ctx := context.Background()
	c := b.client(t)
	require.Equal(t, http.StatusSeeOther, c.login(b.keys[nudge.RoleOperator]).StatusCode)
	needs := func() int {
		t.Helper()
		_, overview := c.do(http.MethodGet, "/ops/", nil, nil)
		m := regexp.MustCompile(`href="/ops/replies\?from=2026-06-15&amp;lender=acme&amp;to=2026-06-15">(\d+)</a>`).FindStringSubmatch(overview)
		require.NotNil(t, m, "today's need-a-person number links to the queue")
		n, err := strconv.Atoi(m[1])
		require.NoError(t, err)
		return n
	}
	before := needs()
	require.Positive(t, before)

	_, page := c.do(http.MethodGet, "/ops/replies", nil, nil)
	require.Contains(t, page, `id="reply-`+consoleReply+`"`)
	require.Contains(t, page, "Pressed <kbd>3</kbd> on the call", "a keypad answer in words, not a bare digit")
	require.Contains(t, page, "Asked to talk to a person")
	csrf := opsCSRF(t, page)

	// A form without the page's token is refused and changes nothing.
	for _, token := range []string{"", "forged"} {
		resp, body := c.do(http.MethodPost, "/ops/replies/"+consoleReply+"/resolve", url.Values{"csrf": {token}, "note": {"done"}}, nil)
		require.Equal(t, http.StatusForbidden, resp.StatusCode)
		require.Contains(t, body, "the form has expired")
	}
	require.Equal(t, before, needs())

	resp, _ := c.do(http.MethodPost, "/ops/replies/"+consoleReply+"/assign", url.Values{"csrf": {csrf}}, nil)
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	_, page = c.do(http.MethodGet, resp.Header.Get("Location"), nil, nil)
	require.Contains(t, page, "Taken by "+b.keyIDs[nudge.RoleOperator])
	require.Equal(t, before, needs(), "a reply someone took still waits")

	resp, body := c.do(http.MethodPost, "/ops/replies/"+consoleReply+"/resolve", url.Values{"csrf": {csrf}, "note": {"  "}}, nil)
	require.Equal(t, http.StatusBadRequest, resp.StatusCode)
	require.Contains(t, body, "note: say what was done")
	resp, _ = c.do(http.MethodPost, "/ops/replies/"+consoleReply+"/resolve",
		url.Values{"csrf": {csrf}, "note": {"Called her back: she pays Friday."}}, nil)
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	_, page = c.do(http.MethodGet, resp.Header.Get("Location"), nil, nil)
	require.Contains(t, page, `id="done"`)
	require.NotContains(t, page, `id="reply-`+consoleReply+`"`, "a resolved reply leaves the queue")
	require.Equal(t, before-1, needs())

	_, all := c.do(http.MethodGet, "/ops/replies?view=all", nil, nil)
	require.Contains(t, all, "Resolved by "+b.keyIDs[nudge.RoleOperator])
	require.Contains(t, all, "Called her back: she pays Friday.")

	audit, err := b.db.ListAudit(ctx, "acme")
	require.NoError(t, err)
	var actions []string
	for _, a := range audit {
		if a.Target == consoleAccount {
			actions = append(actions, a.Action+" by "+a.Actor)
		}
	}
	require.Equal(t, []string{store.AuditAssignReply + " by " + b.keyIDs[nudge.RoleOperator],
		store.AuditResolveReply + " by " + b.keyIDs[nudge.RoleOperator]}, actions)

	resp, body = c.do(http.MethodPost, "/ops/replies/"+consoleReply+"/resolve", url.Values{"csrf": {csrf}, "note": {"again"}}, nil)
	require.Equal(t, http.StatusConflict, resp.StatusCode)
	require.Contains(t, body, "no longer waiting")

	// A viewer reads the queue but cannot work it; another lender's reply is not found.
	v := b.client(t)
	require.Equal(t, http.StatusSeeOther, v.login(b.keys[nudge.RoleViewer]).StatusCode)
	_, vpage := v.do(http.MethodGet, "/ops/replies", nil, nil)
	require.NotContains(t, vpage, "/resolve")
	rows, err := b.db.PageReplies(ctx, store.ReplyQuery{Lender: "acme", Since: opsT0.Add(-30 * 24 * time.Hour), Until: opsT0, Open: true, Limit: 1})
	require.NoError(t, err)
	require.Len(t, rows, 1)
	resp, _ = v.do(http.MethodPost, "/ops/replies/"+rows[0].ID+"/resolve", url.Values{"csrf": {opsCSRF(t, vpage)}, "note": {"x"}}, nil)
	require.Equal(t, http.StatusForbidden, resp.StatusCode)
	beta, err := b.db.NeedsPersonReplies(ctx, "beta", 1)
	require.NoError(t, err)
	require.Len(t, beta, 1)
	resp, _ = c.do(http.MethodPost, "/ops/replies/"+beta[0].ID+"/resolve", url.Values{"csrf": {csrf}, "note": {"not mine"}}, nil)
	require.Equal(t, http.StatusNotFound, resp.StatusCode)
}
