package main

import (
	"bytes"
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/nudgehq/nudge"
	"github.com/nudgehq/nudge/channels/console"
	"github.com/nudgehq/nudge/channels/smtp"
	"github.com/nudgehq/nudge/channels/twilio"
	"github.com/nudgehq/nudge/compliance"
	"github.com/nudgehq/nudge/dispatcher"
	"github.com/nudgehq/nudge/link"
	"github.com/nudgehq/nudge/logmask"
	"github.com/nudgehq/nudge/metrics"
	"github.com/nudgehq/nudge/payment"
	"github.com/nudgehq/nudge/response"
	"github.com/nudgehq/nudge/schedules"
	"github.com/nudgehq/nudge/store"
	"github.com/nudgehq/nudge/templates"
	"github.com/nudgehq/nudge/web"
	"github.com/nudgehq/nudge/web/api"
	"github.com/nudgehq/nudge/web/borrower"
	"github.com/nudgehq/nudge/web/ops"
	"github.com/nudgehq/nudge/web/webhooks"
	"github.com/nudgehq/nudge/webhook"
)

// cadenceCacheTTL is how long a process reuses a lender's list of active
// cadence versions.
const cadenceCacheTTL = 10 * time.Second

// runtime is one Nudge process's shared machinery; the roles (api, scheduler,
// worker) are built from it.
type runtime struct {
	cfg    Config
	logger *slog.Logger
	clock  nudge.Clock
	db     *store.DB
	rdb    redis.UniversalClient
	pack   *templates.Pack
	reg    *compliance.Registry
	lib    *schedules.Library
	enq    *dispatcher.Enqueuer
	links  *link.Service
	limits web.Limits

	metrics *metrics.Registry

	webhooks *webhook.Service

	senders    map[nudge.ChannelKind]nudge.Sender
	senderRate func(*nudge.Message) (string, float64)
	// closers release what the senders hold (SMTP connections).
	closers []func() error
}

// cadenceSource is one cadence file's name and bytes.
type cadenceSource struct {
	name string
	data []byte
}

// runtimeOptions let the demo and tests replace what a deployment configures.
type runtimeOptions struct {
	clock   nudge.Clock
	rdb     redis.UniversalClient
	senders map[nudge.ChannelKind]nudge.Sender
	// cadences replace the lenders' cadence files (by lender id).
	cadences map[string][]cadenceSource
	// webhookRoots, when set, are the only roots webhook requests trust
	// (tests trust their own TLS server).
	webhookRoots *x509.CertPool
}

func newLogger(cfg LogConfig, w io.Writer) (*slog.Logger, error) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(cfg.Level)); err != nil {
		return nil, fmt.Errorf("log.level %q: want debug, info, warn or error", cfg.Level)
	}
	opts := &slog.HandlerOptions{Level: level}
	switch cfg.Format {
	case "json":
		return slog.New(logmask.NewHandler(slog.NewJSONHandler(w, opts))), nil
	case "text":
		return slog.New(logmask.NewHandler(slog.NewTextHandler(w, opts))), nil
	}
	return nil, fmt.Errorf("log.format %q: want json or text", cfg.Format)
}

// newRuntime opens the database (applying migrations), connects to Redis,
// loads templates, profiles, lenders and cadences, and builds the senders.
func (a *app) newRuntime(ctx context.Context, cfg Config, o runtimeOptions) (rt *runtime, err error) {
	logger, err := newLogger(cfg.Log, a.stderr)
	if err != nil {
		return nil, err
	}
	if err := cfg.checkPublicURL(); err != nil {
		return nil, err
	}
	// Bad email settings (an address, a DKIM key) stop the start before
	// anything is opened.
	if _, err := cfg.emailIdentities(); err != nil {
		return nil, err
	}
	if _, err := cfg.kpiSettings(); err != nil {
		return nil, err
	}
	if err := cfg.sendTimeSettings(); err != nil {
		return nil, err
	}
	if real := cfg.realProviders(); len(real) > 0 && !strings.HasPrefix(cfg.PublicURL, "https:") {
		logger.Warn("allow_local_public_url: real providers send links that work only on this machine",
			"public_url", cfg.PublicURL, "providers", strings.Join(real, ", "))
	}
	limits, err := cfg.HTTP.Limits()
	if err != nil {
		return nil, err
	}
	cfg.Webhooks = cfg.Webhooks.WithDefaults()
	if err := cfg.Webhooks.Validate(); err != nil {
		return nil, err
	}
	rt = &runtime{cfg: cfg, logger: logger, clock: o.clock, limits: limits}
	if rt.clock == nil {
		rt.clock = nudge.SystemClock
	}
	built := rt // the returns below set rt to nil
	defer func() {
		if err != nil {
			built.Close()
		}
	}()
	replica, err := cfg.replicaOptions()
	if err != nil {
		return nil, err
	}
	if err := retryStartup(ctx, logger, "open the database", func() (err error) {
		rt.db, err = openStore(ctx, cfg, replica...)
		return err
	}); err != nil {
		return nil, err
	}
	if off, err := rt.db.AutovacuumOff(ctx); off {
		logger.Warn("PostgreSQL's autovacuum is off: table statistics will go stale as the ledger grows and queries slow down; turn it on, or run ANALYZE regularly (docs/operations.md)")
	} else if err != nil {
		logger.Warn("reading PostgreSQL's autovacuum setting", "err", err)
	}
	if rt.rdb = o.rdb; rt.rdb == nil {
		if rt.rdb, err = connectRedis(ctx, cfg.Redis); err != nil {
			return nil, err
		}
	}
	if rt.pack, rt.reg, err = a.rules(cfg); err != nil {
		return nil, err
	}
	if len(cfg.Secret) < link.MinKeyLength {
		return nil, fmt.Errorf("secret: set secret or secret_file (NUDGE_SECRET, NUDGE_SECRET_FILE) to at least %d random bytes; it keys opt-out hashes and borrowers' page forms", link.MinKeyLength)
	}
	if rt.links, err = link.New([]byte(cfg.Secret), rt.db, rt.clock); err != nil {
		return nil, err
	}
	if err := retryStartup(ctx, logger, "sync lenders", func() error { return rt.syncLenders(ctx, o.cadences) }); err != nil {
		return nil, err
	}
	rt.lib = schedules.NewLibrary(rt.db, rt.reg, parseOptions(rt.pack, rt.reg)...)
	// Workers look up a reminder's cadence for every send: a short cache
	// saves those reads; an activation shows within the ttl.
	rt.lib.CacheActive(cadenceCacheTTL, rt.clock)
	rt.enq = dispatcher.NewEnqueuer(rt.rdb, dispatcher.EnqueuerConfig{Clock: rt.clock})
	rt.metrics = metrics.New(rt.enq.Inspector())
	if err := rt.buildSenders(o.senders); err != nil {
		return nil, err
	}
	sealer, err := payment.NewSealer([]byte(cfg.Secret))
	if err != nil {
		return nil, err
	}
	if rt.webhooks, err = webhook.NewService(webhook.Service{Store: rt.db, Secrets: sealer,
		Queue: webhook.NewQueue(rt.rdb, rt.clock), Config: cfg.Webhooks, RootCAs: o.webhookRoots,
		Clock: rt.clock, Logger: logger}); err != nil {
		return nil, err
	}
	return rt, nil
}

// connectRedis connects to the configured Redis (one server, Sentinel or
// Cluster) and pings it.
func connectRedis(ctx context.Context, cfg RedisConfig) (redis.UniversalClient, error) {
	opts, err := cfg.Options()
	if err != nil {
		return nil, err
	}
	rdb := redis.NewUniversalClient(opts)
	pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := rdb.Ping(pctx).Err(); err != nil {
		rdb.Close()
		return nil, fmt.Errorf("redis at %s: %w", strings.Join(opts.Addrs, ","), err)
	}
	return rdb, nil
}

// syncLenders writes the configured lenders and makes each changed cadence
// file a new active version.
func (rt *runtime) syncLenders(ctx context.Context, override map[string][]cadenceSource) error {
	opts := parseOptions(rt.pack, rt.reg)
	if err := validateLenderVoicemails(rt.cfg.Lenders, override, opts); err != nil {
		return err
	}
	var payErrs []error
	for i, lc := range rt.cfg.Lenders {
		payErrs = append(payErrs, lc.Payments.validate(i), lc.Fairness.validate(i))
	}
	if err := errors.Join(payErrs...); err != nil {
		return err
	}
	for i, lc := range rt.cfg.Lenders {
		if lc.ID == "" {
			return fmt.Errorf("lenders[%d].id is required", i)
		}
		l := nudge.Lender{ID: lc.ID, Name: lc.Name, Language: lc.Language, Timezone: lc.Timezone,
			HelpPhone: lc.HelpPhone, AgentPhone: lc.AgentPhone, CreatedAt: rt.clock.Now(),
			VoicemailBusinessName: lc.VoicemailBusinessName, VoicemailCallerName: lc.VoicemailCallerName,
			PaymentURL: lc.Payments.URL, Plans: lc.Payments.Plans.Rules()}
		if l.Name == "" {
			l.Name = l.ID
		}
		if err := rt.db.UpsertLender(ctx, l); err != nil {
			return fmt.Errorf("lenders[%d]: %w", i, err)
		}
		sources, ok := override[lc.ID]
		if !ok {
			for _, path := range lc.Cadences {
				data, err := os.ReadFile(path)
				if err != nil {
					return fmt.Errorf("lenders[%d].cadences: %w", i, err)
				}
				sources = append(sources, cadenceSource{name: path, data: data})
			}
		}
		active, err := rt.db.ActiveCadences(ctx, lc.ID)
		if err != nil {
			return err
		}
		for _, src := range sources {
			c, err := schedules.Parse(src.name, src.data, opts...)
			if err != nil {
				return err
			}
			if sameSource(active, c.Name, src.data) {
				continue
			}
			v, err := rt.db.PutCadenceVersion(ctx, lc.ID, c.Name, src.data, rt.clock.Now(), true, nil)
			if err != nil {
				return err
			}
			rt.logger.Info("cadence activated", "lender", lc.ID, "cadence", c.Name, "version", v)
		}
	}
	return nil
}

func sameSource(active []nudge.CadenceVersion, name string, data []byte) bool {
	for _, v := range active {
		if v.Name == name {
			return bytes.Equal(v.Source, data)
		}
	}
	return false
}

// senderChange tells the operator that a pool's sender was taken out after
// failures, or is back in service: an ALERT (or recovery) log line, the
// nudge_sender_breaker_changes_total metric and an audit entry.
func (rt *runtime) senderChange(c twilio.SenderChange) {
	action := "sender_recovered"
	kind := "SMS sender"
	if strings.HasPrefix(c.Sender, twilio.VoiceHealthPrefix) {
		kind = "voice caller ID"
	}
	if c.Tripped {
		action = "sender_tripped"
		rt.logger.Error("ALERT: "+kind+" failing: its traffic moves to the pool's other senders until it recovers",
			"sender", c.Sender, "failures", c.Failures, "filtered", c.Filtered)
	} else {
		rt.logger.Warn(kind+" recovered: its borrowers return to it", "sender", c.Sender)
	}
	if rt.metrics != nil {
		rt.metrics.SenderBreaker(c.Sender, c.Tripped)
	}
	if rt.db == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	detail := fmt.Sprintf("%d failures in a row", c.Failures)
	if c.Filtered > 0 {
		detail = fmt.Sprintf("%d messages filtered by carriers (30007) within the filter window", c.Filtered)
	}
	if !c.Tripped {
		detail = "accepted a message again"
	}
	if err := rt.db.AppendAudit(ctx, nudge.AuditEntry{Actor: "system", Action: action, Target: c.Sender, Detail: detail, At: c.At}); err != nil {
		rt.logger.Error("record sender change in the audit log", "sender", c.Sender, "err", err)
	}
}

// buildSenders picks a sender per channel: the given ones, Twilio for SMS when
// configured, and the console otherwise (with a warning).
func (rt *runtime) buildSenders(given map[nudge.ChannelKind]nudge.Sender) error {
	rt.senders = map[nudge.ChannelKind]nudge.Sender{}
	for ch, s := range given {
		rt.senders[ch] = s
	}
	rt.senderRate = func(m *nudge.Message) (string, float64) {
		return "default:" + string(m.Channel), 50
	}
	rates := map[nudge.ChannelKind]func(*nudge.Message) (string, float64){}
	if rt.cfg.Twilio.AccountSID != "" {
		tc := rt.cfg.Twilio.channelConfig(rt.cfg.PublicURL)
		bc := tc.Breaker()
		bc.OnChange = rt.senderChange
		var health twilio.Health = twilio.NewBreaker(bc)
		if rt.rdb != nil {
			// Shared by every worker: one trips a sender for all. SMS
			// senders and voice caller IDs (twilio.VoiceHealthPrefix)
			// are kept apart.
			health = twilio.NewRedisHealth(rt.rdb, bc)
		}
		if _, ok := rt.senders[nudge.SMS]; !ok {
			sms, err := twilio.New(tc, twilio.WithHealth(health))
			if err != nil {
				return err
			}
			rt.senders[nudge.SMS], rates[nudge.SMS] = sms, sms.SenderRate
		}
		if _, ok := rt.senders[nudge.Voice]; !ok {
			vc := tc
			if rt.cfg.Twilio.VoiceFrom != "" {
				vc.From = rt.cfg.Twilio.VoiceFrom
			}
			opts := []twilio.VoiceOption{twilio.WithRingTimeout(rt.cfg.Voice.RingTimeout), twilio.WithMaxCallLength(rt.cfg.Voice.MaxCallLength),
				twilio.WithVoiceHealth(health)}
			if rt.cfg.Twilio.VoiceCPS > 0 {
				opts = append(opts, twilio.WithCPS(rt.cfg.Twilio.VoiceCPS))
			}
			voice, err := twilio.NewVoice(vc, webhooks.VoiceToken, opts...)
			if err != nil {
				return fmt.Errorf("twilio voice: %w", err)
			}
			rt.senders[nudge.Voice], rates[nudge.Voice] = voice, voice.SenderRate
		}
	}
	identities, err := rt.cfg.emailIdentities()
	if err != nil {
		return err
	}
	if _, ok := rt.senders[nudge.Email]; !ok && rt.cfg.SMTP.Host != "" {
		mail, err := smtp.New(rt.cfg.smtpConfig(), smtp.WithClock(rt.clock), smtp.WithLogger(rt.logger),
			smtp.WithLenders(identities), smtp.WithReplyTagHeader(link.ReplyHeader))
		if err != nil {
			return err
		}
		rt.senders[nudge.Email], rates[nudge.Email] = mail, mail.SenderRate
		rt.closers = append(rt.closers, mail.Close)
	}
	base := rt.senderRate
	rt.senderRate = func(m *nudge.Message) (string, float64) {
		if f, ok := rates[m.Channel]; ok {
			return f(m)
		}
		return base(m)
	}
	for _, ch := range nudge.Channels {
		if _, ok := rt.senders[ch]; !ok {
			rt.logger.Warn("no provider configured: messages are printed, not sent", "channel", ch)
			rt.senders[ch] = console.New(os.Stdout)
		}
	}
	return nil
}

// Close releases what the runtime opened.
func (rt *runtime) Close() {
	for _, c := range rt.closers {
		if err := c(); err != nil {
			rt.logger.Warn("closing", "err", err)
		}
	}
	if rt.rdb != nil {
		rt.rdb.Close()
	}
	if rt.db != nil {
		rt.db.Close()
	}
}

// planner builds the scheduler's Planner.
func (rt *runtime) planner() *schedules.Planner {
	return &schedules.Planner{
		Store: rt.db, Cadences: rt.lib, Enqueuer: rt.enq, Clock: rt.clock,
		Logger: rt.logger, Batch: rt.cfg.Scheduler.Batch, Concurrency: rt.cfg.Scheduler.Concurrency,
		Metrics: rt.metrics, SendTimes: rt.sendTimes(),
	}
}

// profiles finds the compliance profile of a lender's active cadence.
func (rt *runtime) profiles() dispatcher.Profiles {
	return dispatcher.ProfilesFunc(rt.lib.ActiveProfile)
}

// templateFor names the template of r's step on channel ch (its fallback
// template when ch is the step's fallback channel).
func (rt *runtime) templateFor(ctx context.Context, r nudge.Reminder, ch nudge.ChannelKind) (string, error) {
	step, err := rt.stepOf(ctx, r)
	if err != nil {
		return "", err
	}
	return step.TemplateFor(ch), nil
}

// instructions returns the instructions of r's task step.
func (rt *runtime) instructions(ctx context.Context, r nudge.Reminder) (string, error) {
	step, err := rt.stepOf(ctx, r)
	if err != nil {
		return "", err
	}
	return step.Instructions, nil
}

// stepOf returns the step of r's cadence version that r reminds of, as
// r's experiment arm has it.
func (rt *runtime) stepOf(ctx context.Context, r nudge.Reminder) (schedules.Step, error) {
	c, err := rt.lib.Cadence(ctx, r.Key.Lender, r.Key.Cadence, r.CadenceVersion)
	if err != nil {
		return schedules.Step{}, err
	}
	// An experiment's arm may change the step (its template or channel).
	step, _, ok := c.ForArm(r.Arm).Step(r.Key.Step)
	if !ok {
		return schedules.Step{}, fmt.Errorf("cadence %s has no step %s", c.Name, r.Key.Step)
	}
	return step, nil
}

// workItems is what the console uses of work items: the store's queues
// and the answer handler's completion.
type workItems struct {
	*store.DB
	replies *response.Handler
}

// Complete implements ops.OpsWorkItems and api.WorkItems.
func (w workItems) Complete(ctx context.Context, lender, id string, c nudge.WorkCompletion) (nudge.WorkItem, error) {
	return w.replies.CompleteWorkItem(ctx, w.DB, lender, id, c)
}

// pipeline builds the worker's send pipeline.
func (rt *runtime) pipeline() (*dispatcher.Pipeline, error) {
	cfg, err := rt.pipelineConfig()
	if err != nil {
		return nil, err
	}
	return dispatcher.NewPipeline(cfg)
}

// pipelineConfig is the worker's pipeline configuration (the forecast
// changes its rate limits).
func (rt *runtime) pipelineConfig() (dispatcher.PipelineConfig, error) {
	profiles := rt.profiles()
	_, lenderRate, err := lenderFairness(rt.cfg.Lenders)
	if err != nil {
		return dispatcher.PipelineConfig{}, err
	}
	return dispatcher.PipelineConfig{
		Store:    rt.db,
		Profiles: profiles,
		Renderer: &dispatcher.TemplateRenderer{
			Pack: rt.pack, Store: rt.db, Profiles: profiles, Links: rt.links,
			PublicURL: rt.cfg.PublicURL, Clock: rt.clock,
			TemplateFor: rt.templateFor,
			ReplyTokens: rt.cfg.emailReplies(),
			PayLink:     payment.LinkFor,
		},
		Senders:    rt.senders,
		WorkItems:  rt.db,
		Limiter:    dispatcher.NewRateLimiter(rt.rdb, nil),
		SenderRate: rt.senderRate,
		LenderRate: lenderRate,
		EndMargins: map[nudge.ChannelKind]time.Duration{nudge.Voice: rt.cfg.Voice.EndMargin},
		Clock:      rt.clock,
		Logger:     rt.logger,
		Metrics:    rt.metrics,
		// A task step's work item carries the step's instructions.
		Instructions: rt.instructions,
	}, nil
}

// reconciler builds the reconciler: every sender that can look its sends up
// at the provider (Twilio's) is a prober; email follows each lender's
// email_on_unknown.
func (rt *runtime) reconciler() (*dispatcher.Reconciler, error) {
	probers := map[nudge.ChannelKind]nudge.Prober{}
	for ch, s := range rt.senders {
		if p, ok := s.(nudge.Prober); ok {
			probers[ch] = p
		}
	}
	policies := map[string]dispatcher.EmailPolicy{}
	for i, l := range rt.cfg.Lenders {
		switch p := dispatcher.EmailPolicy(l.EmailOnUnknown); p {
		case "":
		case dispatcher.EmailResend, dispatcher.EmailHold:
			policies[l.ID] = p
		default:
			return nil, fmt.Errorf("lenders[%d].email_on_unknown: %q is neither resend nor hold", i, l.EmailOnUnknown)
		}
	}
	return dispatcher.NewReconciler(dispatcher.ReconcilerConfig{
		Store: rt.db, Queue: rt.enq, Probers: probers, Settle: rt.cfg.Reconcile.Settle,
		EmailPolicy: func(lender string) dispatcher.EmailPolicy {
			if p, ok := policies[lender]; ok {
				return p
			}
			return dispatcher.EmailResend
		},
		Clock: rt.clock, Logger: rt.logger, Metrics: rt.metrics,
	})
}

// accountProfile is the compliance profile of the account's cadence (the
// first active one covering its portfolio), or the default for its country.
func (rt *runtime) accountProfile(ctx context.Context, a nudge.Account) (*compliance.Profile, error) {
	p, ok, err := rt.lib.AccountProfile(ctx, a)
	if err != nil || ok {
		return p, err
	}
	return rt.reg.Lookup(compliance.DefaultProfileName(a))
}

// replies builds the handler of borrowers' answers.
func (rt *runtime) replies() *response.Handler {
	return &response.Handler{
		Store: rt.db, Tasks: rt.enq, Pack: rt.pack, Profile: rt.accountProfile,
		Clock: rt.clock, Logger: rt.logger, Metrics: rt.metrics,
	}
}

// health serves /healthz, /readyz (Redis and the database reachable) and
// /metrics: all that the scheduler and worker roles serve.
func (rt *runtime) health() *web.Server {
	srv := web.NewServer(rt.logger, map[string]web.Pinger{
		"database": rt.db,
		"redis":    web.PingFunc(func(ctx context.Context) error { return rt.rdb.Ping(ctx).Err() }),
	}, web.WithLimits(rt.limits))
	(&web.Metrics{Gatherer: rt.metrics.Gatherer(), Logger: rt.logger}).Register(srv)
	return srv
}

// handler builds the HTTP handler of the api role.
func (rt *runtime) handler() (http.Handler, error) {
	srv := rt.health()
	control := &dispatcher.Control{Store: rt.db, Queue: rt.enq, Clock: rt.clock}
	prices, err := rt.cfg.kpiSettings()
	if err != nil {
		return nil, err
	}
	console, err := ops.NewOps(ops.OpsConfig{
		Store: rt.db, Secret: []byte(rt.cfg.Secret), Redis: rt.rdb, Control: control, Cadences: rt.lib,
		PublicURL: rt.cfg.PublicURL, Prices: prices, CureDays: rt.cfg.KPIs.CureDays, Clock: rt.clock, Logger: rt.logger,
		WorkItems: workItems{DB: rt.db, replies: rt.replies()}, CadenceOptions: parseOptions(rt.pack, rt.reg),
		SendTime: rt.cfg.SendTime.optimiser(rt.db),
	})
	if err != nil {
		return nil, err
	}
	console.Register(srv)
	replies := rt.replies()
	(&borrower.SelfService{Links: rt.links, Store: rt.db, Answers: replies,
		Profile: rt.accountProfile, Clock: rt.clock, Logger: rt.logger}).Register(srv)
	if rt.cfg.Twilio.AuthToken != "" {
		tokens := rt.cfg.Twilio.channelConfig(rt.cfg.PublicURL).AccountTokens()
		status := &webhooks.TwilioSMS{
			AuthToken: rt.cfg.Twilio.AuthToken, AccountTokens: tokens, PublicURL: rt.cfg.PublicURL,
			Store: rt.db, Replies: replies, Clock: rt.clock, Logger: rt.logger, Metrics: rt.metrics,
		}
		if sms, ok := rt.senders[nudge.SMS].(*twilio.SMS); ok {
			status.Deliveries = sms
		}
		status.Register(srv)
		(&webhooks.TwilioVoice{
			AuthToken: rt.cfg.Twilio.AuthToken, AccountTokens: tokens, PublicURL: rt.cfg.PublicURL, Links: rt.links,
			Store: rt.db, Answers: replies, Pack: rt.pack, Profile: rt.accountProfile,
			TemplateFor: rt.templateFor, Clock: rt.clock, Logger: rt.logger,
		}).Register(srv)
	}
	(&borrower.Unsubscribe{Links: rt.links, Store: rt.db, Clock: rt.clock, Logger: rt.logger, Metrics: rt.metrics}).Register(srv)
	if rt.cfg.emailReplies() {
		(&webhooks.MailgunInbound{SigningKey: rt.cfg.Mailgun.SigningKey, Links: rt.links, ReplyAddress: rt.cfg.replyAddress,
			Replies: replies, Clock: rt.clock, Logger: rt.logger}).Register(srv)
	}
	sealer, err := payment.NewSealer([]byte(rt.cfg.Secret))
	if err != nil {
		return nil, err
	}
	(&webhooks.Payments{Store: rt.db, Sealer: sealer, Tasks: rt.enq, Clock: rt.clock, Logger: rt.logger}).Register(srv)
	(&api.API{
		Store: rt.db, Tasks: rt.enq, Control: control, Pack: rt.pack, Profiles: rt.reg, Cadences: rt.lib,
		CadenceOptions: parseOptions(rt.pack, rt.reg), Clock: rt.clock, Logger: rt.logger,
		Limiter:   web.RedisKeyLimiter{Limiter: dispatcher.NewRateLimiter(rt.rdb, nil)},
		PublicURL: rt.cfg.PublicURL, Sealer: sealer, Webhooks: rt.db, WebhookConfig: rt.cfg.Webhooks,
		Prices: prices, CureDays: rt.cfg.KPIs.CureDays,
		WorkItems:  workItems{DB: rt.db, replies: replies},
		Forecaster: apiForecaster{cfg: rt.cfg},
	}).Register(srv)
	return web.InstrumentWebhooks(rt.metrics, rt.clock, srv), nil
}

// role is one long-running part of a process.
type role func(ctx context.Context) error

// runScheduler ticks the planner, the reconciler and the KPI rollups, each
// on its own tick, until ctx is done.
func (rt *runtime) runScheduler(ctx context.Context) error {
	rc, err := rt.reconciler()
	if err != nil {
		return err
	}
	r, err := schedules.NewRunner(ctx, rt.cfg.Scheduler.Spec, time.UTC, rt.planner())
	if err != nil {
		return err
	}
	r.Start()
	// The KPI rollups run on their own tick, so a long recomputation never
	// delays reconciliation.
	rollups := make(chan struct{})
	go func() {
		defer close(rollups)
		rt.runKPIRollups(ctx)
	}()
	t := time.NewTicker(rt.cfg.Reconcile.Every)
	defer t.Stop()
	hooks := time.NewTicker(rt.cfg.Webhooks.FanoutEvery)
	defer hooks.Stop()
	for {
		select {
		case <-ctx.Done():
			r.Stop()
			<-rollups
			return nil
		case <-hooks.C:
			// New events become webhook deliveries; due ones are queued.
			if err := rt.webhooks.Fanout(ctx); err != nil && ctx.Err() == nil {
				rt.logger.Warn("webhook fan-out", "err", err)
			}
		case <-t.C:
			rep, err := rc.Run(ctx, false)
			switch {
			case err != nil && ctx.Err() == nil:
				rt.logger.Warn("reconcile", "err", err)
			case len(rep.Resolutions) > 0 || len(rep.Errors) > 0:
				rt.logger.Info("reconciled", "checked", rep.Checked, "counts", rep.Counts, "errors", len(rep.Errors))
			}
		}
	}
}

// runWorker processes reminder tasks until ctx is done, then finishes or
// requeues in-flight work within worker.shutdown_timeout.
func (rt *runtime) runWorker(ctx context.Context) error {
	p, err := rt.pipeline()
	if err != nil {
		return err
	}
	weight, _, err := lenderFairness(rt.cfg.Lenders)
	if err != nil {
		return err
	}
	if rt.cfg.Worker.DiscoverEvery < 0 {
		return fmt.Errorf("worker.discover_every: %s must be positive (unset means %s)", rt.cfg.Worker.DiscoverEvery, dispatcher.DefaultDiscoverEvery)
	}
	srv := dispatcher.NewServer(rt.rdb, p, dispatcher.ServerConfig{
		Concurrency: rt.cfg.Worker.Concurrency, ShutdownTimeout: rt.cfg.Worker.ShutdownTimeout, Logger: rt.logger,
		LenderWeight: weight, DiscoverEvery: rt.cfg.Worker.DiscoverEvery, Lenders: lenderIDs(rt.cfg.Lenders),
	})
	srv.Handle(webhook.TypeDeliver, rt.webhooks)
	return srv.Run(ctx)
}

// runAPI serves the API role on ln until ctx is done.
func (rt *runtime) runAPI(ctx context.Context, ln net.Listener) error {
	h, err := rt.handler()
	if err != nil {
		return err
	}
	return rt.serveHTTP(ctx, ln, h)
}

// serveHTTP serves h on ln until ctx is done, then shuts down gracefully.
func (rt *runtime) serveHTTP(ctx context.Context, ln net.Listener, h http.Handler) error {
	hs := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		return hs.Shutdown(sctx)
	}
}

// listen opens the api role's listener on cfg.Addr.
func (rt *runtime) listen() (net.Listener, error) {
	ln, err := net.Listen("tcp", rt.cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("addr %s: %w", rt.cfg.Addr, err)
	}
	return ln, nil
}

// runRoles runs roles until ctx is done or one fails; a failure stops the others.
func runRoles(ctx context.Context, roles ...role) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	errs := make([]error, len(roles))
	for i, r := range roles {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if errs[i] = r(ctx); errs[i] != nil {
				cancel()
			}
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}
