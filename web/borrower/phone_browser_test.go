package borrower_test

import (
	"net/http/httptest"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/nudgehq/nudge/link"
	"github.com/nudgehq/nudge/web/borrower"
	"github.com/nudgehq/nudge/web/internal/webtest"
)

// TestBorrowerPagesOnAPhone opens the borrower's pages on a 390 px wide
// phone: the self-service page (in each language, and after a promise),
// its expired-link page, and the unsubscribe page before and after the
// click. None scrolls sideways, and axe-core finds no serious or critical
// accessibility violation.
func TestBorrowerPagesOnAPhone(t *testing.T) {
	t.Parallel()
	ctx := webtest.Browser(t, webtest.PhoneWidth, webtest.PhoneHeight)
	require.NoError(t, chromedp.Do(ctx, webtest.Phone()))
	for _, lang := range []string{"en", "es", "zh-CN"} {
		b := ssSetup(t, lang)
		srv := httptest.NewServer(b.srv)
		t.Cleanup(srv.Close)
		require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(srv.URL+borrower.SelfServicePath+b.token()), chromedp.WaitVisible(chromedp.ID("promise-form"))))
		webtest.CheckPage(t, ctx, "self-service "+lang)
		if lang == "en" {
			require.NoError(t, chromedp.Do(ctx,
				chromedp.SetValue(chromedp.ID("date"), "2026-06-12"),
				chromedp.Click(chromedp.ID("promise-submit")),
				chromedp.WaitVisible(chromedp.ID("notice")),
			))
			webtest.CheckPage(t, ctx, "self-service after a promise")
			expired := b.token(func(l *link.Link) { l.ExpiresAt = ssT0.Add(-1) })
			require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(srv.URL+borrower.SelfServicePath+expired), chromedp.WaitVisible(chromedp.ID("heading"))))
			webtest.CheckPage(t, ctx, "self-service expired link")
		}
	}

	u := unsubSetup(t)
	srv := httptest.NewServer(u.srv)
	t.Cleanup(srv.Close)
	for _, acct := range []string{"A-zh", "A-mx", "A-none"} {
		require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(srv.URL+borrower.UnsubscribePath+u.token(unsubLender, acct)),
			chromedp.WaitVisible(chromedp.CSS("form button"))))
		webtest.CheckPage(t, ctx, "unsubscribe "+acct)
	}
	require.NoError(t, chromedp.Do(ctx, chromedp.Click(chromedp.CSS("form button")), chromedp.WaitNotPresent(chromedp.CSS("form button"))))
	webtest.CheckPage(t, ctx, "unsubscribe done")
}
