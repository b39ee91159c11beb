package ops_test

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/nudgehq/nudge"
	"github.com/nudgehq/nudge/web/internal/webtest"
	"github.com/nudgehq/nudge/web/ops"
)

// TestOpsPagesOnAPhone opens every console page as a lender's operator
// (the one role that sees every form) on a 390 px wide phone, in each
// language: none scrolls sideways, and axe-core finds no serious or
// critical accessibility violation.
func TestOpsPagesOnAPhone(t *testing.T) {
	t.Parallel()
	b := opsSetup(t)
	ctx := webtest.Browser(t, webtest.PhoneWidth, webtest.PhoneHeight)
	require.NoError(t, chromedp.Do(ctx, webtest.Phone(), chromedp.Navigate(b.srv.URL+"/ops/login"), chromedp.WaitVisible(chromedp.ID("key"))))
	webtest.CheckPage(t, ctx, "ops login")
	require.NoError(t, chromedp.Do(ctx,
		chromedp.SendKeys(chromedp.ID("key"), b.keys[nudge.RoleOperator]),
		chromedp.Click(chromedp.ID("login")),
		chromedp.WaitVisible(chromedp.ID("totals")),
	))
	pages := []struct{ name, path, wait string }{
		{"overview", "/ops/?range=30d", "totals"},
		{"overview last hour", "/ops/?range=1h", "totals"},
		{"funnel", "/ops/funnel?range=30d", "funnel"},
		{"account lookup", "/ops/accounts", "account-id"},
		{"account timeline", "/ops/accounts/" + opsSuppressedAccount, "timeline"},
		{"replies", "/ops/replies", "replies"},
		{"every reply", "/ops/replies?view=all&from=2026-05-16&to=2026-06-15", "replies"},
		{"search", "/ops/accounts?q=a-00", "search-results"},
		{"failed attempts", "/ops/attempts?status=failed,undelivered&from=2026-05-16&to=2026-06-15", "list"},
		{"deferred", "/ops/deferred?from=2026-05-16&to=2026-06-15", "list"},
		{"suppressed", "/ops/suppressed?from=2026-05-16&to=2026-06-15", "list"},
		{"opt-outs", "/ops/optouts?from=2026-05-16&to=2026-06-15", "list"},
		{"promises", "/ops/promises?from=2026-05-16&to=2026-06-15", "list"},
		{"queue", "/ops/queue", "queue-counts"},
		{"error", "/ops/accounts/NOPE", "error"},
	}
	for _, lang := range []string{"en", "es", "zh-CN"} {
		for _, p := range pages {
			sep := "?"
			if strings.Contains(p.path, "?") {
				sep = "&"
			}
			require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(b.srv.URL+p.path+sep+"lang="+lang), chromedp.WaitVisible(chromedp.ID(p.wait))))
			got, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.documentElement.lang`))
			require.NoError(t, err)
			require.Equal(t, lang, got)
			webtest.CheckPage(t, ctx, "ops "+p.name+" "+lang)
		}
	}
}

// TestOpsLiveRefresh leaves the overview open: its live part refreshes in
// place (the page is not reloaded) and shows the new time, and stops, with
// a note, once the session has ended.
func TestOpsLiveRefresh(t *testing.T) {
	t.Parallel()
	b := opsSetup(t, func(c *ops.OpsConfig) { c.Refresh = time.Second })
	ctx := webtest.Browser(t, 1280, 900)
	require.NoError(t, chromedp.Do(ctx,
		chromedp.Navigate(b.srv.URL+"/ops/login"),
		chromedp.WaitVisible(chromedp.ID("key")),
		chromedp.SendKeys(chromedp.ID("key"), b.keys[nudge.RoleViewer]),
		chromedp.Click(chromedp.ID("login")),
		chromedp.WaitVisible(chromedp.ID("updated")),
	))
	before, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("updated")))
	require.NoError(t, err)
	require.Contains(t, before, "2026-06-15 15:00 UTC")
	_, err = chromedp.Run(ctx, chromedp.Evaluate[chromedp.Void](`window.stillThisPage = true`))
	require.NoError(t, err)

	b.clock.Advance(7 * time.Minute)
	_, err = chromedp.Run(ctx, chromedp.Poll[bool](`document.getElementById('updated').textContent.includes('2026-06-15 15:07 UTC')`,
		chromedp.WithPollingTimeout(20*time.Second)))
	require.NoError(t, err, "the overview refreshed itself")
	kept, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`window.stillThisPage === true`))
	require.NoError(t, err)
	require.True(t, kept, "in place, without reloading the page")
	stale, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.getElementById('stale').hidden`))
	require.NoError(t, err)
	require.True(t, stale, "no failure note while refreshing works")

	b.clock.Advance(ops.DefaultOpsSessionTTL)
	_, err = chromedp.Run(ctx, chromedp.Poll[bool](`!document.getElementById('stale').hidden`, chromedp.WithPollingTimeout(20*time.Second)))
	require.NoError(t, err, "an ended session shows the note instead of the login form")
	updated, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("updated")))
	require.NoError(t, err)
	require.Contains(t, updated, "15:07", "the figures stay, with their time")
}
