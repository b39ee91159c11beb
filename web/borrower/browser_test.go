package borrower_test

import (
	"context"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/nudgehq/nudge"
	"github.com/nudgehq/nudge/web/borrower"
	"github.com/nudgehq/nudge/web/internal/webtest"
)

// ssPhoneWidth and ssPhoneHeight are the viewport of the browser test: a
// 375 px wide phone.
const ssPhoneWidth, ssPhoneHeight = 375, 812

// TestSelfServiceBrowser opens a borrower's link in headless Chromium on a
// phone-sized screen, promises a payment with the page's own form (the page
// has no script), and checks that the promise is recorded and the cadence
// paused: the account has an active promise and its queued reminder is
// canceled, its task gone from the queue.
func TestSelfServiceBrowser(t *testing.T) {
	t.Parallel()
	b := ssSetup(t, "en")
	srv := httptest.NewServer(b.srv)
	t.Cleanup(srv.Close)
	ctx := webtest.Browser(t, ssPhoneWidth, ssPhoneHeight)
	dir := webtest.Artifacts(t)

	require.NoError(t, chromedp.Do(ctx,
		chromedp.EmulateViewport(ssPhoneWidth, ssPhoneHeight, chromedp.EmulateScale(2), chromedp.EmulateMobile, chromedp.EmulateTouch),
		chromedp.Navigate(srv.URL+borrower.SelfServicePath+b.token()),
		chromedp.WaitVisible(chromedp.ID("promise-form")),
	))
	due, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("amount-due")))
	require.NoError(t, err)
	require.Equal(t, "$412.50", strings.TrimSpace(due))
	lang, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.documentElement.lang`))
	require.NoError(t, err)
	require.Equal(t, "en", lang)

	// Mobile-first: nothing is wider than the phone, and every button is a
	// large tap target.
	fits, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.documentElement.scrollWidth <= window.innerWidth`))
	require.NoError(t, err)
	require.True(t, fits, "the page fits a 375 px screen without scrolling sideways")
	smallest, err := chromedp.Run(ctx, chromedp.Evaluate[float64](
		`Math.min(...[...document.querySelectorAll('button, input[type=date], input[type=text], label.check')].map(e => e.getBoundingClientRect().height))`))
	require.NoError(t, err)
	require.GreaterOrEqual(t, smallest, 44.0, "tap targets are at least 44 px high")
	width, err := chromedp.Run(ctx, chromedp.Evaluate[float64](`document.getElementById('promise-submit').getBoundingClientRect().width`))
	require.NoError(t, err)
	require.Greater(t, width, 250.0, "buttons span the width of a phone")

	require.NoError(t, chromedp.Do(ctx,
		chromedp.SetValue(chromedp.ID("date"), "2026-06-12"),
		chromedp.Clear(chromedp.ID("amount")),
		chromedp.SendKeys(chromedp.ID("amount"), "250.00"),
		chromedp.Click(chromedp.ID("promise-submit")),
		chromedp.WaitVisible(chromedp.ID("notice")),
	))
	notice, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("notice")))
	require.NoError(t, err)
	require.Contains(t, notice, "We recorded your promise to pay $250.00 by June 12, 2026")
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	require.NoError(t, err)
	shot := filepath.Join(dir, "selfservice-promise-375.png")
	require.NoError(t, os.WriteFile(shot, png, 0o644))
	t.Logf("screenshot: %s", shot)

	p, err := b.db.ActivePromise(context.Background(), "acme", "A-1")
	require.NoError(t, err, "the promise is recorded")
	require.Equal(t, nudge.MustDate("2026-06-12"), p.Due)
	require.Equal(t, "250.00", p.Amount)
	require.Equal(t, nudge.SMS, p.Channel)
	b.requirePaused(t, nudge.ReasonPromiseActive)
}
