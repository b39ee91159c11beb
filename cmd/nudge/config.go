package main

import (
	"errors"
	"fmt"
	"net"
	"os"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/goccy/go-yaml"
	"github.com/redis/go-redis/v9"

	"github.com/nudgehq/nudge"
	"github.com/nudgehq/nudge/channels/twilio"
	"github.com/nudgehq/nudge/dispatcher"
	"github.com/nudgehq/nudge/payment"
	"github.com/nudgehq/nudge/web"
	"github.com/nudgehq/nudge/webhook"
)

// Config is the whole configuration of a Nudge process. It is read from a YAML
// file (--config) and then from NUDGE_* environment variables, which win: the
// key twilio.auth_token is NUDGE_TWILIO_AUTH_TOKEN. Every secret also has a
// *_file variant (twilio.auth_token_file, NUDGE_TWILIO_AUTH_TOKEN_FILE) naming
// a file that holds it. Secrets are never printed.
type Config struct {
	// Database is sqlite:///path/nudge.db or postgres://user@host/db.
	Database string `yaml:"database"`
	// DatabaseReplica, when set, is a PostgreSQL read replica of Database
	// (postgres://…) that the operator console's dashboards, lists and
	// dead letters read from; writes and the send path stay on Database.
	// A replica may be seconds behind (docs/operations.md, "Read replica").
	DatabaseReplica string `yaml:"database_replica"`
	// Addr is where the HTTP server listens.
	Addr string `yaml:"addr"`
	// HealthAddr, when set, is where the scheduler and worker roles (which
	// serve no API) answer /healthz and /readyz for orchestrators.
	HealthAddr string `yaml:"health_addr"`
	// PublicURL is the address the outside world (Twilio, borrowers) uses to
	// reach Addr; links in messages start with it. It defaults to
	// http://{addr}, which only this machine can reach: a process that sends
	// through a real SMTP server or Twilio account refuses to start unless it
	// is https (checkPublicURL; docs/operations.md, "Public URL").
	PublicURL string `yaml:"public_url"`
	// AllowLocalPublicURL lets a process with real providers start with an
	// http public_url on this machine (localhost, 127.0.0.1, [::1]): for
	// local development only, since links in messages then work nowhere
	// else. Any other http public_url is still refused.
	AllowLocalPublicURL bool `yaml:"allow_local_public_url"`
	// Secret keys opt-out hashes and the forms of borrowers' pages; at least 32 bytes.
	// Keep it stable: an erased borrower's opt-out is found by its keyed hash only.
	Secret string `yaml:"secret"`
	// SecretFile names a file holding the secret.
	SecretFile string `yaml:"secret_file" secret:"Secret"`
	// Templates is a lender override directory for the template pack.
	Templates string `yaml:"templates"`
	// Profiles are lender compliance profile files.
	Profiles []string `yaml:"profiles"`
	// Lenders are the tenants this deployment serves, with their cadence files.
	// They are written to the database on start (not settable from the environment).
	Lenders []LenderConfig `yaml:"lenders"`

	Redis     RedisConfig     `yaml:"redis"`
	Scheduler SchedulerConfig `yaml:"scheduler"`
	Reconcile ReconcileConfig `yaml:"reconcile"`
	Worker    WorkerConfig    `yaml:"worker"`
	Voice     VoiceConfig     `yaml:"voice"`
	Twilio    TwilioConfig    `yaml:"twilio"`
	SMTP      SMTPConfig      `yaml:"smtp"`
	Log       LogConfig       `yaml:"log"`
	HTTP      HTTPConfig      `yaml:"http"`
	Mailgun   MailgunConfig   `yaml:"mailgun"`
	// Webhooks tunes the lender's outbound webhooks (docs/integration.md).
	Webhooks webhook.Config `yaml:"webhooks"`
	// Prices and KPIs tune the KPIs (docs/kpis.md).
	Prices PricesConfig `yaml:"prices"`
	KPIs   KPIConfig    `yaml:"kpis"`
	// SendTime tunes send-time optimisation for the lenders that have it
	// on (docs/send-time.md).
	SendTime SendTimeConfig `yaml:"send_time"`

	// src is the file the configuration was read from, to name the line of
	// a bad setting; nil when none was.
	src *configSource
}

// LenderConfig describes one lender and the cadence files it runs.
type LenderConfig struct {
	ID string `yaml:"id"`
	// Name is how messages name the lender.
	Name string `yaml:"name"`
	// Language is the default language of its borrowers (en, es, zh-CN)
	// and of the operator console for its users.
	Language string `yaml:"language"`
	// Timezone is where its blackout calendar and office hours are read, and
	// the zone the operator console counts its days and shows its times in.
	Timezone string `yaml:"timezone"`
	// HelpPhone is the number borrowers are told to call.
	HelpPhone string `yaml:"help_phone"`
	// AgentPhone is where a call is transferred to reach a person.
	AgentPhone string `yaml:"agent_phone"`
	// VoicemailBusinessName is how a limited-content voicemail names the
	// business: one that does not say it collects debts (12 CFR 1006.2(j));
	// empty means Name, which must then not say so either.
	VoicemailBusinessName string `yaml:"voicemail_business_name"`
	// VoicemailCallerName is the person (an assumed name is allowed) a
	// voicemail asks the borrower to call back; required when the lender's
	// cadences place calls.
	VoicemailCallerName string `yaml:"voicemail_caller_name"`
	// Payments are the lender's payment link and payment-plan rules
	// (docs/payments.md).
	Payments PaymentsConfig `yaml:"payments"`
	// Cadences are cadence files; a changed file becomes a new active version on start.
	Cadences []string `yaml:"cadences"`
	// EmailOnUnknown says what happens to an email whose SMTP reply was lost
	// after the message was handed over: "resend" (default: once, with the
	// same Message-ID, on which receivers de-duplicate) or "hold" (for a
	// person to decide).
	EmailOnUnknown string `yaml:"email_on_unknown"`
	// EmailFrom is the From of the lender's email ("Acme Auto Finance
	// <reminders@acme.example>"); empty means smtp.from.
	EmailFrom string `yaml:"email_from"`
	// EmailReplyTo is where replies to the lender's email go, plus-addressed
	// with each borrower's reply token (docs/operations.md, "Email
	// replies"); empty means smtp.reply_to.
	EmailReplyTo string `yaml:"email_reply_to"`
	// DKIM are the lender's own DKIM signing keys, which sign its mail
	// instead of the per-domain smtp.dkim keys; each key's domain must be
	// the domain of the lender's From or a parent of it.
	DKIM []DKIMConfig `yaml:"dkim"`
	// Fairness is the lender's share of the workers: a weight and a most
	// sends a second (docs/fairness.md).
	Fairness FairnessConfig `yaml:"fairness"`
	// SendTimeOptimisation places the lender's SMS, calls and emails at
	// the hour of the step's day each borrower answers best, learned from
	// the ledger (docs/send-time.md). Off by default.
	SendTimeOptimisation bool `yaml:"send_time_optimisation"`
}

// PaymentsConfig is a lender's payment settings.
type PaymentsConfig struct {
	// URL is the lender's payment portal link, a template over {account},
	// {amount} and {currency} ("https://pay.acme.example/pay?ref={account}&amount={amount}"):
	// https only, each value percent-encoded. It puts a "Pay now" button
	// first on the borrower's page and a pay link in emails; empty means none.
	URL string `yaml:"url"`
	// Plans are the rules of the payment plans a borrower may choose on the
	// page; unset offers none.
	Plans PlansConfig `yaml:"plans"`
}

// PlansConfig is a lender's payment-plan rules (nudge.PlanRules).
type PlansConfig struct {
	// MaxInstalments is the most instalments a plan may have (2 to 24).
	MaxInstalments int `yaml:"max_instalments"`
	// MinInstalment is the smallest instalment, a decimal amount in the
	// account's currency ("50.00"); empty means any.
	MinInstalment string `yaml:"min_instalment"`
	// IntervalDays is the number of days between instalments.
	IntervalDays int `yaml:"interval_days"`
	// MaxDays is how many days after the day the plan is made the last
	// instalment may fall.
	MaxDays int `yaml:"max_days"`
}

// Rules returns the plan rules p describes.
func (p PlansConfig) Rules() nudge.PlanRules {
	return nudge.PlanRules{MaxInstalments: p.MaxInstalments, MinInstalment: p.MinInstalment, IntervalDays: p.IntervalDays, MaxDays: p.MaxDays}
}

// validate checks lender i's payment settings; errors name the field.
func (p PaymentsConfig) validate(i int) error {
	var errs []error
	if p.URL != "" {
		if _, err := payment.ParseURL(p.URL); err != nil {
			errs = append(errs, fmt.Errorf("lenders[%d].payments.url: %q %w", i, p.URL, err))
		}
	}
	if err := payment.ValidateRules(p.Plans.Rules()); err != nil {
		for _, e := range unjoin(err) {
			errs = append(errs, fmt.Errorf("lenders[%d].payments.plans.%w", i, e))
		}
	}
	return errors.Join(errs...)
}

// unjoin returns the errors errors.Join joined in err, or err alone.
func unjoin(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}

// ReconcileConfig tunes the reconciler the scheduler role runs: it resolves
// attempts whose provider answer was lost.
type ReconcileConfig struct {
	// Every is how often it runs (default 30s).
	Every time.Duration `yaml:"every"`
	// Settle is how long the provider must have had no record of an attempt
	// before it is released for one more send (default 2m).
	Settle time.Duration `yaml:"settle"`
}

// VoiceConfig bounds calls to the borrower's allowed window.
type VoiceConfig struct {
	// EndMargin keeps a call from starting within this long of the window's
	// end in any candidate zone (default 10m).
	EndMargin time.Duration `yaml:"end_margin"`
	// RingTimeout is how long a call rings before it counts as unanswered
	// (Twilio's Timeout; default 30s).
	RingTimeout time.Duration `yaml:"ring_timeout"`
	// MaxCallLength caps a call (Twilio's TimeLimit, which is also never more
	// than the time left in the window; default 10m).
	MaxCallLength time.Duration `yaml:"max_call_length"`
}

// RedisConfig says where the work queue lives.
type RedisConfig struct {
	Addr     string `yaml:"addr"`
	Username string `yaml:"username"`
	Password string `yaml:"password"`
	// PasswordFile names a file holding the password.
	PasswordFile string `yaml:"password_file" secret:"Password"`
	DB           int    `yaml:"db"`
	// SentinelMaster, with SentinelAddrs, selects Redis Sentinel for failover.
	SentinelMaster string   `yaml:"sentinel_master"`
	SentinelAddrs  []string `yaml:"sentinel_addrs"`
	// SentinelPassword is the sentinels' own password, when they have one.
	SentinelPassword string `yaml:"sentinel_password"`
	// ClusterAddrs selects Redis Cluster: some of its nodes (the client
	// discovers the rest).
	ClusterAddrs []string `yaml:"cluster_addrs"`
}

// Nudge's Redis commands and replies are small (task messages, Lua scripts,
// token buckets), so its connections' buffers are a fraction of go-redis's
// defaults (32 KiB per direction, 128 KiB on the pipeline pool): with a pool
// of 20 connections and a pipeline pool of 10, the defaults held about 4 MB
// of a worker's heap (#16). A bigger reply (a dashboard's task listing) is
// read in more reads, not refused.
const (
	redisBufferSize         = 8 << 10
	redisPipelineBufferSize = 32 << 10
)

// Options returns the go-redis options r describes: one server (addr), a
// Sentinel-managed primary (sentinel_master and sentinel_addrs) or a Cluster
// (cluster_addrs), refusing a mix of them or an incomplete one with the
// setting's name.
func (r RedisConfig) Options() (*redis.UniversalOptions, error) {
	modes := 0
	for _, set := range []bool{r.Addr != "", len(r.SentinelAddrs) > 0, len(r.ClusterAddrs) > 0} {
		if set {
			modes++
		}
	}
	var errs []error
	switch {
	case modes == 0:
		errs = append(errs, errors.New("no Redis configured: set redis.addr (NUDGE_REDIS_ADDR), redis.sentinel_addrs or redis.cluster_addrs; "+
			"Nudge never falls back to an in-memory Redis outside `nudge demo`"))
	case modes > 1:
		errs = append(errs, errors.New("redis: set one of redis.addr, redis.sentinel_addrs and redis.cluster_addrs, not several"))
	}
	if len(r.SentinelAddrs) > 0 && r.SentinelMaster == "" {
		errs = append(errs, errors.New("redis.sentinel_master: required with redis.sentinel_addrs (the name the sentinels monitor)"))
	}
	if r.SentinelMaster != "" && len(r.SentinelAddrs) == 0 {
		errs = append(errs, errors.New("redis.sentinel_addrs: required with redis.sentinel_master"))
	}
	if len(r.ClusterAddrs) > 0 && r.DB != 0 {
		errs = append(errs, fmt.Errorf("redis.db is %d: Redis Cluster has only database 0", r.DB))
	}
	for _, list := range []struct {
		key   string
		addrs []string
	}{{"sentinel_addrs", r.SentinelAddrs}, {"cluster_addrs", r.ClusterAddrs}} {
		for i, a := range list.addrs {
			if _, _, err := net.SplitHostPort(a); err != nil {
				errs = append(errs, fmt.Errorf("redis.%s[%d]: %q is not host:port", list.key, i, a))
			}
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	o := &redis.UniversalOptions{Addrs: []string{r.Addr}, Username: r.Username, Password: r.Password, DB: r.DB,
		ReadBufferSize: redisBufferSize, WriteBufferSize: redisBufferSize,
		PipelineReadBufferSize: redisPipelineBufferSize, PipelineWriteBufferSize: redisPipelineBufferSize}
	switch {
	case len(r.SentinelAddrs) > 0:
		o.Addrs, o.MasterName, o.SentinelPassword = r.SentinelAddrs, r.SentinelMaster, r.SentinelPassword
	case len(r.ClusterAddrs) > 0:
		o.Addrs, o.IsClusterMode = r.ClusterAddrs, true
	}
	return o, nil
}

// SchedulerConfig tunes the cron scheduler.
type SchedulerConfig struct {
	// Spec is the robfig/cron schedule of planning ticks.
	Spec string `yaml:"spec"`
	// Batch is the most accounts planned per query, and the most overdue
	// reminders one page of the catch-up re-enqueues.
	Batch int `yaml:"batch"`
	// Concurrency is how many due accounts are planned at once (default 8).
	Concurrency int `yaml:"concurrency"`
}

// WorkerConfig tunes the Asynq worker.
type WorkerConfig struct {
	// Concurrency is how many tasks a worker process runs at once (default
	// dispatcher.DefaultConcurrency, the bench's and the README's 256).
	Concurrency     int           `yaml:"concurrency"`
	ShutdownTimeout time.Duration `yaml:"shutdown_timeout"`
	// DiscoverEvery is how often a worker looks for new lender queues
	// (default dispatcher.DefaultDiscoverEvery).
	DiscoverEvery time.Duration `yaml:"discover_every"`
}

// TwilioConfig configures SMS and voice through Twilio.
type TwilioConfig struct {
	AccountSID string `yaml:"account_sid"`
	AuthToken  string `yaml:"auth_token"`
	// AuthTokenFile names a file holding the auth token.
	AuthTokenFile       string `yaml:"auth_token_file" secret:"AuthToken"`
	MessagingServiceSID string `yaml:"messaging_service_sid"`
	From                string `yaml:"from"`
	// MPS is the sender's messages-per-second budget, shared by every worker
	// through Redis; zero picks Twilio's default for the kind of sender
	// (100 for a short code, 3 for toll-free, 10 otherwise).
	MPS float64 `yaml:"mps"`
	// BaseURL is empty for Twilio itself, or the address of a simulator.
	BaseURL string `yaml:"base_url"`
	// VoiceFrom is the caller ID of voice calls (E.164); default From.
	VoiceFrom string `yaml:"voice_from"`
	// VoiceCPS limits calls per second for the account (default 1).
	VoiceCPS float64 `yaml:"voice_cps"`
	// Timeout bounds one API call (default 10s). An answer that does not
	// come in time leaves the message unknown, for the reconciler.
	Timeout time.Duration `yaml:"timeout"`
	// Senders routes SMS per lender and destination country; a route may
	// list a pool of senders with failover (docs/operations.md, "Sender
	// pools").
	Senders []twilio.SenderRoute `yaml:"senders"`
	// VoiceSenders routes calls per lender and destination country; a
	// route may list a pool of caller IDs with failover, each maybe in its
	// own subaccount (docs/operations.md, "Sender pools"). Calls that match
	// no route come from VoiceFrom.
	VoiceSenders []twilio.SenderRoute `yaml:"voice_senders"`
	// BreakerThreshold and BreakerCooldown tune when a pool's failing sender
	// is taken out and when it is tried again (default 5 failures, 30s).
	BreakerThreshold int           `yaml:"breaker_threshold"`
	BreakerCooldown  time.Duration `yaml:"breaker_cooldown"`
	// BreakerFilterMin, BreakerFilterShare and BreakerFilterWindow take a
	// pool's SMS sender out when carriers filter (30007) at least that many
	// of its messages, making up at least that share of the delivery
	// reports, within the window (default 10, 0.3, 10m).
	BreakerFilterMin    int           `yaml:"breaker_filter_min"`
	BreakerFilterShare  float64       `yaml:"breaker_filter_share"`
	BreakerFilterWindow time.Duration `yaml:"breaker_filter_window"`
}

// channelConfig is the twilio package's config of t, for both channels
// (each validates the settings it uses).
func (t TwilioConfig) channelConfig(publicURL string) twilio.Config {
	return twilio.Config{
		AccountSID: t.AccountSID, AuthToken: t.AuthToken,
		MessagingServiceSID: t.MessagingServiceSID, From: t.From, MPS: t.MPS,
		BaseURL: t.BaseURL, PublicURL: publicURL, Timeout: t.Timeout,
		Senders: t.Senders, VoiceSenders: t.VoiceSenders,
		BreakerThreshold: t.BreakerThreshold, BreakerCooldown: t.BreakerCooldown,
		BreakerFilterMin: t.BreakerFilterMin, BreakerFilterShare: t.BreakerFilterShare, BreakerFilterWindow: t.BreakerFilterWindow,
	}
}

// SMTPConfig configures email.
type SMTPConfig struct {
	Host     string `yaml:"host"`
	Port     int    `yaml:"port"`
	Username string `yaml:"username"`
	Password string `yaml:"password"`
	// PasswordFile names a file holding the password.
	PasswordFile string `yaml:"password_file" secret:"Password"`
	From         string `yaml:"from"`
	// ReplyTo is the Reply-To of lenders without email_reply_to; empty
	// means replies go to the From address, unread by Nudge.
	ReplyTo string `yaml:"reply_to"`
	// TLS is "starttls" (default), "tls" or "none".
	TLS string `yaml:"tls"`
	// Timeout bounds one SMTP conversation (default 30s).
	Timeout time.Duration `yaml:"timeout"`
	// MPS limits messages per second through this server (default 10).
	MPS float64 `yaml:"mps"`
	// DKIM are per-domain DKIM signing keys: mail whose From is in a key's
	// domain, or below it, is signed with it unless its lender has keys of
	// its own. Each key must cover some lender's From.
	DKIM []DKIMConfig `yaml:"dkim"`
}

// HTTPConfig sets the HTTP server's limits (web.Limits); zero values take
// the documented defaults (docs/operations.md, "Limits").
type HTTPConfig struct {
	// TrustedProxies are the addresses or prefixes ("10.0.0.0/8") of reverse
	// proxies whose X-Forwarded-For names the client. Without any, the client
	// is the connection's address.
	TrustedProxies []string `yaml:"trusted_proxies"`
	// UnauthenticatedRate and UnauthenticatedBurst are each client address's
	// token bucket for requests without a valid key (per second, size).
	UnauthenticatedRate  float64 `yaml:"unauthenticated_rate"`
	UnauthenticatedBurst int     `yaml:"unauthenticated_burst"`
	// MaxBody bounds request bodies by family of routes, in bytes.
	MaxBody HTTPBodyConfig `yaml:"max_body"`
}

// HTTPBodyConfig is the largest body, in bytes, of each family of routes.
type HTTPBodyConfig struct {
	API     int `yaml:"api"`
	Import  int `yaml:"import"`
	Webhook int `yaml:"webhook"`
	Email   int `yaml:"email"`
	Page    int `yaml:"page"`
	Ops     int `yaml:"ops"`
	Queues  int `yaml:"queues"`
	Other   int `yaml:"other"`
}

// Limits returns the web limits h describes, refusing a bad proxy address
// or a negative size or rate with the setting's name.
func (h HTTPConfig) Limits() (web.Limits, error) {
	proxies, err := web.ParseTrustedProxies(h.TrustedProxies)
	if err != nil {
		return web.Limits{}, fmt.Errorf("http.%w", err)
	}
	b := h.MaxBody
	var errs []error
	for _, v := range []struct {
		key string
		n   float64
	}{
		{"unauthenticated_rate", h.UnauthenticatedRate}, {"unauthenticated_burst", float64(h.UnauthenticatedBurst)},
		{"max_body.api", float64(b.API)}, {"max_body.import", float64(b.Import)}, {"max_body.webhook", float64(b.Webhook)}, {"max_body.email", float64(b.Email)},
		{"max_body.page", float64(b.Page)}, {"max_body.ops", float64(b.Ops)}, {"max_body.queues", float64(b.Queues)},
		{"max_body.other", float64(b.Other)},
	} {
		if v.n < 0 {
			errs = append(errs, fmt.Errorf("http.%s is %g: want a positive value, or 0 for the default", v.key, v.n))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return web.Limits{}, err
	}
	return web.Limits{
		Body: web.BodyLimits{API: int64(b.API), Import: int64(b.Import), Webhook: int64(b.Webhook), Email: int64(b.Email),
			Page: int64(b.Page), Ops: int64(b.Ops), Queues: int64(b.Queues), Other: int64(b.Other)},
		Unauthenticated: web.RateLimit{PerSecond: h.UnauthenticatedRate, Burst: h.UnauthenticatedBurst},
		TrustedProxies:  proxies,
	}, nil
}

// LogConfig configures logging.
type LogConfig struct {
	Level  string `yaml:"level"`
	Format string `yaml:"format"`
}

// WithDefaults returns c with every empty setting filled with its default.
func (c Config) WithDefaults() Config {
	if c.Addr == "" {
		c.Addr = "127.0.0.1:8080"
	}
	if c.PublicURL == "" {
		c.PublicURL = "http://" + c.Addr
	}
	if c.Scheduler.Spec == "" {
		c.Scheduler.Spec = "@every 1m"
	}
	if c.Scheduler.Batch == 0 {
		c.Scheduler.Batch = 1000
	}
	if c.Scheduler.Concurrency == 0 {
		c.Scheduler.Concurrency = 8
	}
	if c.Reconcile.Every == 0 {
		c.Reconcile.Every = 30 * time.Second
	}
	if c.Reconcile.Settle == 0 {
		c.Reconcile.Settle = dispatcher.DefaultSettle
	}
	if c.Voice.EndMargin == 0 {
		c.Voice.EndMargin = dispatcher.DefaultVoiceEndMargin
	}
	if c.Worker.Concurrency == 0 {
		c.Worker.Concurrency = dispatcher.DefaultConcurrency
	}
	if c.Worker.ShutdownTimeout == 0 {
		c.Worker.ShutdownTimeout = 25 * time.Second
	}
	c.KPIs = c.KPIs.withDefaults()
	if c.Log.Level == "" {
		c.Log.Level = "info"
	}
	if c.Log.Format == "" {
		c.Log.Format = "json"
	}
	c.Webhooks = c.Webhooks.WithDefaults()
	return c
}

// LoadConfig reads path (when not empty), then the environment, then secret
// files, and fills defaults. Unknown keys in the file are errors.
func LoadConfig(path string, env func(string) (string, bool)) (Config, error) {
	var c Config
	if path != "" {
		data, err := os.ReadFile(path)
		if err != nil {
			return c, fmt.Errorf("config: %w", err)
		}
		if err := yaml.UnmarshalWithOptions(data, &c, yaml.Strict()); err != nil {
			return c, fmt.Errorf("config %s: %s", path, yaml.FormatError(err, false, true))
		}
		c.src = parseSource(path, data)
	}
	if err := applyEnv(reflect.ValueOf(&c).Elem(), "NUDGE", env); err != nil {
		return c, err
	}
	if err := readSecretFiles(reflect.ValueOf(&c).Elem(), ""); err != nil {
		return c, c.src.locate(err)
	}
	return c.WithDefaults(), nil
}

// applyEnv sets every field from NUDGE_<PATH> when that variable exists.
func applyEnv(v reflect.Value, prefix string, env func(string) (string, bool)) error {
	return walkEnv(v, prefix, func(name string, fv reflect.Value) error {
		s, ok := env(name)
		if !ok {
			return nil
		}
		if err := setField(fv, s); err != nil {
			return fmt.Errorf("environment %s: %w", name, err)
		}
		return nil
	})
}

// walkEnv calls fn with the environment variable name of every setting
// under v (lists of objects excepted: they are set in the file only).
func walkEnv(v reflect.Value, prefix string, fn func(name string, field reflect.Value) error) error {
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name := prefix + "_" + strings.ToUpper(yamlName(f))
		fv := v.Field(i)
		switch {
		case f.Type.Kind() == reflect.Struct:
			if err := walkEnv(fv, name, fn); err != nil {
				return err
			}
		case f.Type.Kind() == reflect.Slice && f.Type.Elem().Kind() != reflect.String:
		default:
			if err := fn(name, fv); err != nil {
				return err
			}
		}
	}
	return nil
}

// readSecretFiles fills each secret from the file its *_file setting
// names, in lists of settings too (lenders[0].dkim[0].private_key_file).
func readSecretFiles(v reflect.Value, path string) error {
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		key := yamlName(f)
		if path != "" {
			key = path + "." + key
		}
		if f.Type.Kind() == reflect.Struct {
			if err := readSecretFiles(v.Field(i), key); err != nil {
				return err
			}
			continue
		}
		if f.Type.Kind() == reflect.Slice && f.Type.Elem().Kind() == reflect.Struct {
			for j := 0; j < v.Field(i).Len(); j++ {
				if err := readSecretFiles(v.Field(i).Index(j), fmt.Sprintf("%s[%d]", key, j)); err != nil {
					return err
				}
			}
			continue
		}
		target := f.Tag.Get("secret")
		file := v.Field(i).String()
		if target == "" || file == "" {
			continue
		}
		data, err := os.ReadFile(file)
		if err != nil {
			return &settingError{field: key, err: err}
		}
		v.FieldByName(target).SetString(strings.TrimSpace(string(data)))
	}
	return nil
}

func yamlName(f reflect.StructField) string {
	name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
	if name == "" {
		name = strings.ToLower(f.Name)
	}
	return name
}

func setField(v reflect.Value, s string) error {
	switch v.Kind() {
	case reflect.String:
		v.SetString(s)
	case reflect.Bool:
		b, err := strconv.ParseBool(s)
		if err != nil {
			return fmt.Errorf("%q is not true or false", s)
		}
		v.SetBool(b)
	case reflect.Int:
		n, err := strconv.Atoi(s)
		if err != nil {
			return fmt.Errorf("%q is not an integer", s)
		}
		v.SetInt(int64(n))
	case reflect.Float64:
		f, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return fmt.Errorf("%q is not a number", s)
		}
		v.SetFloat(f)
	case reflect.Int64:
		d, err := time.ParseDuration(s)
		if err != nil {
			return fmt.Errorf("%q is not a duration like 30s", s)
		}
		v.SetInt(int64(d))
	case reflect.Slice:
		var parts []string
		for p := range strings.SplitSeq(s, ",") {
			if p = strings.TrimSpace(p); p != "" {
				parts = append(parts, p)
			}
		}
		v.Set(reflect.ValueOf(parts))
	default:
		return errors.New("unsupported setting type")
	}
	return nil
}
