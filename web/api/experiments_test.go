package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/nudgehq/nudge"
	"github.com/nudgehq/nudge/web/internal/webtest"
)

// prepareExperiment stores and activates acme's experiment cadence and
// sends, under it, sent[arm] SMS per arm, delivered[arm] of them delivered.
func prepareExperiment(t *testing.T, b *apiBundle, sent, delivered map[string]int) {
	t.Helper()
	ctx := context.Background()
	v, err := b.db.PutCadence(ctx, "acme", "late-test", []byte(webtest.ExperimentCadence), apiT0)
	require.NoError(t, err)
	require.NoError(t, b.db.ActivateCadence(ctx, "acme", "late-test", v))
	for arm, n := range sent {
		for i := range n {
			id := fmt.Sprintf("X-%s-%d", arm, i)
			acct := nudge.Account{ID: id, Lender: "acme", Portfolio: "auto", Borrower: nudge.Borrower{Name: "Bo", Language: "en"},
				Contacts: []nudge.Contact{{Channel: nudge.SMS, Address: "+12125550124", Consent: true}},
				Currency: "USD", AmountDue: "10.00", DueDate: nudge.MustDate("2026-05-31"), Status: nudge.StatusActive}
			require.NoError(t, b.db.UpsertAccounts(ctx, []nudge.Account{acct}, apiT0))
			rs, err := b.db.InsertReminders(ctx, []nudge.Reminder{{Key: nudge.ReminderKey{Lender: "acme", AccountID: id, Cadence: "late-test",
				Step: "late-sms", Cycle: acct.DueDate}, CadenceVersion: v, Arm: arm, Channel: nudge.SMS, Template: "late_sms",
				DueAt: apiT0, Status: nudge.ReminderQueued, CreatedAt: apiT0}})
			require.NoError(t, err)
			a, err := b.db.ClaimAttempt(ctx, nudge.Attempt{ReminderID: rs[0].ID, Lender: "acme", AccountID: id, Channel: nudge.SMS,
				Address: "+12125550124", Status: nudge.AttemptSending, CreatedAt: apiT0}, nil)
			require.NoError(t, err)
			status := nudge.AttemptUndelivered
			if i < delivered[arm] {
				status = nudge.AttemptDelivered
			}
			_, err = b.db.UpdateAttempt(ctx, a.ID, nudge.AttemptUpdate{Status: status, At: apiT0})
			require.NoError(t, err)
		}
	}
}

func experimentRouteCases() map[string]routeCase {
	prepare := func(t *testing.T, b *apiBundle) { prepareExperiment(t, b, nil, nil) }
	return map[string]routeCase{
		"GET /v1/experiments": {method: "GET", path: "/v1/experiments", happy: 200, foreign: 200, prepare: prepare,
			check: func(t *testing.T, _ *apiBundle, body string) {
				require.Contains(t, body, "firm-late-sms")
			}},
		"POST /v1/experiments/{cadence}/promote": {method: "POST", path: "/v1/experiments/late-test/promote", contentType: "application/json",
			body: `{"arm": "firm"}`, happy: 200, foreign: 404, prepare: prepare,
			check: func(t *testing.T, b *apiBundle, _ string) {
				cv, err := b.db.GetCadence(context.Background(), "acme", "late-test", 0)
				require.NoError(t, err)
				require.Equal(t, 2, cv.Version)
			}},
	}
}

// experimentsJSON is the answer of GET /v1/experiments, as a client reads it.
type experimentsJSON struct {
	Data []struct {
		Cadence       string  `json:"cadence"`
		Version       int     `json:"version"`
		Experiment    string  `json:"experiment"`
		Running       bool    `json:"running"`
		PrimaryMetric string  `json:"primary_metric"`
		SampleReached bool    `json:"sample_reached"`
		Better        *string `json:"better"`
		Arms          []struct {
			Arm    string                     `json:"arm"`
			Counts map[string]int64           `json:"counts"`
			Rates  map[string]json.RawMessage `json:"rates"`
		} `json:"arms"`
		Comparison struct {
			Metric string `json:"metric"`
			Tests  []struct {
				Champion, Challenger string
				Z, P                 float64
			} `json:"tests"`
			Alpha float64 `json:"alpha"`
		} `json:"comparison"`
	} `json:"data"`
}

// TestAPIExperiments: a viewer reads acme's experiment with each arm's
// counters, its delivery rate with a Wilson interval, the z-test of the
// challenger and no better arm before the stop rule's sample; beta sees
// none of it.
func TestAPIExperiments(t *testing.T) {
	t.Parallel()
	b := setupAPI(t)
	prepareExperiment(t, b, map[string]int{"kind": 4, "firm": 3}, map[string]int{"kind": 1, "firm": 3})

	code, body := b.do(t, "viewer", "GET", "/v1/experiments", "", "")
	require.Equal(t, http.StatusOK, code, body)
	var got experimentsJSON
	require.NoError(t, json.Unmarshal([]byte(body), &got))
	require.Len(t, got.Data, 1, body)
	e := got.Data[0]
	require.Equal(t, "late-test", e.Cadence)
	require.Equal(t, "firm-late-sms", e.Experiment)
	require.Equal(t, "promise_rate", e.PrimaryMetric)
	require.True(t, e.Running)
	require.False(t, e.SampleReached)
	require.Nil(t, e.Better, "no better arm before the sample")
	require.Contains(t, body, `"better":null`)
	require.Len(t, e.Arms, 2)
	require.Equal(t, "kind", e.Arms[0].Arm, "the champion first")
	require.Equal(t, int64(4), e.Arms[0].Counts["sent"])
	require.Equal(t, int64(1), e.Arms[0].Counts["delivered"])
	require.Equal(t, int64(3), e.Arms[1].Counts["sent"])
	require.Equal(t, int64(3), e.Arms[1].Counts["delivered"])
	var delivery struct {
		Num, Den  int64
		Low, High float64
	}
	require.NoError(t, json.Unmarshal(e.Arms[1].Rates["delivery_rate"], &delivery), "rates: %v", e.Arms[1].Rates)
	require.Equal(t, int64(3), delivery.Num)
	require.Equal(t, int64(3), delivery.Den)
	require.InDelta(t, 0.439, delivery.Low, 0.001, "the 95%% Wilson interval of 3/3")
	require.InDelta(t, 1.0, delivery.High, 1e-9)
	require.Equal(t, "promise_rate", e.Comparison.Metric)
	require.Len(t, e.Comparison.Tests, 1)
	require.Equal(t, "firm", e.Comparison.Tests[0].Challenger)
	require.Equal(t, 0.05, e.Comparison.Alpha)

	code, body = b.do(t, "beta", "GET", "/v1/experiments", "", "")
	require.Equal(t, http.StatusOK, code, body)
	require.JSONEq(t, `{"data": []}`, body, "another lender sees none of acme's experiments")
}

// TestAPIPromoteArm: an admin's promotion stores and activates a version
// with the arm's steps and no experiment, audited as the console audits
// it; an unknown or missing arm names the field and stores nothing; a
// cadence without an experiment conflicts; another lender's cadence is
// not found.
func TestAPIPromoteArm(t *testing.T) {
	t.Parallel()
	b := setupAPI(t)
	prepareExperiment(t, b, nil, nil)
	ctx := context.Background()
	versions := func() int {
		t.Helper()
		vs, err := b.db.ListCadences(ctx, "acme")
		require.NoError(t, err)
		return len(vs)
	}
	stored := versions()

	tests := []struct {
		name, key, path, body string
		code                  int
		field, says           string
	}{
		{name: "unknown arm", key: "admin", path: "/v1/experiments/late-test/promote", body: `{"arm": "bold"}`, code: http.StatusUnprocessableEntity, field: "arm", says: "(arms: [kind firm])"},
		{name: "no arm", key: "admin", path: "/v1/experiments/late-test/promote", body: `{"arm": " "}`, code: http.StatusBadRequest, field: "arm", says: "is required"},
		{name: "unknown field", key: "admin", path: "/v1/experiments/late-test/promote", body: `{"arm": "firm", "force": true}`, code: http.StatusBadRequest, says: "force"},
		{name: "no experiment", key: "admin", path: "/v1/experiments/minimal/promote", body: `{"arm": "firm"}`, code: http.StatusConflict, says: "no experiment"},
		{name: "no such cadence", key: "admin", path: "/v1/experiments/nosuch/promote", body: `{"arm": "firm"}`, code: http.StatusNotFound, says: "nosuch"},
		{name: "another lender's cadence", key: "beta", path: "/v1/experiments/late-test/promote", body: `{"arm": "firm"}`, code: http.StatusNotFound},
		{name: "operator", key: "operator", path: "/v1/experiments/late-test/promote", body: `{"arm": "firm"}`, code: http.StatusForbidden},
	}
	for _, tt := range tests {
		code, body := b.do(t, tt.key, "POST", tt.path, "application/json", tt.body)
		require.Equal(t, tt.code, code, "%s: %s", tt.name, body)
		if tt.field != "" {
			require.Contains(t, body, `"field":"`+tt.field+`"`, tt.name)
		}
		require.Contains(t, body, tt.says, tt.name)
		require.Equal(t, stored, versions(), "%s stores nothing", tt.name)
	}
	require.Equal(t, 0, b.auditCount(t, b.keyIDs["admin"]), "a refused promotion is not audited")

	code, body := b.do(t, "admin", "POST", "/v1/experiments/late-test/promote", "application/json", `{"arm": "firm"}`)
	require.Equal(t, http.StatusOK, code, body)
	require.JSONEq(t, `{"cadence": "late-test", "arm": "firm", "version": 2, "active": true}`, body)
	cads, err := b.api.Cadences.Cadences(ctx, "acme")
	require.NoError(t, err)
	var promoted bool
	for _, c := range cads {
		if c.Name != "late-test" {
			continue
		}
		promoted = true
		require.Equal(t, 2, c.Version)
		require.Nil(t, c.Experiment, "the promoted version has no experiment")
		s, _, ok := c.Step("late-sms")
		require.True(t, ok)
		require.Equal(t, "late_firm_sms", s.Template, "the arm's steps become the cadence's")
	}
	require.True(t, promoted)
	audit, err := b.db.ListAudit(ctx, "acme")
	require.NoError(t, err)
	last := audit[len(audit)-1]
	require.Equal(t, b.keyIDs["admin"], last.Actor)
	require.Equal(t, "cadence.promote", last.Action)
	require.Equal(t, "late-test", last.Target)
	require.True(t, strings.HasPrefix(last.Detail, "arm firm of experiment firm-late-sms (version 1) promoted to version 2"), last.Detail)

	code, body = b.do(t, "viewer", "GET", "/v1/experiments", "", "")
	require.Equal(t, http.StatusOK, code, body)
	require.JSONEq(t, `{"data": []}`, body, "the promoted cadence runs no experiment")
}
