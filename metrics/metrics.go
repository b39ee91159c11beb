// Package metrics holds Nudge's own Prometheus counters and histograms and
// the small Recorder interface through which the dispatcher and the
// webhooks report what they did. Label values are stable identifiers
// (channels, statuses, nudge.Reason values, route patterns) so the number
// of series stays bounded.
package metrics

import (
	"time"

	"github.com/hibiken/asynq"
	asynqmetrics "github.com/hibiken/asynq/x/metrics"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/nudgehq/nudge"
)

// Namespace prefixes every metric Nudge defines.
const Namespace = "nudge"

// Recorder receives what Nudge does, for metrics. Implementations must be
// safe for concurrent use and must not block.
type Recorder interface {
	// Attempt counts an attempt reaching status on channel (reason may be empty).
	Attempt(channel nudge.ChannelKind, status nudge.AttemptStatus, reason nudge.Reason)
	// Suppressed counts a reminder a rule stopped, by reason.
	Suppressed(reason nudge.Reason)
	// Deferred counts a reminder moved to a later allowed instant, by reason.
	Deferred(reason nudge.Reason)
	// ProviderLatency observes one provider call on channel.
	ProviderLatency(channel nudge.ChannelKind, d time.Duration)
	// WebhookLatency observes one webhook request, by route pattern.
	WebhookLatency(route string, d time.Duration)
	// Promise counts a promise to pay reaching status.
	Promise(status nudge.PromiseStatus)
	// OptOut counts a new opt-out, by source (sms_keyword, email_link, …).
	OptOut(source string)
	// Paused counts a channel paused because the provider refused its sender.
	Paused(channel nudge.ChannelKind)
	// Reconciled counts an unknown outcome resolved, by outcome (found,
	// callback, released, held).
	Reconciled(outcome string)
	// CaughtUp counts a reminder the scheduler's catch-up found overdue (the
	// queue lost it, or nothing ran): put back on its queue (requeued) or,
	// its moment over, expired unsent (expired).
	CaughtUp(outcome string)
}

// Nop is a Recorder that records nothing.
type Nop struct{}

var _ Recorder = Nop{}

// Attempt implements Recorder.
func (Nop) Attempt(nudge.ChannelKind, nudge.AttemptStatus, nudge.Reason) {}

// Suppressed implements Recorder.
func (Nop) Suppressed(nudge.Reason) {}

// Deferred implements Recorder.
func (Nop) Deferred(nudge.Reason) {}

// ProviderLatency implements Recorder.
func (Nop) ProviderLatency(nudge.ChannelKind, time.Duration) {}

// WebhookLatency implements Recorder.
func (Nop) WebhookLatency(string, time.Duration) {}

// Promise implements Recorder.
func (Nop) Promise(nudge.PromiseStatus) {}

// OptOut implements Recorder.
func (Nop) OptOut(string) {}

// Paused does nothing.
func (Nop) Paused(nudge.ChannelKind) {}

// Reconciled does nothing.
func (Nop) Reconciled(string) {}

// CaughtUp does nothing.
func (Nop) CaughtUp(string) {}

// Registry is a Prometheus registry holding Nudge's counters and
// histograms, the Go runtime and process collectors and, when given an
// Asynq inspector, Asynq's queue metrics. It is a Recorder.
type Registry struct {
	reg *prometheus.Registry

	attempts        *prometheus.CounterVec
	suppressed      *prometheus.CounterVec
	deferred        *prometheus.CounterVec
	providerLatency *prometheus.HistogramVec
	webhookLatency  *prometheus.HistogramVec
	promises        *prometheus.CounterVec
	optOuts         *prometheus.CounterVec
	paused          *prometheus.CounterVec
	reconciled      *prometheus.CounterVec
	caughtUp        *prometheus.CounterVec
	senderBreakers  *prometheus.CounterVec
}

var _ Recorder = (*Registry)(nil)

// latencyBuckets span a fast webhook (5 ms) to a slow provider call (30 s).
var latencyBuckets = []float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30}

// New returns a Registry. With a non-nil inspector it also exports Asynq's
// queue metrics (asynq_queue_size, asynq_queue_latency_seconds,
// asynq_tasks_enqueued_total, …), read from Redis at each scrape.
func New(inspector *asynq.Inspector) *Registry {
	r := &Registry{
		reg: prometheus.NewRegistry(),
		attempts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: Namespace, Name: "attempts_total",
			Help: "Attempts that reached a status, by channel, status and reason.",
		}, []string{"channel", "status", "reason"}),
		suppressed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: Namespace, Name: "suppressions_total",
			Help: "Reminders a compliance rule suppressed, by reason.",
		}, []string{"reason"}),
		deferred: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: Namespace, Name: "deferrals_total",
			Help: "Reminders deferred to a later allowed instant, by reason.",
		}, []string{"reason"}),
		providerLatency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: Namespace, Name: "provider_request_duration_seconds",
			Help: "Duration of provider calls (Twilio, SMTP), by channel.", Buckets: latencyBuckets,
		}, []string{"channel"}),
		webhookLatency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: Namespace, Name: "webhook_request_duration_seconds",
			Help: "Duration of webhook requests, by route pattern.", Buckets: latencyBuckets,
		}, []string{"route"}),
		promises: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: Namespace, Name: "promises_total",
			Help: "Promises to pay that reached a status (pending = made).",
		}, []string{"status"}),
		optOuts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: Namespace, Name: "opt_outs_total",
			Help: "New opt-outs, by source.",
		}, []string{"source"}),
		paused: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: Namespace, Name: "channel_pauses_total",
			Help: "Channels paused because the provider refused the sender, by channel: an operator must act.",
		}, []string{"channel"}),
		reconciled: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: Namespace, Name: "reconciled_total",
			Help: "Unknown outcomes resolved, by outcome (found, callback, released, held).",
		}, []string{"outcome"}),
		caughtUp: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: Namespace, Name: "caught_up_total",
			Help: "Overdue reminders the scheduler's catch-up put back on their queue (requeued) or expired unsent (expired).",
		}, []string{"outcome"}),
		senderBreakers: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: Namespace, Name: "sender_breaker_changes_total",
			Help: "A pool's sender taken out after failures (tripped) or back in service (recovered), by sender and change.",
		}, []string{"sender", "change"}),
	}
	r.reg.MustRegister(r.attempts, r.suppressed, r.deferred, r.providerLatency, r.webhookLatency, r.promises, r.optOuts,
		r.paused, r.reconciled, r.caughtUp, r.senderBreakers,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	if inspector != nil {
		r.reg.MustRegister(asynqmetrics.NewQueueMetricsCollector(inspector))
	}
	return r
}

// Gatherer returns the registry to serve, for promhttp.HandlerFor.
func (r *Registry) Gatherer() prometheus.Gatherer { return r.reg }

// Register adds further collectors to the registry.
func (r *Registry) Register(cs ...prometheus.Collector) error {
	for _, c := range cs {
		if err := r.reg.Register(c); err != nil {
			return err
		}
	}
	return nil
}

// Attempt implements Recorder.
func (r *Registry) Attempt(channel nudge.ChannelKind, status nudge.AttemptStatus, reason nudge.Reason) {
	r.attempts.WithLabelValues(string(channel), string(status), string(reason)).Inc()
}

// Suppressed implements Recorder.
func (r *Registry) Suppressed(reason nudge.Reason) {
	r.suppressed.WithLabelValues(string(reason)).Inc()
}

// Deferred implements Recorder.
func (r *Registry) Deferred(reason nudge.Reason) {
	r.deferred.WithLabelValues(string(reason)).Inc()
}

// ProviderLatency implements Recorder.
func (r *Registry) ProviderLatency(channel nudge.ChannelKind, d time.Duration) {
	r.providerLatency.WithLabelValues(string(channel)).Observe(d.Seconds())
}

// WebhookLatency implements Recorder.
func (r *Registry) WebhookLatency(route string, d time.Duration) {
	r.webhookLatency.WithLabelValues(route).Observe(d.Seconds())
}

// Promise implements Recorder.
func (r *Registry) Promise(status nudge.PromiseStatus) {
	r.promises.WithLabelValues(string(status)).Inc()
}

// OptOut implements Recorder.
func (r *Registry) OptOut(source string) {
	r.optOuts.WithLabelValues(source).Inc()
}

// Paused counts a channel paused because the provider refused its sender.
func (r *Registry) Paused(channel nudge.ChannelKind) {
	r.paused.WithLabelValues(string(channel)).Inc()
}

// SenderBreaker counts a pool sender's breaker opening (tripped) or
// closing again (recovered).
func (r *Registry) SenderBreaker(sender string, tripped bool) {
	change := "recovered"
	if tripped {
		change = "tripped"
	}
	r.senderBreakers.WithLabelValues(sender, change).Inc()
}

// Reconciled counts an unknown outcome resolved, by outcome.
func (r *Registry) Reconciled(outcome string) {
	r.reconciled.WithLabelValues(outcome).Inc()
}

// CaughtUp counts an overdue reminder the catch-up requeued or expired.
func (r *Registry) CaughtUp(outcome string) {
	r.caughtUp.WithLabelValues(outcome).Inc()
}
