package ops_test

import (
	"context"
	"strconv"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/nudgehq/nudge"
	"github.com/nudgehq/nudge/web/internal/webtest"
)

// TestConsoleBrowser walks a busy morning in a real browser: an operator
// finds a borrower by the number as she read it out, (212) 555-0123; opens
// today's failed attempts from the overview's headline number and reads
// what an error code means; and resolves a reply needing a person, after
// which the overview's count is one lower. The overview's deferred number
// is what the database holds. The new pages fit a 390 px phone.
func TestConsoleBrowser(t *testing.T) {
	t.Parallel()
	b := opsSetup(t)
	consoleSeed(t, b)
	ctx := webtest.Browser(t, 1400, 1000)
	dir := webtest.Artifacts(t)

	require.NoError(t, chromedp.Do(ctx,
		chromedp.Navigate(b.srv.URL+"/ops/accounts"),
		chromedp.WaitVisible(chromedp.ID("key")),
		chromedp.SendKeys(chromedp.ID("key"), b.keys[nudge.RoleOperator]),
		chromedp.Click(chromedp.ID("login")),
		chromedp.WaitVisible(chromedp.ID("account-id")),
		chromedp.SendKeys(chromedp.ID("account-id"), "(212) 555-0123"),
		chromedp.Click(chromedp.ID("lookup")),
		chromedp.WaitVisible(chromedp.ID("timeline")),
	))
	summary, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("account-summary")))
	require.NoError(t, err)
	require.Contains(t, summary, "Ana Quintero")
	loc, err := chromedp.Run(ctx, chromedp.Location())
	require.NoError(t, err)
	require.Equal(t, b.srv.URL+"/ops/accounts/"+consoleAccount, loc)
	opsScreenshot(t, ctx, dir, "console-account.png")

	// The overview's failed number opens its list; the 30007 row says why.
	require.NoError(t, chromedp.Do(ctx,
		chromedp.Navigate(b.srv.URL+"/ops/"),
		chromedp.WaitVisible(chromedp.ID("totals")),
	))
	needsBefore := consoleNeeds(t, ctx)
	deferred, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`#totals tbody tr:first-child a[data-list="deferred"]`)))
	require.NoError(t, err)
	require.Equal(t, strconv.Itoa(consoleDeferredToday(t, b)), deferred, "today's deferred number is what the database holds")
	require.NoError(t, chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(`#totals tbody tr:first-child a[data-list="failed"]`)),
		chromedp.WaitVisible(chromedp.ID("list")),
	))
	meaning, err := chromedp.Run(ctx, chromedp.Evaluate[string](`(() => {
		const row = Array.from(document.querySelectorAll('#list tbody tr')).find(r => r.textContent.includes('30007'));
		return row ? row.querySelector('.meaning').textContent : '';
	})()`))
	require.NoError(t, err)
	require.Equal(t, "The carrier filtered the message as spam or unregistered traffic.", meaning)
	opsScreenshot(t, ctx, dir, "console-failed.png")

	// Resolve the keypad answer that needs a person.
	sel := "#reply-" + consoleReply
	require.NoError(t, chromedp.Do(ctx,
		chromedp.Navigate(b.srv.URL+"/ops/replies"),
		chromedp.WaitVisible(chromedp.ID("replies")),
	))
	said, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel+" .said")))
	require.NoError(t, err)
	require.Equal(t, "Pressed 3 on the call", said)
	require.NoError(t, chromedp.Do(ctx,
		chromedp.SendKeys(chromedp.CSS(sel+" textarea[name=note]"), "Called her back; she pays Friday."),
		chromedp.Click(chromedp.CSS(sel+" form.resolve button")),
		chromedp.WaitVisible(chromedp.ID("done")),
	))
	gone, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.querySelector('`+sel+`') === null`))
	require.NoError(t, err)
	require.True(t, gone, "the resolved reply left the queue")
	require.NoError(t, chromedp.Do(ctx,
		chromedp.Navigate(b.srv.URL+"/ops/"),
		chromedp.WaitVisible(chromedp.ID("totals")),
	))
	require.Equal(t, needsBefore-1, consoleNeeds(t, ctx))

	// On a phone, the new pages scroll only inside their tables.
	require.NoError(t, chromedp.Do(ctx, chromedp.EmulateViewport(390, 844)))
	for _, path := range []string{"/ops/accounts?q=borrower", "/ops/attempts?status=failed,undelivered", "/ops/deferred",
		"/ops/replies?view=all", "/ops/accounts/" + consoleAccount} {
		require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(b.srv.URL+path), chromedp.WaitVisible(chromedp.CSS("main"))))
		width, err := chromedp.Run(ctx, chromedp.Evaluate[float64](`document.documentElement.scrollWidth`))
		require.NoError(t, err)
		wide, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll('body *')).filter(e => e.getBoundingClientRect().right > 391 && !e.closest('.scroll')).map(e => e.tagName + '.' + e.className + '#' + e.id + ' ' + Math.round(e.getBoundingClientRect().right))`))
		require.NoError(t, err)
		require.LessOrEqual(t, width, 390.0, "%s is wider than the phone: %v", path, wide)
	}
	opsScreenshot(t, ctx, dir, "console-replies-phone.png")
}

// consoleNeeds reads today's "need a person" number off the overview.
func consoleNeeds(t *testing.T, ctx context.Context) int {
	t.Helper()
	text, err := chromedp.Run(ctx, chromedp.Evaluate[string](
		`document.querySelector('#totals tbody tr:first-child a[href^="/ops/replies?"]:not([href*="view=all"])').textContent`))
	require.NoError(t, err)
	n, err := strconv.Atoi(text)
	require.NoError(t, err)
	return n
}
