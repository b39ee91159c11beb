package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nudgehq/nudge/channels/twilio"
	"github.com/nudgehq/nudge/web"
	"github.com/nudgehq/nudge/web/webhooks"
)

// webhookToken is the auth token the bench's status callbacks are signed with.
const webhookToken = "benchtoken0123456789abcdef012345"

// WebhookResult compares the status callback handler with a bare one.
type WebhookResult struct {
	Callbacks int `json:"callbacks"`
	Clients   int `json:"clients"`
	// Handler is Nudge's handler: signature check, attempt lookup, update
	// and event, durable in the database.
	Handler time.Duration `json:"handler"`
	// Bare parses the form and answers 204.
	Bare time.Duration `json:"bare"`
	// Latency50 and Latency99 are the median and 99th percentile of one
	// callback's answer from Nudge's handler, as its client waits for it.
	Latency50 time.Duration `json:"latency_p50"`
	Latency99 time.Duration `json:"latency_p99"`
	// RoundTrips, Transactions and Writes are the store's round trips and
	// PostgreSQL's committed and write transactions per callback (as in
	// DispatchResult).
	RoundTrips   float64 `json:"round_trips_per_callback"`
	Transactions float64 `json:"transactions_per_callback"`
	Writes       float64 `json:"write_transactions_per_callback"`
	// SelfCPU and PostgresCPU are the CPU per callback of the bench process
	// (handler and clients) and of the PostgreSQL backends connected to the
	// bench database.
	SelfCPU     time.Duration `json:"self_cpu_per_callback"`
	PostgresCPU time.Duration `json:"postgres_cpu_per_callback"`
}

// HandlerPerSecond is the callbacks Nudge's handler ingested per second.
func (r WebhookResult) HandlerPerSecond() float64 { return rate(r.Callbacks, r.Handler) }

// BarePerSecond is the callbacks the bare handler answered per second.
func (r WebhookResult) BarePerSecond() float64 { return rate(r.Callbacks, r.Bare) }

// measureWebhooks posts one signed "delivered" callback per provider id to
// the status webhook over loopback HTTP, then the same requests to a bare
// handler.
func measureWebhooks(ctx context.Context, e *env, providerIDs []string) (WebhookResult, error) {
	cfg := e.cfg
	ids := providerIDs[:min(len(providerIDs), cfg.Webhooks)]
	res := WebhookResult{Callbacks: len(ids), Clients: cfg.WebhookClients}
	if len(ids) == 0 {
		return res, errors.New("webhooks: no sent messages to report on")
	}
	srv := web.NewServer(cfg.Logger, nil)
	ts := httptest.NewServer(srv)
	defer ts.Close()
	(&webhooks.TwilioSMS{AuthToken: webhookToken, PublicURL: ts.URL, Store: e.db, Clock: e.clock, Logger: cfg.Logger}).Register(srv)
	bare := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil {
			http.Error(w, "bad form", http.StatusBadRequest)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	defer bare.Close()

	target := ts.URL + twilio.StatusCallbackPath
	bodies, sigs := make([]string, len(ids)), make([]string, len(ids))
	for i, id := range ids {
		form := url.Values{
			"AccountSid": {"AC00000000000000000000000000000b3c"}, "ApiVersion": {"2010-04-01"},
			"MessageSid": {id}, "SmsSid": {id}, "MessageStatus": {"delivered"}, "SmsStatus": {"delivered"},
			"From": {"+15005550006"}, "To": {"+12125550123"},
		}
		bodies[i], sigs[i] = form.Encode(), twilio.SignRequest(webhookToken, target, form)
	}
	client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{
		MaxIdleConnsPerHost: cfg.WebhookClients, MaxConnsPerHost: cfg.WebhookClients,
	}}
	defer client.CloseIdleConnections()
	var err error
	stopAnalyze := e.autoAnalyze(ctx)
	commitsBefore := e.commitCounters(ctx)
	tripsBefore, cpuBefore, dbBefore := e.db.RoundTrips(), takeCPU(ctx, e.rdb), e.databaseCPU(ctx)
	var lat []time.Duration
	res.Handler, lat, err = post(ctx, client, target, bodies, sigs, cfg.WebhookClients)
	cpu, dbCPU := takeCPU(ctx, e.rdb).since(cpuBefore), e.databaseCPU(ctx)-dbBefore
	stopAnalyze()
	if err != nil {
		return res, fmt.Errorf("status webhook: %w", err)
	}
	n := float64(len(ids))
	res.RoundTrips = float64(e.db.RoundTrips()-tripsBefore) / n
	res.SelfCPU = cpu.self / time.Duration(len(ids))
	if e.pg != nil {
		res.Transactions, res.Writes, _ = commitsBefore.per(e.commitCounters(ctx), n)
		res.PostgresCPU = dbCPU / time.Duration(len(ids))
	}
	slices.Sort(lat)
	res.Latency50, res.Latency99 = lat[len(lat)/2], lat[len(lat)*99/100]
	fmt.Fprintf(cfg.Progress, "webhooks: %d status callbacks in %s (%.0f/s; latency p50 %s, p99 %s; %.1f round trips, %.2f write transactions of %.2f, CPU %s in the bench process and %s in PostgreSQL per callback)\n",
		len(ids), res.Handler.Round(time.Millisecond), res.HandlerPerSecond(), res.Latency50.Round(10*time.Microsecond), res.Latency99.Round(10*time.Microsecond),
		res.RoundTrips, res.Writes, res.Transactions, res.SelfCPU.Round(time.Microsecond), res.PostgresCPU.Round(time.Microsecond))
	if res.Bare, _, err = post(ctx, client, bare.URL+twilio.StatusCallbackPath, bodies, sigs, cfg.WebhookClients); err != nil {
		return res, fmt.Errorf("bare handler: %w", err)
	}
	fmt.Fprintf(cfg.Progress, "webhooks: bare handler %s (%.0f/s)\n", res.Bare.Round(time.Millisecond), res.BarePerSecond())
	return res, nil
}

// post sends every body from clients goroutines and returns the time taken
// and each request's latency (in the order sent); any answer but 204 is an
// error.
func post(ctx context.Context, client *http.Client, target string, bodies, sigs []string, clients int) (time.Duration, []time.Duration, error) {
	var (
		next atomic.Int64
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
	)
	lat := make([]time.Duration, len(bodies))
	start := time.Now()
	for range clients {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= len(bodies) {
					return
				}
				t0 := time.Now()
				if err := postOne(ctx, client, target, bodies[i], sigs[i]); err != nil {
					mu.Lock()
					errs = append(errs, err)
					mu.Unlock()
					return
				}
				lat[i] = time.Since(t0)
			}
		})
	}
	wg.Wait()
	return time.Since(start), lat, errors.Join(errs...)
}

func postOne(ctx context.Context, client *http.Client, target, body, sig string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, strings.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set(twilio.SignatureHeader, sig)
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	if resp.StatusCode != http.StatusNoContent {
		return fmt.Errorf("POST %s: %s: %s", target, resp.Status, strings.TrimSpace(string(msg)))
	}
	return nil
}
