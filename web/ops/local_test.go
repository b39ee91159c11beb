package ops_test

import (
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/nudgehq/nudge"
	"github.com/nudgehq/nudge/compliance"
	"github.com/nudgehq/nudge/schedules"
	"github.com/nudgehq/nudge/store"
	"github.com/nudgehq/nudge/web"
	"github.com/nudgehq/nudge/web/ops"
)

// fakeCadences is the lender's cadence library: the cadences given, each
// of the compliance profile it names.
type fakeCadences struct{ cadences []*schedules.Cadence }

func (f fakeCadences) Cadences(context.Context, string) ([]schedules.Versioned, error) {
	out := make([]schedules.Versioned, len(f.cadences))
	for i, c := range f.cadences {
		out[i] = schedules.Versioned{Cadence: c, Version: 1}
	}
	return out, nil
}

func (f fakeCadences) Profile(_ context.Context, _, name string, _ int) (*compliance.Profile, error) {
	for _, c := range f.cadences {
		if c.Name == name {
			return compliance.Builtin(c.Profile)
		}
	}
	return nil, nudge.ErrNotFound
}

// addLender stores a lender with an operator key and returns the key.
func (b *opsBundle) addLender(t *testing.T, l nudge.Lender) string {
	t.Helper()
	ctx := context.Background()
	l.CreatedAt = opsT0
	require.NoError(t, b.db.UpsertLender(ctx, l))
	token, key, err := web.NewAPIKey(l.ID, nudge.RoleOperator, opsT0)
	require.NoError(t, err)
	require.NoError(t, b.db.CreateAPIKey(ctx, key))
	return token
}

// sendAt records one sent SMS attempt of the lender at at.
func (b *opsBundle) sendAt(t *testing.T, lender string, at time.Time) {
	t.Helper()
	ctx := context.Background()
	id := fmt.Sprintf("Z-%d", at.Unix())
	require.NoError(t, b.db.UpsertAccounts(ctx, []nudge.Account{opsAccount(lender, id, "+15125551234")}, opsT0.Add(-48*time.Hour)))
	rs, err := b.db.InsertReminders(ctx, []nudge.Reminder{{Key: nudge.ReminderKey{Lender: lender, AccountID: id, Cadence: "c", Step: "s",
		Cycle: nudge.MustDate("2026-06-15")}, Channel: nudge.SMS, DueAt: at, CreatedAt: at.Add(-time.Hour)}})
	require.NoError(t, err)
	_, err = b.db.ClaimAttempt(ctx, nudge.Attempt{ReminderID: rs[0].ID, Lender: lender, AccountID: id, Channel: nudge.SMS,
		Address: "+15125551234", Status: nudge.AttemptSent, CreatedAt: at, SentAt: at}, nil)
	require.NoError(t, err)
}

// rowSent reads the Sent column of the totals row labelled label.
func rowSent(t *testing.T, body, label string) int {
	t.Helper()
	m := regexp.MustCompile(`<th scope="row">` + regexp.QuoteMeta(label) + `</th><td>(?:<a [^>]*>)?(\d+)(?:</a>)?</td>`).FindStringSubmatch(body)
	require.NotNil(t, m, "a totals row %q", label)
	var n int
	_, err := fmt.Sscan(m[1], &n)
	require.NoError(t, err)
	return n
}

// TestOpsCountsDaysInTheLendersZone: for a lender in Shanghai, "today" at
// 23:00 local time (15:00 UTC) began at 16:00 UTC the day before. A text
// sent at 17:00 UTC that day is today's; one sent at 15:30 UTC is not,
// though it is in the last 24 hours. Times, the chart's hours and the
// headings follow the lender (its zone and its language).
func TestOpsCountsDaysInTheLendersZone(t *testing.T) {
	t.Parallel()
	b := opsSetup(t)
	key := b.addLender(t, nudge.Lender{ID: "zeta", Name: "华夏汽车金融", Language: "zh-CN", Timezone: "Asia/Shanghai"})
	b.sendAt(t, "zeta", time.Date(2026, 6, 14, 15, 30, 0, 0, time.UTC)) // 23:30 local, yesterday
	b.sendAt(t, "zeta", time.Date(2026, 6, 14, 17, 0, 0, 0, time.UTC))  // 01:00 local, today
	b.sendAt(t, "zeta", time.Date(2026, 6, 15, 10, 0, 0, 0, time.UTC))  // 18:00 local, today
	c := b.client(t)
	require.Equal(t, http.StatusSeeOther, c.login(key).StatusCode)

	resp, body := c.do(http.MethodGet, "/ops/?range=24h", nil, nil)
	require.Equal(t, http.StatusOK, resp.StatusCode, body)
	require.Contains(t, body, `<html lang="zh-CN">`, "the lender's language")
	require.Contains(t, body, "<h1>概览</h1>")
	require.Equal(t, 2, rowSent(t, body, "今天"), "today in Shanghai, not the UTC day (which holds one)")
	require.Equal(t, 3, rowSent(t, body, "最近 24 小时"))
	require.Contains(t, body, "2026-06-15 23:00 CST", "updated at, in the lender's zone")
	require.Contains(t, body, "时间按 Asia/Shanghai")
	require.Contains(t, body, `">23:00</text>`, "the chart's hours are local: the first period starts at 23:00")
	require.Contains(t, body, `aria-current="page">最近 24 小时</a>`, "the default tab")
}

// TestOpsTimeRangeTabs: each tab names its range, is marked current, and
// counts what happened in it; an unknown range is refused with its name.
func TestOpsTimeRangeTabs(t *testing.T) {
	t.Parallel()
	b := opsSetup(t)
	c := b.client(t)
	require.Equal(t, http.StatusSeeOther, c.login(b.keys[nudge.RoleViewer]).StatusCode)
	sent := map[string]int{}
	for _, tc := range []struct{ key, label string }{
		{"1h", "Last hour"}, {"24h", "Last 24 hours"}, {"7d", "Last 7 days"}, {"30d", "Last 30 days"},
	} {
		resp, body := c.do(http.MethodGet, "/ops/?range="+tc.key, nil, nil)
		require.Equal(t, http.StatusOK, resp.StatusCode)
		require.Contains(t, body, `href="?lender=acme&amp;range=`+tc.key+`" aria-current="page">`+tc.label+`</a>`)
		sent[tc.key] = rowSent(t, body, tc.label)
		sum, err := b.db.OpsSummary(context.Background(), store.OpsQuery{Lender: "acme", Since: opsT0.Add(-map[string]time.Duration{
			"1h": time.Hour, "24h": 24 * time.Hour, "7d": 7 * 24 * time.Hour, "30d": 30 * 24 * time.Hour}[tc.key]), Until: opsT0.Add(time.Microsecond)})
		require.NoError(t, err)
		var want int
		for _, a := range sum.Attempts {
			if a.Status.Rank() >= nudge.AttemptSent.Rank() && a.Status != nudge.AttemptFailed && a.Status != nudge.AttemptCanceled {
				want += a.N
			}
		}
		require.Equal(t, want, sent[tc.key], "the %s row counts the database's attempts in the range", tc.key)
	}
	require.Less(t, sent["1h"], sent["24h"])
	require.Less(t, sent["7d"], sent["30d"])

	resp, body := c.do(http.MethodGet, "/ops/?range=2w", nil, nil)
	require.Equal(t, http.StatusBadRequest, resp.StatusCode)
	require.Contains(t, body, `unknown time range &#34;2w&#34;: use 1h, 24h, 7d or 30d`)
}

// TestOpsLanguage: the language menu's choice wins and is remembered, then
// the lender's language, then the browser's; error pages speak it too.
func TestOpsLanguage(t *testing.T) {
	t.Parallel()
	b := opsSetup(t)
	c := b.client(t)
	resp, body := c.do(http.MethodGet, "/ops/login", nil, map[string]string{"Accept-Language": "es-MX,es;q=0.9"})
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Contains(t, body, `<html lang="es">`)
	require.Contains(t, body, "Clave de API")
	resp, body = c.do(http.MethodPost, "/ops/login", url.Values{"key": {"nudge_x_y"}, "csrf": {opsCSRF(t, body)}},
		map[string]string{"Accept-Language": "es"})
	require.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	require.Contains(t, body, "esa clave de API no es válida", "the login form's errors too")
	require.Contains(t, body, `href="/ops/login?lang=zh-CN"`, "the menu of a form's answer links to a page, not the form's target")
	require.Equal(t, http.StatusSeeOther, c.login(b.keys[nudge.RoleOperator]).StatusCode)

	_, body = c.do(http.MethodGet, "/ops/funnel?range=30d", nil, map[string]string{"Accept-Language": "zh-CN"})
	require.Contains(t, body, `<html lang="zh-CN">`, "the browser's language for a lender without one")
	require.Contains(t, body, "各流程步骤的漏斗")
	require.Contains(t, body, "3 天", "durations in words, in the page's language")

	resp, body = c.do(http.MethodGet, "/ops/queue?lang=es", nil, map[string]string{"Accept-Language": "zh-CN"})
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Contains(t, body, `<html lang="es">`, "the menu's choice")
	var chosen *http.Cookie
	for _, ck := range resp.Cookies() {
		if ck.Name == ops.OpsLangCookie {
			chosen = ck
		}
	}
	require.NotNil(t, chosen, "the choice is remembered")
	require.Equal(t, "es", chosen.Value)
	require.Positive(t, chosen.MaxAge)

	resp, body = c.do(http.MethodGet, "/ops/?range=2w", nil, map[string]string{"Accept-Language": "zh-CN"})
	require.Equal(t, http.StatusBadRequest, resp.StatusCode)
	require.Contains(t, body, `<html lang="es">`, "remembered on the next page")
	require.Contains(t, body, "<h1>Solicitud incorrecta</h1>")
	require.Contains(t, body, "periodo desconocido &#34;2w&#34;")

	require.NoError(t, b.db.UpsertLender(context.Background(), nudge.Lender{ID: "acme", Name: "Acme Auto", Language: "zh-CN", CreatedAt: opsT0}))
	fresh := b.client(t)
	require.Equal(t, http.StatusSeeOther, fresh.login(b.keys[nudge.RoleOperator]).StatusCode)
	_, body = fresh.do(http.MethodGet, "/ops/", nil, map[string]string{"Accept-Language": "en-US,en"})
	require.Contains(t, body, `<html lang="zh-CN">`, "the lender's language over the browser's")
}

// TestOpsZoneAndOrderFromCadences: a lender with no time zone of its own
// is shown in the zone of its cadences' jurisdiction, and the funnel lists
// the steps in the cadence's order (here not the order of their due
// dates) and after them a step the cadence no longer has, email without a
// delivery rate.
func TestOpsZoneAndOrderFromCadences(t *testing.T) {
	t.Parallel()
	cad := &schedules.Cadence{Name: "standard", Profile: "cn", Steps: []schedules.Step{
		{ID: "late-voice", Channel: nudge.Voice}, {ID: "due-email", Channel: nudge.Email}, {ID: "predue-sms", Channel: nudge.SMS},
	}}
	b := opsSetup(t, func(c *ops.OpsConfig) { c.Cadences = fakeCadences{cadences: []*schedules.Cadence{cad}} })
	c := b.client(t)
	require.Equal(t, http.StatusSeeOther, c.login(b.keys[nudge.RoleViewer]).StatusCode)
	_, body := c.do(http.MethodGet, "/ops/funnel?range=30d", nil, nil)
	require.Contains(t, body, "times in Asia/Shanghai", "the cn jurisdiction's zone")
	require.Contains(t, body, "2026-06-15 23:00 CST")
	table := body[strings.Index(body, `<table id="funnel">`):]
	var order []string
	for _, m := range regexp.MustCompile(`<tr><td>standard</td><td>([a-z-]+)</td>`).FindAllStringSubmatch(table, -1) {
		order = append(order, m[1])
	}
	require.Equal(t, []string{"late-voice", "due-email", "predue-sms", "late-sms"}, order,
		"the cadence's order; a step it no longer has (late-sms) comes after its own")
	email := table[strings.Index(table, "<td>due-email</td>"):]
	email = email[:strings.Index(email, "</tr>")]
	require.Contains(t, email, "no receipts", "email has no delivery rate")
	require.Equal(t, 1, strings.Count(email, "%"), "one rate, of sent: none of delivery")
	require.Contains(t, body, "delivered: email has no delivery receipts", "the chart says so in place of the bar")
}

// gzipGet fetches path with the client's session, asking for gzip, and
// returns the response and its decoded body.
func (c *opsClient) gzipGet(path string, header map[string]string) (*http.Response, string) {
	c.t.Helper()
	h := map[string]string{"Accept-Encoding": "gzip"}
	for k, v := range header {
		h[k] = v
	}
	resp, body := c.do(http.MethodGet, path, nil, h)
	if resp.Header.Get("Content-Encoding") != "gzip" {
		return resp, body
	}
	r, err := gzip.NewReader(strings.NewReader(body))
	require.NoError(c.t, err)
	b, err := io.ReadAll(r)
	require.NoError(c.t, err)
	return resp, string(b)
}

// TestOpsCompressedAndCached: a page asked for with Accept-Encoding: gzip
// comes gzip-encoded and decodes to the page a plain request gets; the
// console's own files and asynqmon's carry validators, and asynqmon's
// hashed files (1.3 MB of script) are kept by the browser for a year.
func TestOpsCompressedAndCached(t *testing.T) {
	t.Parallel()
	b := opsSetup(t)
	c := b.client(t)
	require.Equal(t, http.StatusSeeOther, c.login(b.keys[nudge.RoleViewer]).StatusCode)
	// The overview's queue table shows each queue's latency as Redis has it
	// now (wall time, not the test's clock), so it may differ between the
	// two requests; the rest of every page must not.
	queues := regexp.MustCompile(`(?s)<table id="queues">.*?</table>`)
	for _, path := range []string{"/ops/?range=30d", "/ops/funnel?range=30d", "/ops/accounts/" + opsSuppressedAccount} {
		_, plain := c.do(http.MethodGet, path, nil, nil)
		resp, page := c.gzipGet(path, nil)
		require.Equal(t, "gzip", resp.Header.Get("Content-Encoding"), path)
		require.Contains(t, resp.Header.Values("Vary"), "Accept-Encoding")
		require.Contains(t, page, "</html>", path)
		require.Equal(t, queues.ReplaceAllString(plain, ""), queues.ReplaceAllString(page, ""), "%s decodes to the same page", path)
		require.Equal(t, "no-store", resp.Header.Get("Cache-Control"), "pages are never cached")
	}

	// The console's files: a versioned URL is kept for a year; any URL
	// revalidates with its ETag.
	_, page := c.do(http.MethodGet, "/ops/", nil, nil)
	css := regexp.MustCompile(`href="(/ops/static/ops\.css\?v=[0-9a-f]+)"`).FindStringSubmatch(page)
	require.NotNil(t, css, "the page links its stylesheet by version")
	resp, body := c.gzipGet(css[1], nil)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Equal(t, "gzip", resp.Header.Get("Content-Encoding"))
	require.Contains(t, body, ".timeline")
	require.Equal(t, "public, max-age=31536000, immutable", resp.Header.Get("Cache-Control"))
	etag := resp.Header.Get("ETag")
	require.NotEmpty(t, etag)
	resp, _ = c.do(http.MethodGet, "/ops/static/ops.css", nil, map[string]string{"If-None-Match": etag})
	require.Equal(t, http.StatusNotModified, resp.StatusCode)
	resp, _ = c.do(http.MethodGet, "/ops/static/ops.css?v=stale", nil, nil)
	require.Equal(t, "no-cache", resp.Header.Get("Cache-Control"), "an old version's URL is revalidated")
	resp, _ = c.gzipGet("/ops/static/fonts/roboto-latin-400-normal.woff2", nil)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Empty(t, resp.Header.Get("Content-Encoding"), "woff2 is compressed already")

	// asynqmon, for a platform key.
	p := b.client(t)
	require.Equal(t, http.StatusSeeOther, p.login(b.platform[nudge.RoleViewer]).StatusCode)
	resp, index := p.gzipGet("/ops/queues/", nil)
	require.Equal(t, "gzip", resp.Header.Get("Content-Encoding"))
	require.Equal(t, "no-store", resp.Header.Get("Cache-Control"), "the page itself is not cached")
	scripts := regexp.MustCompile(`/ops/queues/static/js/[^"]+\.js`).FindAllString(index, -1)
	require.NotEmpty(t, scripts)
	var total int
	for _, s := range scripts {
		resp, js := p.gzipGet(s, nil)
		require.Equal(t, http.StatusOK, resp.StatusCode, s)
		require.Equal(t, "gzip", resp.Header.Get("Content-Encoding"), s)
		require.Equal(t, "private, max-age=31536000, immutable", resp.Header.Get("Cache-Control"), s)
		require.NotContains(t, js, "<!doctype html", "%s is the script, not the page", s)
		total += len(js)
		resp, _ = p.do(http.MethodGet, s, nil, map[string]string{"If-None-Match": resp.Header.Get("ETag")})
		require.Equal(t, http.StatusNotModified, resp.StatusCode, s)
	}
	require.Greater(t, total, 1<<20, "the scripts are the bulk of the monitor")
	resp, _ = p.do(http.MethodGet, "/ops/queues/favicon-32x32.png", nil, nil)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Equal(t, "private, no-cache", resp.Header.Get("Cache-Control"), "an unhashed name is revalidated")
	resp, _ = p.do(http.MethodGet, "/ops/queues/favicon-32x32.png", nil, map[string]string{"If-None-Match": resp.Header.Get("ETag")})
	require.Equal(t, http.StatusNotModified, resp.StatusCode)
}
