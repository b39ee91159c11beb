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

// planPhoneWidth is the viewport of the plan's browser test: a 390 px wide phone.
const planPhoneWidth, planPhoneHeight = 390, 844

// TestSelfServicePlanBrowser: a borrower on a 390 px phone opens the link,
// sees "Pay now" first, picks a 3-payment plan with the page's own forms
// (no script), sees its dates and amounts, confirms, and on a return visit
// sees the plan with each payment due instead of the same choices; no page
// is wider than the phone.
func TestSelfServicePlanBrowser(t *testing.T) {
	t.Parallel()
	b := ssSetup(t, "en")
	b.setPayments(t, ssPayURL, ssPlans)
	srv := httptest.NewServer(b.srv)
	t.Cleanup(srv.Close)
	ctx := webtest.Browser(t, ssPhoneWidth, ssPhoneHeight)
	dir := webtest.Artifacts(t)
	link := srv.URL + borrower.SelfServicePath + b.token()
	fits := func(what string) {
		t.Helper()
		width, err := chromedp.Run(ctx, chromedp.Evaluate[float64](`Math.max(document.documentElement.scrollWidth, document.body.scrollWidth)`))
		require.NoError(t, err)
		require.LessOrEqual(t, width, float64(planPhoneWidth), "%s: the page is no wider than a 390 px screen", what)
	}
	shot := func(name string) {
		t.Helper()
		png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
		require.NoError(t, err)
		path := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(path, png, 0o644))
		t.Logf("screenshot: %s", path)
	}

	require.NoError(t, chromedp.Do(ctx,
		chromedp.EmulateViewport(planPhoneWidth, planPhoneHeight, chromedp.EmulateScale(3), chromedp.EmulateMobile, chromedp.EmulateTouch),
		chromedp.Navigate(link),
		chromedp.WaitVisible(chromedp.ID("plan-form")),
	))
	fits("the page")
	first, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector('main a, main button').id`))
	require.NoError(t, err)
	require.Equal(t, "pay-now", first, "Pay now is the first thing to press")
	shot("selfservice-plan-390.png")

	require.NoError(t, chromedp.Do(ctx,
		chromedp.Click(chromedp.ID("plan-count-3")),
		chromedp.SetValue(chromedp.ID("plan-first"), "2026-06-08"),
		chromedp.Click(chromedp.ID("plan-preview-submit")),
		chromedp.WaitVisible(chromedp.ID("plan-preview")),
	))
	fits("the preview")
	preview, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("plan-preview")))
	require.NoError(t, err)
	for _, want := range []string{"June 8, 2026", "June 22, 2026", "July 6, 2026", "$137.50"} {
		require.Contains(t, preview, want)
	}
	shot("selfservice-plan-preview-390.png")
	require.NoError(t, chromedp.Do(ctx,
		chromedp.Click(chromedp.ID("plan-confirm")),
		chromedp.WaitVisible(chromedp.ID("notice")),
	))
	notice, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("notice")))
	require.NoError(t, err)
	require.Contains(t, notice, "Your plan of 3 payments is set")

	// A return visit, as from the next message's link.
	require.NoError(t, chromedp.Do(ctx,
		chromedp.Navigate(link),
		chromedp.WaitVisible(chromedp.ID("plan-state")),
	))
	fits("the return visit")
	state, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("plan-state")))
	require.NoError(t, err)
	require.Equal(t, 3, strings.Count(state, "Due"), state)
	for _, want := range []string{"June 8, 2026", "June 22, 2026", "July 6, 2026", "You have a payment plan"} {
		require.Contains(t, state, want)
	}
	forms, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll('#plan-form, #promise-form, #paid-form').length`))
	require.NoError(t, err)
	require.Zero(t, forms, "the return visit shows the plan, not the same choices")
	shot("selfservice-plan-return-390.png")

	ps, err := b.db.ListPromises(context.Background(), "acme", "A-1")
	require.NoError(t, err)
	require.Len(t, ps, 3)
	for _, p := range ps {
		require.Equal(t, nudge.PromisePending, p.Status)
	}
	b.requirePaused(t, nudge.ReasonPromiseActive)
}
