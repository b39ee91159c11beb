package ops_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/nudgehq/nudge"
	"github.com/nudgehq/nudge/compliance"
	"github.com/nudgehq/nudge/schedules"
	"github.com/nudgehq/nudge/templates"
	"github.com/nudgehq/nudge/web/internal/webtest"
	"github.com/nudgehq/nudge/web/ops"
)

// TestOpsExperimentsPromote: the page lists the active cadence's
// experiment with its arms and an undecided verdict; a viewer sees no
// promote form and is refused when posting one; an admin's promotion stores
// and activates a new version whose steps are the arm's, without the
// experiment, and audits it; an unknown arm is refused and writes nothing.
func TestOpsExperimentsPromote(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	reg := compliance.NewRegistry()
	var lib *schedules.Library
	opts := []schedules.Option{schedules.WithTemplates(templates.Default()),
		schedules.WithProfiles(func(name string) bool { _, err := reg.Lookup(name); return err == nil })}
	b := opsSetup(t, func(c *ops.OpsConfig) {
		lib = schedules.NewLibrary(c.Store.(schedules.CadenceStore), reg, opts...)
		c.Cadences, c.CadenceOptions = lib, opts
	})
	v, err := b.db.PutCadence(ctx, "acme", "late-test", []byte(webtest.ExperimentCadence), opsT0)
	require.NoError(t, err)
	require.NoError(t, b.db.ActivateCadence(ctx, "acme", "late-test", v))

	viewer := b.client(t)
	require.Equal(t, http.StatusSeeOther, viewer.login(b.keys[nudge.RoleViewer]).StatusCode)
	resp, page := viewer.do(http.MethodGet, "/ops/experiments", nil, nil)
	require.Equal(t, http.StatusOK, resp.StatusCode, page)
	for _, want := range []string{"firm-late-sms", "kind", "firm", "Not decided"} {
		require.Contains(t, page, want)
	}
	require.NotContains(t, page, "/ops/experiments/promote", "a viewer gets no promote form")
	resp, _ = viewer.do(http.MethodPost, "/ops/experiments/promote",
		url.Values{"csrf": {opsCSRF(t, page)}, "cadence": {"late-test"}, "arm": {"firm"}}, nil)
	require.Equal(t, http.StatusForbidden, resp.StatusCode)

	admin := b.client(t)
	require.Equal(t, http.StatusSeeOther, admin.login(b.keys[nudge.RoleAdmin]).StatusCode)
	_, page = admin.do(http.MethodGet, "/ops/experiments", nil, nil)
	require.Contains(t, page, "/ops/experiments/promote")
	csrf := opsCSRF(t, page)
	resp, body := admin.do(http.MethodPost, "/ops/experiments/promote",
		url.Values{"csrf": {csrf}, "cadence": {"late-test"}, "arm": {"nosuch"}}, nil)
	require.Equal(t, http.StatusBadRequest, resp.StatusCode, body)
	vs, err := b.db.ListCadences(ctx, "acme")
	require.NoError(t, err)
	require.Len(t, vs, 1, "a refused promotion stores nothing")

	resp, body = admin.do(http.MethodPost, "/ops/experiments/promote",
		url.Values{"csrf": {csrf}, "cadence": {"late-test"}, "arm": {"firm"}}, nil)
	require.Equal(t, http.StatusOK, resp.StatusCode, body)
	require.Contains(t, body, "Arm firm is now cadence late-test version 2.")

	active, err := lib.Cadences(ctx, "acme")
	require.NoError(t, err)
	require.Len(t, active, 1)
	c := active[0]
	require.Equal(t, 2, c.Version)
	require.Nil(t, c.Experiment, "the promoted version has no experiment")
	s, _, ok := c.Step("late-sms")
	require.True(t, ok)
	require.Equal(t, "late_firm_sms", s.Template, "the arm's steps become the cadence's")

	audit, err := b.db.ListAudit(ctx, "acme")
	require.NoError(t, err)
	var promoted []string
	for _, e := range audit {
		if e.Action == "cadence.promote" {
			promoted = append(promoted, e.Target+": "+e.Detail)
		}
	}
	require.Len(t, promoted, 1)
	require.True(t, strings.HasPrefix(promoted[0], "late-test: arm firm of experiment firm-late-sms (version 1) promoted to version 2"), promoted[0])
}
