package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/nudgehq/nudge"
	"github.com/nudgehq/nudge/compliance"
	"github.com/nudgehq/nudge/dispatcher"
	"github.com/nudgehq/nudge/payment"
	"github.com/nudgehq/nudge/response"
	"github.com/nudgehq/nudge/schedules"
	"github.com/nudgehq/nudge/store"
	"github.com/nudgehq/nudge/templates"
	"github.com/nudgehq/nudge/web"
	"github.com/nudgehq/nudge/web/api"
)

// apiT0 is a Monday 15:00 UTC: inside US calling hours in every zone.
var apiT0 = time.Date(2026, 6, 1, 15, 0, 0, 0, time.UTC)

const minimalCadence = `name: minimal
profile: us
applies_to:
  days_past_due: {min: -5, max: 30}
steps:
  - id: predue-sms
    day: -3
    at: "10:00"
    channel: sms
    template: predue_sms
  - id: late-voice
    day: 5
    at: "17:30"
    channel: voice
    template: late_voice
`

// apiBundle is one API over a fresh SQLite store and miniredis, with lender
// acme (a key per role and one account with history) and lender beta.
type apiBundle struct {
	db     *store.DB
	mr     *miniredis.Miniredis
	clock  *nudge.FixedClock
	api    *api.API
	srv    *web.Server
	keys   map[string]string // admin, operator, viewer (acme) and beta (beta admin)
	keyIDs map[string]string
	// reminderID is A-1's queued reminder; promiseID its pending promise.
	reminderID, promiseID string
}

type bundleOption func(*api.API)

func setupAPI(t *testing.T, opts ...bundleOption) *apiBundle {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, "sqlite://"+filepath.Join(t.TempDir(), "nudge.db"))
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, db.Close()) })
	require.NoError(t, db.Migrate(ctx))
	mr := miniredis.RunT(t)
	rdb := redis.NewClient(&redis.Options{Addr: mr.Addr()})
	t.Cleanup(func() { _ = rdb.Close() })
	clock := nudge.NewFixedClock(apiT0)

	b := &apiBundle{db: db, mr: mr, clock: clock, keys: map[string]string{}, keyIDs: map[string]string{}}
	for _, l := range []string{"acme", "beta"} {
		require.NoError(t, db.UpsertLender(ctx, nudge.Lender{ID: l, Name: strings.ToUpper(l), Language: "en",
			HelpPhone: "+18005550100", AgentPhone: "+18005550101", CreatedAt: apiT0}))
	}
	for name, k := range map[string]struct {
		lender string
		role   nudge.Role
	}{"admin": {"acme", nudge.RoleAdmin}, "operator": {"acme", nudge.RoleOperator}, "viewer": {"acme", nudge.RoleViewer}, "beta": {"beta", nudge.RoleAdmin}} {
		token, key, err := web.NewAPIKey(k.lender, k.role, apiT0)
		require.NoError(t, err)
		require.NoError(t, db.CreateAPIKey(ctx, key))
		b.keys[name], b.keyIDs[name] = token, key.ID
	}

	acct := nudge.Account{ID: "A-1", Lender: "acme", Portfolio: "auto",
		Borrower: nudge.Borrower{Name: "Ana Diaz", Language: "en"}, Address: &nudge.Address{Country: "US", Region: "NY"},
		Contacts: []nudge.Contact{{Channel: nudge.SMS, Address: "+12125550123", Consent: true}, {Channel: nudge.Voice, Address: "+12125550123", Consent: true},
			{Channel: nudge.Email, Address: "ana@example.com"}},
		Currency: "USD", AmountDue: "412.50", DueDate: nudge.MustDate("2026-06-04"), Status: nudge.StatusActive,
		Holds: []nudge.Hold{{Kind: nudge.HoldHardship, Reason: "job loss"}}}
	require.NoError(t, db.UpsertAccounts(ctx, []nudge.Account{acct}, apiT0))
	v, err := db.PutCadence(ctx, "acme", "minimal", []byte(minimalCadence), apiT0)
	require.NoError(t, err)
	require.NoError(t, db.ActivateCadence(ctx, "acme", "minimal", v))
	rs, err := db.InsertReminders(ctx, []nudge.Reminder{{Key: nudge.ReminderKey{Lender: "acme", AccountID: "A-1", Cadence: "minimal",
		Step: "predue-sms", Cycle: acct.DueDate}, Channel: nudge.SMS, Template: "predue_sms", DueAt: apiT0, Status: nudge.ReminderQueued, CreatedAt: apiT0}})
	require.NoError(t, err)
	b.reminderID = rs[0].ID
	_, err = db.ClaimAttempt(ctx, nudge.Attempt{ID: "att-1", ReminderID: b.reminderID, Lender: "acme", AccountID: "A-1", Channel: nudge.SMS,
		Address: "+12125550123", CreatedAt: apiT0.Add(-time.Hour)}, nil)
	require.NoError(t, err)
	b.promiseID = "prm-1"
	require.NoError(t, db.InsertPromise(ctx, nudge.Promise{ID: b.promiseID, Lender: "acme", AccountID: "A-1", Amount: "412.50",
		Currency: "USD", Due: nudge.MustDate("2026-06-10"), Channel: nudge.SMS, CreatedAt: apiT0.Add(-time.Hour)}))
	_, err = db.AddOptOut(ctx, nudge.OptOut{Lender: "acme", Channel: nudge.Email, Address: "old@example.com", Source: "email_link", CreatedAt: apiT0})
	require.NoError(t, err)
	require.NoError(t, db.AppendEvent(ctx, nudge.Event{Lender: "acme", AccountID: "A-1", ReminderID: b.reminderID, Kind: nudge.EventDecision,
		Action: "suppress", Reason: nudge.ReasonHold, Rule: "lender policy", At: apiT0}))

	pack := templates.Default()
	reg := compliance.NewRegistry()
	copts := []schedules.Option{schedules.WithTemplates(pack),
		schedules.WithProfiles(func(n string) bool { _, err := reg.Lookup(n); return err == nil })}
	enq := dispatcher.NewEnqueuer(rdb, dispatcher.EnqueuerConfig{Clock: clock})
	b.api = &api.API{
		Store: db, Tasks: enq, Control: &dispatcher.Control{Store: db, Queue: enq, Clock: clock}, Pack: pack, Profiles: reg,
		Cadences: schedules.NewLibrary(db, reg, copts...), CadenceOptions: copts, Clock: clock,
		PublicURL: "https://nudge.example.com", Webhooks: db,
		WorkItems:  workItemsOf{DB: db, replies: &response.Handler{Store: db, Tasks: enq, Clock: clock}},
		Forecaster: &fakeForecaster{},
	}
	if b.api.Sealer, err = payment.NewSealer([]byte(strings.Repeat("k", 32))); err != nil {
		t.Fatal(err)
	}
	for _, o := range opts {
		o(b.api)
	}
	b.srv = web.NewServer(nil, nil)
	b.api.Register(b.srv)
	return b
}

// do sends a request with the named key ("" for none) and returns the
// status and body.
func (b *apiBundle) do(t *testing.T, key, method, path, contentType, body string) (int, string) {
	t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req := httptest.NewRequest(method, path, r)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+b.keys[key])
	}
	rec := httptest.NewRecorder()
	b.srv.ServeHTTP(rec, req)
	return rec.Code, rec.Body.String()
}

func (b *apiBundle) auditCount(t *testing.T, actor string) int {
	t.Helper()
	all, err := b.db.ListAudit(context.Background(), "acme")
	require.NoError(t, err)
	n := 0
	for _, a := range all {
		if a.Actor == actor {
			n++
		}
	}
	return n
}

const goodAccountJSON = `[{"id": "A-2", "lender": "acme", "borrower": {"name": "Bo"}, "contacts": [{"channel": "email", "address": "bo@example.com"}],
 "currency": "USD", "amount_due": "10.00", "due_date": "2026-06-20"}]`

// routeCase drives one route: its happy request and what a key of another
// lender gets (404, or 200 without acme's records for a lender-wide list).
type routeCase struct {
	method, path, contentType, body string
	happy                           int
	foreign                         int
	// prepare, when set, readies the fixture before the requests.
	prepare func(t *testing.T, b *apiBundle)
	check   func(t *testing.T, b *apiBundle, body string)
}

func routeCases() map[string]routeCase {
	return map[string]routeCase{
		"POST /v1/accounts": {method: "POST", path: "/v1/accounts", contentType: "application/json", body: goodAccountJSON, happy: 200, foreign: 400,
			check: func(t *testing.T, b *apiBundle, _ string) {
				a, err := b.db.GetAccount(context.Background(), "acme", "A-2")
				require.NoError(t, err)
				require.Equal(t, "Bo", a.Borrower.Name)
			}},
		"GET /v1/accounts/{id}": {method: "GET", path: "/v1/accounts/A-1", happy: 200, foreign: 404,
			check: func(t *testing.T, b *apiBundle, body string) {
				var got struct {
					Account  nudge.Account `json:"account"`
					Timeline struct {
						Reminders []map[string]any `json:"reminders"`
						Decisions []map[string]any `json:"decisions"`
						Attempts  []map[string]any `json:"attempts"`
						Promises  []map[string]any `json:"promises"`
					} `json:"timeline"`
				}
				require.NoError(t, json.Unmarshal([]byte(body), &got))
				require.Equal(t, "A-1", got.Account.ID)
				require.Len(t, got.Timeline.Reminders, 1)
				require.Len(t, got.Timeline.Attempts, 1)
				require.Len(t, got.Timeline.Promises, 1)
				require.Len(t, got.Timeline.Decisions, 1)
				require.Equal(t, "hold", got.Timeline.Decisions[0]["reason"])
				require.Equal(t, "lender policy", got.Timeline.Decisions[0]["rule"])
			}},
		"POST /v1/accounts/{id}/payments": {method: "POST", path: "/v1/accounts/A-1/payments", contentType: "application/json",
			body: `{"amount": "412.50", "reference": "chk-9"}`, happy: 200, foreign: 404,
			check: func(t *testing.T, b *apiBundle, body string) {
				ctx := context.Background()
				a, err := b.db.GetAccount(ctx, "acme", "A-1")
				require.NoError(t, err)
				require.Equal(t, nudge.StatusPaid, a.Status)
				r, err := b.db.GetReminder(ctx, b.reminderID)
				require.NoError(t, err)
				require.Equal(t, nudge.ReminderCanceled, r.Status)
				ps, err := b.db.ListPromises(ctx, "acme", "A-1")
				require.NoError(t, err)
				require.Equal(t, nudge.PromiseKept, ps[0].Status)
				require.JSONEq(t, `{"account_id": "A-1", "payment_id": "chk-9", "status": "paid", "canceled": 1, "promise_kept": "prm-1", "promises_kept": ["prm-1"]}`, body)
				pays, err := b.db.ListPayments(ctx, "acme", "A-1")
				require.NoError(t, err)
				require.Len(t, pays, 1)
				require.Equal(t, nudge.PaymentSourceAPI, pays[0].Source)
			}},
		"GET /v1/payments/settings": {method: "GET", path: "/v1/payments/settings", happy: 200, foreign: 200,
			prepare: func(t *testing.T, b *apiBundle) {
				ctx := context.Background()
				l, err := b.db.GetLender(ctx, "acme")
				require.NoError(t, err)
				l.PaymentURL = "https://pay.acme.example/pay?ref={account}"
				l.Plans = nudge.PlanRules{MaxInstalments: 3, MinInstalment: "50.00", IntervalDays: 14, MaxDays: 60}
				require.NoError(t, b.db.UpsertLender(ctx, l))
				require.NoError(t, b.db.SetPaymentWebhookSecret(ctx, "acme", "v1:sealed"))
			},
			check: func(t *testing.T, _ *apiBundle, body string) {
				require.JSONEq(t, `{"url": "https://pay.acme.example/pay?ref={account}", "webhook_secret_set": true,
					"webhook_url": "https://nudge.example.com/webhooks/payments",
					"plans": {"max_instalments": 3, "min_instalment": "50.00", "interval_days": 14, "max_days": 60}}`, body)
			}},
		"POST /v1/payments/webhook-secret": {method: "POST", path: "/v1/payments/webhook-secret", happy: 201, foreign: 201,
			check: func(t *testing.T, b *apiBundle, body string) {
				var got struct {
					Secret          string `json:"secret"`
					SignatureHeader string `json:"signature_header"`
				}
				require.NoError(t, json.Unmarshal([]byte(body), &got))
				require.True(t, strings.HasPrefix(got.Secret, payment.SecretPrefix))
				require.Equal(t, payment.SignatureHeader, got.SignatureHeader)
				sealed, err := b.db.PaymentWebhookSecret(context.Background(), "acme")
				require.NoError(t, err)
				opened, err := b.api.Sealer.Open("acme", sealed)
				require.NoError(t, err)
				require.Equal(t, got.Secret, opened, "stored sealed, for acme")
			}},
		"DELETE /v1/payments/webhook-secret": {method: "DELETE", path: "/v1/payments/webhook-secret", happy: 204, foreign: 204,
			prepare: func(t *testing.T, b *apiBundle) {
				require.NoError(t, b.db.SetPaymentWebhookSecret(context.Background(), "acme", "v1:sealed"))
			},
			check: func(t *testing.T, b *apiBundle, _ string) {
				sealed, err := b.db.PaymentWebhookSecret(context.Background(), "acme")
				require.NoError(t, err)
				require.Empty(t, sealed)
			}},
		"POST /v1/accounts/{id}/holds": {method: "POST", path: "/v1/accounts/A-1/holds", contentType: "application/json",
			body: `{"kind": "dispute", "reason": "borrower disputes the balance"}`, happy: 200, foreign: 404,
			check: func(t *testing.T, b *apiBundle, _ string) {
				ctx := context.Background()
				a, err := b.db.GetAccount(ctx, "acme", "A-1")
				require.NoError(t, err)
				require.True(t, a.HasHold(nudge.HoldDispute))
				r, err := b.db.GetReminder(ctx, b.reminderID)
				require.NoError(t, err)
				require.Equal(t, nudge.ReminderCanceled, r.Status)
				require.Equal(t, nudge.ReasonHold, r.Reason)
			}},
		"DELETE /v1/accounts/{id}/holds/{kind}": {method: "DELETE", path: "/v1/accounts/A-1/holds/hardship?reason=back+at+work", happy: 200, foreign: 404,
			check: func(t *testing.T, b *apiBundle, _ string) {
				a, err := b.db.GetAccount(context.Background(), "acme", "A-1")
				require.NoError(t, err)
				require.False(t, a.HasHold(nudge.HoldHardship))
			}},
		"DELETE /v1/accounts/{id}/personal-data": erasureRouteCase(),
		"GET /v1/accounts/{id}/explain": {method: "GET", path: "/v1/accounts/A-1/explain?channel=sms", happy: 200, foreign: 404,
			check: func(t *testing.T, _ *apiBundle, body string) {
				var got struct {
					Decision compliance.Decision `json:"decision"`
				}
				require.NoError(t, json.Unmarshal([]byte(body), &got))
				require.Equal(t, compliance.Suppress, got.Decision.Action)
				require.Equal(t, nudge.ReasonHold, got.Decision.Reason)
				require.NotEmpty(t, got.Decision.Explanation)
			}},
		"GET /v1/opt-outs": {method: "GET", path: "/v1/opt-outs", happy: 200, foreign: 200,
			check: func(t *testing.T, _ *apiBundle, body string) { require.Contains(t, body, "old@example.com") }},
		"POST /v1/opt-outs": {method: "POST", path: "/v1/opt-outs", contentType: "application/json",
			body: `{"channel": "sms", "address": "+12125550123", "reason": "asked by phone"}`, happy: 201, foreign: 201,
			check: func(t *testing.T, b *apiBundle, _ string) {
				ok, err := b.db.IsOptedOut(context.Background(), "acme", nudge.SMS, "+12125550123")
				require.NoError(t, err)
				require.True(t, ok)
			}},
		"DELETE /v1/opt-outs/{channel}/{address}": {method: "DELETE", path: "/v1/opt-outs/email/old@example.com?reason=opted+in+on+the+form", happy: 200, foreign: 404,
			check: func(t *testing.T, b *apiBundle, _ string) {
				ok, err := b.db.IsOptedOut(context.Background(), "acme", nudge.Email, "old@example.com")
				require.NoError(t, err)
				require.False(t, ok)
			}},
		"GET /v1/cadences": {method: "GET", path: "/v1/cadences", happy: 200, foreign: 200,
			check: func(t *testing.T, _ *apiBundle, body string) { require.Contains(t, body, `"minimal"`) }},
		"POST /v1/cadences/validate": {method: "POST", path: "/v1/cadences/validate", contentType: "application/yaml", body: minimalCadence, happy: 200, foreign: 200,
			check: func(t *testing.T, _ *apiBundle, body string) {
				require.JSONEq(t, `{"valid": true, "name": "minimal", "problems": []}`, body)
			}},
		"GET /v1/cadences/{name}": {method: "GET", path: "/v1/cadences/minimal", happy: 200, foreign: 404,
			check: func(t *testing.T, _ *apiBundle, body string) { require.Contains(t, body, "predue-sms") }},
		"PUT /v1/cadences/{name}": {method: "PUT", path: "/v1/cadences/minimal", contentType: "application/yaml",
			body: strings.Replace(minimalCadence, `"10:00"`, `"11:00"`, 1), happy: 201, foreign: 201,
			check: func(t *testing.T, b *apiBundle, body string) {
				require.Contains(t, body, `"version":2`)
				v, err := b.db.GetCadence(context.Background(), "acme", "minimal", 0)
				require.NoError(t, err)
				require.Equal(t, 1, v.Version, "a new version is not active until activated")
			}},
		"POST /v1/cadences/{name}/preview": {method: "POST", path: "/v1/cadences/minimal/preview", contentType: "application/json",
			body: `{"account_id": "A-1"}`, happy: 200, foreign: 404,
			check: func(t *testing.T, _ *apiBundle, body string) {
				var got struct {
					Steps []struct {
						Step     string `json:"step"`
						Date     string `json:"date"`
						Text     string `json:"text"`
						Segments int    `json:"segments"`
					} `json:"steps"`
				}
				require.NoError(t, json.Unmarshal([]byte(body), &got))
				require.Len(t, got.Steps, 2)
				require.Equal(t, "predue-sms", got.Steps[0].Step)
				require.Equal(t, "2026-06-01", got.Steps[0].Date)
				require.Contains(t, got.Steps[0].Text, "ACME")
				require.Positive(t, got.Steps[0].Segments)
			}},
		"POST /v1/cadences/{name}/versions/{version}/activate": {method: "POST", path: "/v1/cadences/minimal/versions/1/activate", happy: 200, foreign: 404},
		"GET /v1/promises": {method: "GET", path: "/v1/promises?account=A-1", happy: 200, foreign: 404,
			check: func(t *testing.T, _ *apiBundle, body string) { require.Contains(t, body, `"prm-1"`) }},
		"GET /v1/reminders": {method: "GET", path: "/v1/reminders?account=A-1", happy: 200, foreign: 404,
			check: func(t *testing.T, b *apiBundle, body string) { require.Contains(t, body, b.reminderID) }},
		"POST /v1/forecast": {method: "POST", path: "/v1/forecast?days=3", contentType: "application/x-ndjson", body: forecastAccount, happy: 200, foreign: 409,
			check: func(t *testing.T, _ *apiBundle, body string) { require.Contains(t, body, `"accounts":1`) }},
		"GET /v1/kpis": {method: "GET", path: "/v1/kpis?from=2026-06-01&to=2026-06-01&by=channel", happy: 200, foreign: 200,
			check: func(t *testing.T, _ *apiBundle, body string) { require.Contains(t, body, `"by":["channel"]`) }},
		"GET /v1/attempts": {method: "GET", path: "/v1/attempts?account=A-1&channel=sms", happy: 200, foreign: 404,
			check: func(t *testing.T, _ *apiBundle, body string) { require.Contains(t, body, `"att-1"`) }},
		"POST /v1/reminders/{id}/retry": {method: "POST", path: "/v1/reminders/{reminder}/retry", contentType: "application/json",
			body: `{"reason": "fixed"}`, happy: 200, foreign: 404,
			prepare: func(t *testing.T, b *apiBundle) {
				_, err := b.db.MoveReminder(context.Background(), b.reminderID, nudge.ReminderQueued, nudge.ReminderFailed, nudge.ReasonProviderFailed, apiT0, apiT0)
				require.NoError(t, err)
			},
			check: func(t *testing.T, b *apiBundle, _ string) {
				r, err := b.db.GetReminder(context.Background(), b.reminderID)
				require.NoError(t, err)
				require.Equal(t, nudge.ReminderQueued, r.Status)
			}},
		"GET /v1/dead-letters": {method: "GET", path: "/v1/dead-letters?channel=sms&limit=10", happy: 200, foreign: 200,
			prepare: failFixture,
			check: func(t *testing.T, b *apiBundle, body string) {
				var got struct {
					Data []struct {
						Reminder    struct{ ID, Status string }
						LastAttempt *struct {
							ID        string `json:"id"`
							ErrorCode string `json:"error_code"`
						} `json:"last_attempt"`
						Replayable bool `json:"replayable"`
					} `json:"data"`
				}
				require.NoError(t, json.Unmarshal([]byte(body), &got))
				require.Len(t, got.Data, 1)
				require.Equal(t, b.reminderID, got.Data[0].Reminder.ID)
				require.Equal(t, "failed", got.Data[0].Reminder.Status)
				require.NotNil(t, got.Data[0].LastAttempt)
				require.Equal(t, "21211", got.Data[0].LastAttempt.ErrorCode)
				require.True(t, got.Data[0].Replayable)
			}},
		"POST /v1/dead-letters/replay": {method: "POST", path: "/v1/dead-letters/replay", contentType: "application/json",
			body: `{"ids": ["{reminder}"], "reason": "fixed the sender number"}`, happy: 200, foreign: 200,
			prepare: failFixture,
			check: func(t *testing.T, b *apiBundle, body string) {
				require.Contains(t, body, `"outcome":"replayed"`)
				r, err := b.db.GetReminder(context.Background(), b.reminderID)
				require.NoError(t, err)
				require.Equal(t, nudge.ReminderQueued, r.Status)
				_, err = b.db.GetAttempt(context.Background(), "att-1")
				require.ErrorIs(t, err, nudge.ErrNotFound, "the refused attempt is set aside for a new claim")
				require.Contains(t, b.mr.Keys(), "asynq:{sms:acme}:t:"+b.reminderID, "the reminder's task is enqueued under its id")
			}},
		"POST /v1/reminders/{id}/cancel": {method: "POST", path: "/v1/reminders/{reminder}/cancel", contentType: "application/json",
			body: `{"reason": "borrower called"}`, happy: 200, foreign: 404,
			check: func(t *testing.T, b *apiBundle, _ string) {
				r, err := b.db.GetReminder(context.Background(), b.reminderID)
				require.NoError(t, err)
				require.Equal(t, nudge.ReminderCanceled, r.Status)
			}},
		"GET /v1/pauses": {method: "GET", path: "/v1/pauses", happy: 200, foreign: 200,
			check: func(t *testing.T, _ *apiBundle, body string) { require.JSONEq(t, `{"pauses":[]}`, body) }},
		"POST /v1/pauses": {method: "POST", path: "/v1/pauses", contentType: "application/json",
			body: `{"scope": "channel", "target": "sms", "reason": "carrier review"}`, happy: 201, foreign: 201},
		"POST /v1/pauses/resume": {method: "POST", path: "/v1/pauses/resume", contentType: "application/json",
			body: `{"scope": "channel", "target": "sms", "reason": "review done"}`, happy: 200, foreign: 200,
			prepare: func(t *testing.T, b *apiBundle) {
				_, err := b.db.SetPause(context.Background(), nudge.Pause{Lender: "acme", Scope: nudge.PauseChannel, Target: "sms", Reason: "review", CreatedAt: apiT0})
				require.NoError(t, err)
			},
			check: func(t *testing.T, _ *apiBundle, body string) { require.Contains(t, body, `"changed":true`) }},
	}
}

// failFixture makes A-1's reminder a dead letter: failed, its attempt
// refused by the provider before acceptance.
func failFixture(t *testing.T, b *apiBundle) {
	t.Helper()
	ctx := context.Background()
	_, err := b.db.UpdateAttempt(ctx, "att-1", nudge.AttemptUpdate{Status: nudge.AttemptFailed, ErrorCode: "21211", Reason: nudge.ReasonProviderFailed, At: apiT0})
	require.NoError(t, err)
	_, err = b.db.MoveReminder(ctx, b.reminderID, nudge.ReminderQueued, nudge.ReminderFailed, nudge.ReasonProviderFailed, apiT0, apiT0)
	require.NoError(t, err)
}

// lowerRole is a key whose role is just below role; "" when none is.
func lowerRole(r nudge.Role) string {
	switch r {
	case nudge.RoleAdmin:
		return "operator"
	case nudge.RoleOperator:
		return "viewer"
	}
	return ""
}

func exactRole(r nudge.Role) string { return string(r) }

func TestAPIRoutesAccess(t *testing.T) {
	t.Parallel()
	cases := routeCases()
	maps.Copy(cases, webhookRouteCases())
	maps.Copy(cases, workItemRouteCases())
	maps.Copy(cases, experimentRouteCases())
	routes := (&api.API{}).Routes()
	for _, rt := range routes {
		if rt.Role == "" {
			continue
		}
		name := rt.Method + " " + rt.Path
		tc, ok := cases[name]
		require.True(t, ok, "route %s has no test case", name)
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			b := setupAPI(t)
			tc := tc
			tc.path = strings.ReplaceAll(tc.path, "{reminder}", b.reminderID)
			tc.body = strings.ReplaceAll(tc.body, "{reminder}", b.reminderID)
			if tc.prepare != nil {
				tc.prepare(t, b)
			}
			code, body := b.do(t, "", tc.method, tc.path, tc.contentType, tc.body)
			require.Equal(t, http.StatusUnauthorized, code, "without a key: %s", body)
			b.keys["bogus"] = "nudge_" + b.keyIDs["admin"] + "_notthesecret"
			code, _ = b.do(t, "bogus", tc.method, tc.path, tc.contentType, tc.body)
			require.Equal(t, http.StatusUnauthorized, code, "with a wrong secret")

			if lower := lowerRole(rt.Role); lower != "" {
				code, body = b.do(t, lower, tc.method, tc.path, tc.contentType, tc.body)
				require.Equal(t, http.StatusForbidden, code, "with a %s key: %s", lower, body)
			}

			code, body = b.do(t, "beta", tc.method, tc.path, tc.contentType, tc.body)
			require.Equal(t, tc.foreign, code, "with another lender's key: %s", body)
			require.NotContains(t, body, "A-1", "another lender learns nothing of acme's records")
			require.NotContains(t, body, "old@example.com")
			require.NotContains(t, body, "prm-1")

			before := b.auditCount(t, b.keyIDs[exactRole(rt.Role)])
			code, body = b.do(t, exactRole(rt.Role), tc.method, tc.path, tc.contentType, tc.body)
			require.Equal(t, tc.happy, code, "happy path: %s", body)
			if tc.check != nil {
				tc.check(t, b, body)
			}
			after := b.auditCount(t, b.keyIDs[exactRole(rt.Role)])
			if rt.Write {
				require.Equal(t, before+1, after, "a write is audited")
			} else {
				require.Equal(t, before, after, "a read is not audited")
			}
		})
	}
	require.Len(t, cases, len(routes)-1, "every case names a route")
}

func TestAPIAuditEntry(t *testing.T) {
	t.Parallel()
	b := setupAPI(t)
	code, body := b.do(t, "operator", "POST", "/v1/accounts/A-1/holds", "application/json", `{"kind": "attorney", "reason": "represented"}`)
	require.Equal(t, http.StatusOK, code, body)
	all, err := b.db.ListAudit(context.Background(), "acme")
	require.NoError(t, err)
	require.NotEmpty(t, all)
	last := all[len(all)-1]
	require.Equal(t, b.keyIDs["operator"], last.Actor)
	require.Equal(t, "hold.set", last.Action)
	require.Equal(t, "A-1", last.Target)
	require.Equal(t, apiT0, last.At)
	require.JSONEq(t, `{"action": "set", "kind": "attorney", "reason": "represented"}`, last.Detail)
}

func TestAPIRevokedKey(t *testing.T) {
	t.Parallel()
	b := setupAPI(t)
	require.NoError(t, b.db.RevokeAPIKey(context.Background(), "acme", b.keyIDs["viewer"], apiT0))
	code, _ := b.do(t, "viewer", "GET", "/v1/accounts/A-1", "", "")
	require.Equal(t, http.StatusUnauthorized, code)
}

func TestAPIRateLimitPerKey(t *testing.T) {
	t.Parallel()
	var clock *nudge.FixedClock
	b := setupAPI(t, func(a *api.API) {
		clock = a.Clock.(*nudge.FixedClock)
		a.Limiter = web.NewTokenBuckets(1, 3, clock)
	})
	for i := range 3 {
		code, body := b.do(t, "viewer", "GET", "/v1/cadences", "", "")
		require.Equal(t, http.StatusOK, code, "request %d: %s", i, body)
	}
	req := httptest.NewRequest(http.MethodGet, "/v1/cadences", nil)
	req.Header.Set("Authorization", "Bearer "+b.keys["viewer"])
	rec := httptest.NewRecorder()
	b.srv.ServeHTTP(rec, req)
	require.Equal(t, http.StatusTooManyRequests, rec.Code)
	require.Equal(t, "1", rec.Header().Get("Retry-After"))

	code, _ := b.do(t, "admin", "GET", "/v1/cadences", "", "")
	require.Equal(t, http.StatusOK, code, "another key has its own bucket")
	clock.Advance(time.Second)
	code, _ = b.do(t, "viewer", "GET", "/v1/cadences", "", "")
	require.Equal(t, http.StatusOK, code, "the bucket refills")
}

func TestAPIRedisRateLimit(t *testing.T) {
	t.Parallel()
	var mr *miniredis.Miniredis
	b := setupAPI(t)
	mr = b.mr
	rdb := redis.NewClient(&redis.Options{Addr: mr.Addr()})
	t.Cleanup(func() { _ = rdb.Close() })
	b.api.Limiter = web.RedisKeyLimiter{Limiter: dispatcher.NewRateLimiter(rdb, b.clock), PerSecond: 1, Burst: 2}
	for range 2 {
		code, _ := b.do(t, "viewer", "GET", "/v1/cadences", "", "")
		require.Equal(t, http.StatusOK, code)
	}
	code, _ := b.do(t, "viewer", "GET", "/v1/cadences", "", "")
	require.Equal(t, http.StatusTooManyRequests, code)
}

func TestAPIBodyLimits(t *testing.T) {
	t.Parallel()
	b := setupAPI(t, func(a *api.API) { a.MaxBodyBytes, a.MaxImportBytes = 64, 512 })
	tests := []struct {
		name, method, path, contentType, body string
		chunked                               bool
	}{
		{name: "hold", method: "POST", path: "/v1/accounts/A-1/holds", contentType: "application/json",
			body: `{"kind": "dispute", "reason": "` + strings.Repeat("x", 100) + `"}`},
		{name: "hold without length", method: "POST", path: "/v1/accounts/A-1/holds", contentType: "application/json",
			body: `{"kind": "dispute", "reason": "` + strings.Repeat("x", 100) + `"}`, chunked: true},
		{name: "cadence", method: "PUT", path: "/v1/cadences/minimal", contentType: "application/yaml", body: minimalCadence, chunked: true},
		{name: "import", method: "POST", path: "/v1/accounts", contentType: "application/x-ndjson",
			body: strings.Repeat(strings.ReplaceAll(goodAccountJSON[1:len(goodAccountJSON)-1], "\n", " ")+"\n", 5), chunked: true},
	}
	t.Run("oversized", func(t *testing.T) {
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				t.Parallel()
				req := httptest.NewRequest(tt.method, tt.path, strings.NewReader(tt.body))
				if tt.chunked {
					req.ContentLength = -1
				}
				req.Header.Set("Content-Type", tt.contentType)
				req.Header.Set("Authorization", "Bearer "+b.keys["admin"])
				rec := httptest.NewRecorder()
				b.srv.ServeHTTP(rec, req)
				require.Equal(t, http.StatusRequestEntityTooLarge, rec.Code, rec.Body.String())
			})
		}
	})
	_, err := b.db.GetAccount(context.Background(), "acme", "A-2")
	require.ErrorIs(t, err, nudge.ErrNotFound, "an oversized import writes nothing")
	code, body := b.do(t, "admin", "POST", "/v1/accounts", "application/json", goodAccountJSON)
	require.Equal(t, http.StatusOK, code, "the import limit is larger: %s", body)
}

func TestAPIPagination(t *testing.T) {
	t.Parallel()
	b := setupAPI(t)
	ctx := context.Background()
	var rs []nudge.Reminder
	for i := range 7 {
		rs = append(rs, nudge.Reminder{Key: nudge.ReminderKey{Lender: "acme", AccountID: "A-1", Cadence: "minimal",
			Step: "s" + string(rune('a'+i)), Cycle: nudge.MustDate("2026-06-04")}, Channel: nudge.Email, Template: "x",
			DueAt: apiT0.Add(time.Duration(i%3) * time.Hour), CreatedAt: apiT0})
	}
	_, err := b.db.InsertReminders(ctx, rs)
	require.NoError(t, err)
	seen := map[string]bool{}
	path := "/v1/reminders?channel=email&limit=3"
	pages := 0
	for {
		code, body := b.do(t, "viewer", "GET", path, "", "")
		require.Equal(t, http.StatusOK, code, body)
		var page struct {
			Data []struct {
				ID string `json:"id"`
			} `json:"data"`
			NextCursor string `json:"next_cursor"`
		}
		require.NoError(t, json.Unmarshal([]byte(body), &page))
		pages++
		for _, r := range page.Data {
			require.False(t, seen[r.ID], "no reminder twice")
			seen[r.ID] = true
		}
		if page.NextCursor == "" {
			break
		}
		path = "/v1/reminders?channel=email&limit=3&cursor=" + page.NextCursor
	}
	require.Len(t, seen, 7)
	require.Equal(t, 3, pages)

	for _, bad := range []string{"/v1/reminders?limit=501", "/v1/reminders?limit=0", "/v1/reminders?cursor=!!", "/v1/reminders?status=nope",
		"/v1/attempts?since=yesterday", "/v1/promises?status=maybe"} {
		code, body := b.do(t, "viewer", "GET", bad, "", "")
		require.Equal(t, http.StatusBadRequest, code, "%s: %s", bad, body)
		require.Contains(t, body, `"problems"`)
	}
}

func TestOpenAPIMatchesRoutes(t *testing.T) {
	t.Parallel()
	b := setupAPI(t)
	code, body := b.do(t, "", "GET", api.OpenAPIPath, "", "")
	require.Equal(t, http.StatusOK, code)
	var doc struct {
		OpenAPI string                                `json:"openapi"`
		Paths   map[string]map[string]json.RawMessage `json:"paths"`
	}
	require.NoError(t, json.Unmarshal([]byte(body), &doc))
	require.True(t, strings.HasPrefix(doc.OpenAPI, "3."))
	documented := map[string]string{}
	for path, ops := range doc.Paths {
		for method, raw := range ops {
			var op struct {
				Role string `json:"x-nudge-role"`
			}
			require.NoError(t, json.Unmarshal(raw, &op))
			documented[strings.ToUpper(method)+" "+path] = op.Role
		}
	}
	registered := map[string]string{}
	for _, rt := range b.api.Routes() {
		registered[rt.Method+" "+rt.Path] = string(rt.Role)
	}
	require.Equal(t, registered, documented, "every route is documented with its role, and nothing else is")

	disk, err := os.ReadFile("openapi.json")
	require.NoError(t, err)
	require.Equal(t, string(disk), body, "the served document is the file")
}

func TestAPIMalformedRequests(t *testing.T) {
	t.Parallel()
	b := setupAPI(t)
	tests := []struct {
		name, key, method, path, contentType, body string
		code                                       int
		field                                      string
	}{
		{name: "unknown field", key: "operator", method: "POST", path: "/v1/accounts/A-1/holds", contentType: "application/json", body: `{"kind": "dispute", "reason": "r", "x": 1}`, code: 400},
		{name: "hold kind", key: "operator", method: "POST", path: "/v1/accounts/A-1/holds", contentType: "application/json", body: `{"kind": "payment_claimed", "reason": "r"}`, code: 400, field: "kind"},
		{name: "hold reason", key: "operator", method: "POST", path: "/v1/accounts/A-1/holds", contentType: "application/json", body: `{"kind": "dispute"}`, code: 400, field: "reason"},
		{name: "clear missing hold", key: "operator", method: "DELETE", path: "/v1/accounts/A-1/holds/dispute?reason=x", code: 404},
		{name: "clear without reason", key: "operator", method: "DELETE", path: "/v1/accounts/A-1/holds/hardship", code: 400, field: "reason"},
		{name: "payment amount", key: "operator", method: "POST", path: "/v1/accounts/A-1/payments", contentType: "application/json", body: `{"amount": 12.5}`, code: 400},
		{name: "payment amount text", key: "operator", method: "POST", path: "/v1/accounts/A-1/payments", contentType: "application/json", body: `{"amount": "a lot"}`, code: 400, field: "amount"},
		{name: "opt-out address", key: "operator", method: "POST", path: "/v1/opt-outs", contentType: "application/json", body: `{"channel": "sms", "address": "555", "reason": "r"}`, code: 400, field: "address"},
		{name: "remove missing opt-out", key: "admin", method: "DELETE", path: "/v1/opt-outs/sms/%2B12125550199?reason=x", code: 404},
		{name: "explain channel", key: "viewer", method: "GET", path: "/v1/accounts/A-1/explain?channel=fax", code: 400, field: "channel"},
		{name: "import type", key: "operator", method: "POST", path: "/v1/accounts", contentType: "application/xml", body: "<a/>", code: 415},
		{name: "cadence problems", key: "operator", method: "PUT", path: "/v1/cadences/minimal", contentType: "application/yaml", body: strings.Replace(minimalCadence, "predue_sms", "no_such_template", 1), code: 400, field: "steps[0].template"},
		{name: "cadence name", key: "operator", method: "PUT", path: "/v1/cadences/other", contentType: "application/yaml", body: minimalCadence, code: 400, field: "name"},
		{name: "activate missing version", key: "admin", method: "POST", path: "/v1/cadences/minimal/versions/9/activate", code: 404},
		{name: "preview missing account", key: "operator", method: "POST", path: "/v1/cadences/minimal/preview", contentType: "application/json", body: `{"account_id": "nope"}`, code: 404},
		{name: "unknown account", key: "viewer", method: "GET", path: "/v1/accounts/nope", code: 404},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			code, body := b.do(t, tt.key, tt.method, tt.path, tt.contentType, tt.body)
			require.Equal(t, tt.code, code, body)
			var e struct {
				Error    string `json:"error"`
				Problems []struct {
					Field string `json:"field"`
					Line  int    `json:"line"`
				} `json:"problems"`
			}
			require.NoError(t, json.Unmarshal([]byte(body), &e))
			require.NotEmpty(t, e.Error)
			if tt.field != "" {
				require.NotEmpty(t, e.Problems, body)
				require.Equal(t, tt.field, e.Problems[0].Field, body)
			}
		})
	}
}

var importHeader = "id,lender,borrower.name,borrower.language,borrower.timezone,address.country,address.region," +
	"contacts[0].channel,contacts[0].address,contacts[0].consent,contacts[1].channel,contacts[1].address,contacts[1].workplace," +
	"currency,amount_due,due_date,status,holds"

// importRow is a good CSV row of account id with cells replaced by column name.
func importRow(id string, change map[string]string) string {
	cells := map[string]string{"id": id, "lender": "acme", "borrower.name": "Ana", "borrower.language": "es",
		"borrower.timezone": "America/New_York", "address.country": "US", "address.region": "NY",
		"contacts[0].channel": "sms", "contacts[0].address": "+12125550123", "contacts[0].consent": "true",
		"contacts[1].channel": "email", "contacts[1].address": "ana@example.com", "contacts[1].workplace": "",
		"currency": "USD", "amount_due": "412.50", "due_date": "2026-06-01", "status": "active", "holds": ""}
	for k, v := range change {
		cells[k] = v
	}
	var out []string
	for _, col := range strings.Split(importHeader, ",") {
		out = append(out, cells[col])
	}
	return strings.Join(out, ",")
}

// badImportRows are twenty kinds of bad rows and the field each is reported on.
var badImportRows = []struct {
	change map[string]string
	field  string
}{
	{map[string]string{"id": ""}, "id"},
	{map[string]string{"id": "has space"}, "id"},
	{map[string]string{"lender": "beta"}, "lender"},
	{map[string]string{"borrower.name": ""}, "borrower.name"},
	{map[string]string{"borrower.language": "not a tag"}, "borrower.language"},
	{map[string]string{"borrower.timezone": "Mars/Olympus"}, "borrower.timezone"},
	{map[string]string{"address.country": "USA"}, "address.country"},
	{map[string]string{"address.country": ""}, "address.country"},
	{map[string]string{"contacts[0].channel": "fax"}, "contacts[0].channel"},
	{map[string]string{"contacts[0].address": "+1212"}, "contacts[0].address"},
	{map[string]string{"contacts[0].consent": "perhaps"}, "contacts[0].consent"},
	{map[string]string{"contacts[1].address": "ana-at-example"}, "contacts[1].address"},
	{map[string]string{"contacts[1].channel": "voice", "contacts[1].address": "+12125550123", "contacts[1].workplace": "yes"}, "contacts[1].workplace"},
	{map[string]string{"contacts[1].channel": "sms", "contacts[1].address": "+12125550123"}, "contacts[1].address"},
	{map[string]string{"contacts[0].channel": "", "contacts[0].address": "", "contacts[0].consent": "", "contacts[1].channel": "", "contacts[1].address": ""}, "contacts"},
	{map[string]string{"currency": "US"}, "currency"},
	{map[string]string{"amount_due": "-5"}, "amount_due"},
	{map[string]string{"due_date": "2026-02-30"}, "due_date"},
	{map[string]string{"status": "overdue"}, "status"},
	{map[string]string{"holds": "vacation"}, "holds"},
}

func TestAPIImportCSV(t *testing.T) {
	t.Parallel()
	lines := []string{importHeader, importRow("GOOD-1", nil)}
	for i, b := range badImportRows {
		lines = append(lines, importRow(fmt.Sprintf("BAD-%02d", i), b.change))
	}
	lines = append(lines, importRow("GOOD-2", nil))
	csv := strings.Join(lines, "\n") + "\n"
	require.Len(t, badImportRows, 20)

	type result struct {
		Imported int `json:"imported"`
		Rejected int `json:"rejected"`
		Problems []struct {
			Row     int    `json:"row"`
			Field   string `json:"field"`
			Message string `json:"message"`
		} `json:"problems"`
	}
	check := func(t *testing.T, body string) result {
		var res result
		require.NoError(t, json.Unmarshal([]byte(body), &res))
		require.Len(t, res.Problems, len(badImportRows), body)
		for i, b := range badImportRows {
			p := res.Problems[i]
			require.Equal(t, i+3, p.Row, "bad row %d is on line %d", i, i+3)
			require.Equal(t, b.field, p.Field, "line %d: %s", p.Row, p.Message)
		}
		return res
	}
	tests := []struct {
		name    string
		query   string
		code    int
		written []string
	}{
		{name: "all or nothing", code: http.StatusBadRequest},
		{name: "partial", query: "?partial=true", code: http.StatusOK, written: []string{"GOOD-1", "GOOD-2"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setupAPI(t)
			code, body := b.do(t, "operator", "POST", "/v1/accounts"+tt.query, "text/csv", csv)
			require.Equal(t, tt.code, code, body)
			res := check(t, body)
			require.Equal(t, len(tt.written), res.Imported)
			for _, id := range []string{"GOOD-1", "GOOD-2"} {
				_, err := b.db.GetAccount(context.Background(), "acme", id)
				if len(tt.written) == 0 {
					require.ErrorIs(t, err, nudge.ErrNotFound, "all or nothing writes nothing")
				} else {
					require.NoError(t, err)
				}
			}
			for i := range badImportRows {
				_, err := b.db.GetAccount(context.Background(), "acme", fmt.Sprintf("BAD-%02d", i))
				require.ErrorIs(t, err, nudge.ErrNotFound)
			}
			_, err := b.db.GetAccount(context.Background(), "beta", "BAD-02")
			require.ErrorIs(t, err, nudge.ErrNotFound, "a row naming another lender is never written")
			audits := b.auditCount(t, b.keyIDs["operator"])
			require.Equal(t, len(tt.written)/2, audits, "only a write that happened is audited")
		})
	}
}
