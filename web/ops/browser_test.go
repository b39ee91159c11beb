package ops_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/hibiken/asynq"
	"github.com/stretchr/testify/require"

	"github.com/nudgehq/nudge"
	"github.com/nudgehq/nudge/web/internal/webtest"
)

func opsScreenshot(t *testing.T, ctx context.Context, dir, name string) {
	t.Helper()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, name), png, 0o644))
	t.Logf("screenshot %s", filepath.Join(dir, name))
}

// opsChartInfo is what the browser sees of one dashboard chart.
type opsChartInfo struct {
	ID    string  `json:"id"`
	Total float64 `json:"total"`
	Marks int     `json:"marks"`
}

// TestOpsBrowser logs an operator in with a real browser, checks the
// overview's charts carry data, reads a suppressed reminder's reason on an
// account timeline, finds the lender's queue view and the shared queue
// monitor closed to it, and the monitor read-only for a platform viewer.
func TestOpsBrowser(t *testing.T) {
	t.Parallel()
	b := opsSetup(t)
	ctx := webtest.Browser(t, 1400, 1000)
	dir := webtest.Artifacts(t)

	// Log in: the overview redirects to the form and back.
	require.NoError(t, chromedp.Do(ctx,
		chromedp.Navigate(b.srv.URL+"/ops/"),
		chromedp.WaitVisible(chromedp.ID("key")),
		chromedp.SendKeys(chromedp.ID("key"), b.keys[nudge.RoleOperator]),
		chromedp.Click(chromedp.ID("login")),
		chromedp.WaitVisible(chromedp.ID("chart-sends")),
	))
	who, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("who")))
	require.NoError(t, err)
	require.Contains(t, who, "operator")
	// The tabs pick the range: the last 30 days hold the whole history.
	require.NoError(t, chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(`nav.tabs a[href*="range=30d"]`)),
		chromedp.WaitVisible(chromedp.CSS(`nav.tabs a[aria-current="page"][href*="range=30d"]`)),
	))

	// Every chart is drawn, from non-zero data, with real marks.
	charts, err := chromedp.Run(ctx, chromedp.Evaluate[[]opsChartInfo](`Array.from(document.querySelectorAll('figure.chart')).map(f => ({
		id: f.id, total: Number(f.dataset.total), marks: f.querySelectorAll('svg path, svg rect').length}))`))
	require.NoError(t, err)
	require.Len(t, charts, 3)
	for _, c := range charts {
		require.Positive(t, c.Total, "chart %s has data", c.ID)
		require.GreaterOrEqual(t, c.Marks, 3, "chart %s draws marks", c.ID)
	}
	opsScreenshot(t, ctx, dir, "ops-overview.png")

	// Account lookup: the suppressed reminder shows with its reason and rule.
	require.NoError(t, chromedp.Do(ctx,
		chromedp.Navigate(b.srv.URL+"/ops/accounts"),
		chromedp.WaitVisible(chromedp.ID("account-id")),
		chromedp.SendKeys(chromedp.ID("account-id"), opsSuppressedAccount),
		chromedp.Click(chromedp.ID("lookup")),
		chromedp.WaitVisible(chromedp.ID("timeline")),
	))
	reminders, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("reminders")))
	require.NoError(t, err)
	timeline, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("timeline")))
	require.NoError(t, err)
	require.Contains(t, reminders, "suppressed")
	require.Contains(t, reminders, "opted_out")
	require.Contains(t, timeline, "reason: opted_out")
	require.Contains(t, timeline, "rule: TCPA 47 CFR 64.1200")
	opsScreenshot(t, ctx, dir, "ops-account-timeline.png")

	// A lender's operator has its own queue view; the shared monitor, which
	// holds every lender's tasks, refuses it.
	require.NoError(t, chromedp.Do(ctx,
		chromedp.Navigate(b.srv.URL+"/ops/queue"),
		chromedp.WaitVisible(chromedp.ID("queue-counts")),
	))
	refused, err := chromedp.Run(ctx, chromedp.Evaluate[int](`fetch('/ops/queues/').then(r => r.status)`, chromedp.EvalAwaitPromise))
	require.NoError(t, err)
	require.Equal(t, 403, refused, "a lender's key cannot open the shared queue monitor")

	// The queue monitor loads from the binary, read-only for a platform viewer.
	require.NoError(t, chromedp.Do(ctx,
		chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
			_, err := chromedp.Call(ctx, network.ClearBrowserCookies, cdp.Empty{})
			return err
		}),
		chromedp.Navigate(b.srv.URL+"/ops/queues/"),
		chromedp.WaitVisible(chromedp.ID("key")),
		chromedp.SendKeys(chromedp.ID("key"), b.platform[nudge.RoleViewer]),
		chromedp.Click(chromedp.ID("login")),
		chromedp.WaitVisible(chromedp.ID("root")),
	))
	_, err = chromedp.Run(ctx, chromedp.Poll[bool](`document.body.innerText.includes('sms')`, chromedp.WithPollingTimeout(30*time.Second)))
	require.NoError(t, err, "asynqmon lists the sms queue")
	readOnly, err := chromedp.Run(ctx, chromedp.Evaluate[string](`window.FLAG_READ_ONLY`))
	require.NoError(t, err)
	require.Equal(t, "true", readOnly)
	status, err := chromedp.Run(ctx, chromedp.Evaluate[int](`fetch('/ops/queues/api/queues/sms/pending_tasks/`+b.taskIDs[0]+`', {method: 'DELETE'}).then(r => r.status)`,
		chromedp.EvalAwaitPromise))
	require.NoError(t, err)
	require.Equal(t, 403, status, "a platform viewer cannot delete a task")
	_, err = asynq.NewInspectorFromRedisClient(b.rdb).GetTaskInfo("sms", b.taskIDs[0])
	require.NoError(t, err, "the task is still queued")
	body, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("body")))
	require.NoError(t, err)
	require.False(t, strings.Contains(strings.ToLower(body), "delete all"), "no delete action is offered")
	opsScreenshot(t, ctx, dir, "ops-queues-platform-viewer.png")
}
