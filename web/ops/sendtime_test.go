package ops_test

import (
	"context"
	"html"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/nudgehq/nudge"
	"github.com/nudgehq/nudge/compliance"
	"github.com/nudgehq/nudge/schedules"
	"github.com/nudgehq/nudge/sendtime"
	"github.com/nudgehq/nudge/templates"
	"github.com/nudgehq/nudge/web/internal/webtest"
	"github.com/nudgehq/nudge/web/ops"
)

// sendTimeCounts is a send-time ledger written by hand: own and pool are
// the rows it answers, whatever is asked.
type sendTimeCounts struct{ own, pool []sendtime.Row }

func (s sendTimeCounts) RollupSendTimes(context.Context, string, time.Time, time.Duration) error {
	return nil
}

func (s sendTimeCounts) SendTimeCounts(context.Context, string, []string) ([]sendtime.Row, error) {
	return s.own, nil
}

func (s sendTimeCounts) SendTimePool(context.Context, string) ([]sendtime.Row, error) {
	return s.pool, nil
}

// TestOpsAccountSendTime: the account page shows, per channel, the hour
// send-time optimisation would choose today and each hour's evidence (the
// borrower's own successes/trials, those of similar borrowers with the
// borrower's left out, the posterior mean and the value drawn), with the
// switch off as on, in English, Spanish and Chinese; an account no active
// cadence covers gets a note instead.
func TestOpsAccountSendTime(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	seg := sendtime.Segment{Portfolio: "auto", Language: "en", Zone: "America/Chicago"}
	counts := sendTimeCounts{
		own:  []sendtime.Row{{AccountID: "ST-1", Segment: seg, Channel: nudge.SMS, Hour: 14, Count: sendtime.Count{Trials: 4, Successes: 3}}},
		pool: []sendtime.Row{{Segment: seg, Channel: nudge.SMS, Hour: 14, Count: sendtime.Count{Trials: 20, Successes: 10}}},
	}
	reg := compliance.NewRegistry()
	opts := []schedules.Option{schedules.WithTemplates(templates.Default()),
		schedules.WithProfiles(func(name string) bool { _, err := reg.Lookup(name); return err == nil })}
	b := opsSetup(t, func(c *ops.OpsConfig) {
		c.Cadences = schedules.NewLibrary(c.Store.(schedules.CadenceStore), reg, opts...)
		c.SendTime = &sendtime.Optimiser{Source: counts, Seed: 7}
	})
	v, err := b.db.PutCadence(ctx, "acme", "late-test", []byte(webtest.ExperimentCadence), opsT0)
	require.NoError(t, err)
	require.NoError(t, b.db.ActivateCadence(ctx, "acme", "late-test", v))
	covered := opsAccount("acme", "ST-1", "+15125550777")
	covered.Portfolio, covered.Borrower.Language = "auto", "en"
	other := opsAccount("acme", "ST-2", "+15125550778")
	other.Portfolio = "mortgage"
	require.NoError(t, b.db.UpsertAccounts(ctx, []nudge.Account{covered, other}, opsT0))

	c := b.client(t)
	require.Equal(t, http.StatusSeeOther, c.login(b.keys[nudge.RoleViewer]).StatusCode)
	resp, page := c.do(http.MethodGet, "/ops/accounts/ST-1", nil, nil)
	require.Equal(t, http.StatusOK, resp.StatusCode, page)
	page = html.UnescapeString(page)
	for _, want := range []string{
		`id="send-time"`, "Send-time optimisation is off for this lender",
		`id="send-time-sms"`, `id="send-time-voice"`, `id="send-time-email"`,
		"Chosen: 2026-06-15 ", "in America/Chicago); best estimate hour 14.",
		"<td>14:00", "<td>3/4</td><td>7/16</td><td>0.635</td>", // (1 + 8/18 + 3) / (2 + 1 + 4)
		"<td>0/0</td><td>0/0</td><td>0.500</td>", // no evidence: Beta(1, 1)
		"<strong>chosen</strong>",
	} {
		require.Contains(t, page, want)
	}
	require.NotContains(t, page, "<td>08:00", "hours already past are not candidates")

	for lang, want := range map[string][]string{
		"es": {"Hora de envío", "Elegida: 2026-06-15 ", "hora de mejor estimación 14", "<td>3/4</td><td>7/16</td><td>0.635</td>"},
		"zh": {"发送时间", "已选：2026-06-15 ", "最佳估计为 14 时", "<td>3/4</td><td>7/16</td><td>0.635</td>"},
	} {
		_, page := c.do(http.MethodGet, "/ops/accounts/ST-1", nil, map[string]string{"Accept-Language": lang})
		page = html.UnescapeString(page)
		for _, w := range want {
			require.Contains(t, page, w, lang)
		}
	}

	_, page = c.do(http.MethodGet, "/ops/accounts/ST-2", nil, nil)
	require.Contains(t, html.UnescapeString(page), "No active cadence covers this account, so no send time is chosen for it.")
	require.NotContains(t, page, `id="send-time-sms"`)
}
