package web_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/stretchr/testify/require"

	"github.com/nudgehq/nudge"
	"github.com/nudgehq/nudge/metrics"
	"github.com/nudgehq/nudge/web"
	"github.com/nudgehq/nudge/web/internal/webtest"
)

func TestMetricsEndpoint(t *testing.T) {
	t.Parallel()
	rdb := webtest.Redis(t)
	webtest.QueueTasks(t, rdb, 3)
	reg := metrics.New(asynq.NewInspectorFromRedisClient(rdb))
	reg.Attempt(nudge.SMS, nudge.AttemptDelivered, "")
	reg.Attempt(nudge.Voice, nudge.AttemptFailed, nudge.ReasonProviderFailed)
	reg.Suppressed(nudge.ReasonOptedOut)
	reg.Deferred(nudge.ReasonQuietHours)
	reg.ProviderLatency(nudge.Email, 300*time.Millisecond)
	reg.Promise(nudge.PromiseKept)
	reg.OptOut("sms_keyword")

	clock := nudge.NewFixedClock(time.Date(2026, 6, 15, 15, 0, 0, 0, time.UTC))
	srv := web.NewServer(nil, nil)
	(&web.Metrics{Gatherer: reg.Gatherer()}).Register(srv)
	srv.Handle("POST /webhooks/twilio/sms/{token}", http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		clock.Advance(40 * time.Millisecond)
		w.WriteHeader(http.StatusNoContent)
	}))
	h := web.InstrumentWebhooks(reg, clock, srv)

	for _, path := range []string{"/webhooks/twilio/sms/secret-token", "/webhooks/nowhere", "/healthz"} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, path, nil))
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	require.Equal(t, http.StatusOK, rec.Code)
	body, err := io.ReadAll(rec.Body)
	require.NoError(t, err)
	for _, want := range []string{
		`nudge_attempts_total{channel="sms",reason="",status="delivered"} 1`,
		`nudge_attempts_total{channel="voice",reason="provider_failed",status="failed"} 1`,
		`nudge_suppressions_total{reason="opted_out"} 1`,
		`nudge_deferrals_total{reason="quiet_hours"} 1`,
		`nudge_provider_request_duration_seconds_count{channel="email"} 1`,
		`nudge_promises_total{status="kept"} 1`,
		`nudge_opt_outs_total{source="sms_keyword"} 1`,
		`nudge_webhook_request_duration_seconds_bucket{route="POST /webhooks/twilio/sms/{token}",le="0.05"} 1`,
		`nudge_webhook_request_duration_seconds_count{route="unmatched"} 1`,
		`asynq_queue_size{queue="sms"} 3`,
		`asynq_queue_latency_seconds{queue="sms"}`,
		`go_goroutines`,
	} {
		require.Contains(t, string(body), want)
	}
	require.NotContains(t, string(body), "secret-token", "labels carry route patterns, not paths")
	require.NotContains(t, string(body), `route="GET /healthz"`, "only webhooks are timed")
}

func TestMetricsNopRecorder(t *testing.T) {
	t.Parallel()
	var r metrics.Recorder = metrics.Nop{}
	require.NotPanics(t, func() {
		r.Attempt(nudge.SMS, nudge.AttemptSent, "")
		r.WebhookLatency("x", time.Second)
	})
}
