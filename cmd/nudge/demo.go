package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"
	"github.com/spf13/cobra"

	"github.com/nudgehq/nudge"
	"github.com/nudgehq/nudge/channels"
	"github.com/nudgehq/nudge/channels/smtpsink"
	"github.com/nudgehq/nudge/channels/twilio"
	"github.com/nudgehq/nudge/channels/twiliosim"
	"github.com/nudgehq/nudge/examples"
	"github.com/nudgehq/nudge/web"
	"github.com/nudgehq/nudge/webhook"
)

// The simulated Twilio account of the demo (alphanumeric, as twilio-go requires).
const (
	demoTwilioSID   = "AC00000000000000000000000000000d30"
	demoTwilioToken = "demotoken0123456789abcdef"
	demoTwilioFrom  = "+15005550006"
)

// demoOptions are the flags of `nudge demo`.
type demoOptions struct {
	duration time.Duration
	accounts int
	seed     uint64
	report   string
	export   string
	addr     string
	at       string
	hold     bool
}

func (a *app) demoCmd() *cobra.Command {
	var o demoOptions
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Run the whole product on embedded defaults: SQLite, an in-process Redis, example cadences, a synthetic portfolio",
		Long: `demo runs Nudge with nothing installed: SQLite in a temporary directory, an in-process
Redis, the example cadences (US and Chinese) and a synthetic portfolio of borrowers across
time zones and languages, some on hold, some opted out, some with a promise to pay. The
scheduler, the workers and the HTTP endpoints run in this process until Ctrl-C or --duration;
with --hold the HTTP endpoints stay up after --duration's report, until Ctrl-C. It prints
the self-service page (/p) of one borrower to try on a phone: pay, promise, choose a payment
plan, say you already paid.
The demo's clock starts today at 02:30 UTC (--at changes it): mid-morning in China, quiet
hours on the US east coast, late afternoon on the west coast.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if o.report != "" && o.report != "json" && o.report != "text" {
				return fmt.Errorf("--report %q: want json or text", o.report)
			}
			return a.runDemo(cmd.Context(), o)
		},
	}
	f := cmd.Flags()
	f.DurationVar(&o.duration, "duration", 0, "stop after this long (default: run until Ctrl-C)")
	f.IntVar(&o.accounts, "accounts", 500, "size of the synthetic portfolio")
	f.Uint64Var(&o.seed, "seed", 1, "seed of the synthetic portfolio, for reproducible runs")
	f.StringVar(&o.report, "report", "text", "print a report at the end: text or json")
	f.StringVar(&o.export, "export", "", "write reminders.ndjson, attempts.ndjson, the email (mail/*.eml) and the DNS records of its DKIM keys ("+demoDKIMZone+") to this directory")
	f.StringVar(&o.addr, "addr", "127.0.0.1:8080", "where the HTTP endpoints listen")
	f.StringVar(&o.at, "at", "", "the instant the demo's clock starts at (RFC 3339; default today 02:30 UTC)")
	f.BoolVar(&o.hold, "hold", false, "after --duration and the report, keep the HTTP endpoints (the borrower page) up until Ctrl-C")
	return cmd
}

// demoSecret makes a fresh secret for one demo run.
func demoSecret() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return hex.EncodeToString(b), nil
}

// runDemo runs the demo until ctx is done or o.duration passes.
func (a *app) runDemo(ctx context.Context, o demoOptions) error {
	if o.accounts <= 0 {
		return fmt.Errorf("--accounts must be positive, got %d", o.accounts)
	}
	start := demoStart(time.Now())
	if o.at != "" {
		t, err := parseAt(o.at)
		if err != nil {
			return err
		}
		start = t
	}
	offset := time.Until(start)
	clock := nudge.ClockFunc(func() time.Time { return time.Now().Add(offset).UTC() })

	dir, err := os.MkdirTemp("", "nudge-demo-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	logFile, err := os.Create(filepath.Join(dir, "nudge.log"))
	if err != nil {
		return err
	}
	defer logFile.Close()

	mr := miniredis.NewMiniRedis()
	if err := mr.Start(); err != nil {
		return fmt.Errorf("in-process redis: %w", err)
	}
	defer mr.Close()
	rdb := redis.NewClient(&redis.Options{Addr: mr.Addr()})
	stopFF := fastForward(mr)
	defer stopFF()

	secret, err := demoSecret()
	if err != nil {
		return err
	}
	mailgunKey, err := demoSecret()
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", o.addr)
	if err != nil {
		return fmt.Errorf("--addr %s: %w", o.addr, err)
	}
	defer ln.Close()
	publicURL := "http://" + ln.Addr().String()

	// A local Twilio: the demo's SMS go through the real twilio-go client to
	// it, and its simulated borrowers answer through signed webhooks.
	// A small share of its answers go wrong as they do in the real world
	// (lost after acceptance, late, refused), so the run shows the
	// reconciler resolving them without a message sent twice.
	sim := twiliosim.New(twiliosim.Config{
		AccountSID: demoTwilioSID, AuthToken: demoTwilioToken, Seed: int64(o.seed), Clock: clock,
		InboundURL: publicURL + twilio.InboundPath,
		Faults:     demoFaults,
	})
	if err := sim.Start("127.0.0.1:0"); err != nil {
		return fmt.Errorf("twilio simulator: %w", err)
	}
	defer sim.Close()

	// An in-process SMTP server receives the demo's email.
	sink, err := smtpsink.Start("127.0.0.1:0", smtpsink.Options{})
	if err != nil {
		return fmt.Errorf("smtp sink: %w", err)
	}
	defer sink.Close()

	sharedKey, cnKey, err := demoDKIM()
	if err != nil {
		return err
	}

	// The US lender's CRM takes its events as signed webhooks.
	crm, err := startDemoCRM()
	if err != nil {
		return err
	}
	defer crm.Close()

	cfg := Config{
		Database:  "sqlite://" + filepath.Join(dir, "nudge.db"),
		Addr:      ln.Addr().String(),
		PublicURL: publicURL,
		Secret:    secret,
		Lenders: []LenderConfig{
			{ID: demoLenderUS, Name: "Acme Auto Finance", Language: "en", Timezone: "America/New_York", HelpPhone: "+18005550100", AgentPhone: "+18005550101",
				VoicemailBusinessName: "Acme Auto", VoicemailCallerName: "Sam Rivera", Payments: demoPayments},
			{ID: demoLenderCN, Name: "华夏汽车金融", Language: "zh-CN", Timezone: "Asia/Shanghai", HelpPhone: "+864008200000", AgentPhone: "+864008200001",
				VoicemailCallerName: "李明", EmailFrom: "华夏汽车金融 <reminders@" + demoCNMailDomain + ">", DKIM: []DKIMConfig{cnKey}},
		},
		Scheduler: SchedulerConfig{Spec: "@every 10s"},
		Reconcile: ReconcileConfig{Every: 5 * time.Second, Settle: demoSettle},
		Worker:    WorkerConfig{Concurrency: 10, ShutdownTimeout: 5 * time.Second},
		Twilio: TwilioConfig{AccountSID: demoTwilioSID, AuthToken: demoTwilioToken, From: demoTwilioFrom, BaseURL: sim.URL(),
			Timeout: demoTwilioTimeout},
		SMTP: SMTPConfig{Host: sink.Host(), Port: sink.Port(), From: "Acme Auto Finance <reminders@demo.example>", TLS: "none",
			ReplyTo: "replies@reply.demo.example", DKIM: []DKIMConfig{sharedKey}},
		Mailgun: MailgunConfig{SigningKey: mailgunKey},
		Log:     LogConfig{Level: "info", Format: "json"},
		// The demo CRM listens on this machine.
		Webhooks: webhook.Config{AllowPrivateAddresses: true, FanoutEvery: time.Second},
	}.WithDefaults()
	us, err := examples.FS.ReadFile("us-auto.yaml")
	if err != nil {
		return err
	}
	cn, err := examples.FS.ReadFile("cn-auto.yaml")
	if err != nil {
		return err
	}
	demoApp := *a
	demoApp.stderr = logFile
	rt, err := demoApp.newRuntime(ctx, cfg, runtimeOptions{
		clock: clock, rdb: rdb, webhookRoots: crm.roots(),
		cadences: map[string][]cadenceSource{
			demoLenderUS: {{name: "examples/us-auto.yaml", data: us}},
			demoLenderCN: {{name: "examples/cn-auto.yaml", data: cn}},
		},
	})
	if err != nil {
		return err
	}
	defer rt.Close()

	now := clock.Now()
	p, err := genPortfolio(o.accounts, o.seed, now)
	if err != nil {
		return err
	}
	if err := crm.register(ctx, rt); err != nil {
		return err
	}
	if err := seedPortfolio(ctx, rt, p, now); err != nil {
		return err
	}
	token, key, err := web.NewAPIKey(demoLenderUS, nudge.RoleAdmin, now)
	if err != nil {
		return err
	}
	if err := rt.db.CreateAPIKey(ctx, key); err != nil {
		return err
	}
	platformToken, platformKey, err := web.NewAPIKey(nudge.PlatformLender, nudge.RoleAdmin, now)
	if err != nil {
		return err
	}
	if err := rt.db.CreateAPIKey(ctx, platformKey); err != nil {
		return err
	}
	fmt.Fprintf(a.stderr, "Nudge demo: %d accounts, clock at %s, simulated Twilio at %s, logs in %s\n",
		o.accounts, now.Format(time.RFC3339), sim.URL(), logFile.Name())
	borrower, err := demoBorrowerLink(ctx, rt, p, publicURL)
	if err != nil {
		return err
	}
	webhookSecret, err := demoWebhookSecret(ctx, rt)
	if err != nil {
		return err
	}
	fmt.Fprintf(a.stderr, "Borrower page (one borrower; open it on a phone): %s\n", borrower)
	fmt.Fprintf(a.stderr, "Webhooks: every %s event goes to the demo CRM at %s, signed (docs/integration.md); the feed: %s/v1/events\n",
		demoLenderUS, crm.srv.URL, publicURL)
	fmt.Fprintf(a.stderr, "Payment webhook: POST %s/webhooks/payments, signed with %s's secret %s (docs/payments.md)\n",
		publicURL, demoLenderUS, webhookSecret)
	fmt.Fprintf(a.stderr, "Dashboard: %s/ops/ (log in with the lender admin key %s; its queue: %s/ops/queue)\n"+
		"Queue monitor, every lender: %s/ops/queues/ (log in with the platform admin key %s)\nAPI: %s/v1/  Metrics: %s/metrics\n",
		publicURL, token, publicURL, publicURL, platformToken, publicURL, publicURL)

	runCtx, cancel := context.WithCancel(ctx)
	if o.duration > 0 {
		runCtx, cancel = context.WithTimeout(ctx, o.duration)
	}
	defer cancel()
	progressDone := make(chan struct{})
	go func() {
		defer close(progressDone)
		progress(runCtx, a.stderr, rt, time.Now())
	}()
	replyDone := make(chan struct{})
	go func() {
		defer close(replyDone)
		demoEmailReply(runCtx, sink, publicURL, mailgunKey, clock)
	}()
	err = runRoles(runCtx,
		func(ctx context.Context) error { return rt.runAPI(ctx, ln) },
		rt.runScheduler,
		rt.runWorker,
	)
	<-progressDone
	<-replyDone
	fmt.Fprintln(a.stderr)
	if err != nil {
		return err
	}
	// Report with a fresh context: the run's has ended.
	rctx, rcancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
	defer rcancel()
	rep, err := buildReport(rctx, rt, p)
	if err != nil {
		return err
	}
	rep.Emails = sink.Count()
	rep.Webhooks = crm.report()
	rep.SMSSegments = smsSegments(sim.Messages())
	rep.ProviderFaults = map[string]int{}
	for _, rq := range sim.Requests() {
		if rq.Fault != twiliosim.FaultNone && rq.Fault != "" {
			rep.ProviderFaults[string(rq.Fault)]++
		}
	}
	if o.export != "" {
		if err := exportRun(rctx, rt, p, o.export); err != nil {
			return err
		}
		if _, err := sink.WriteEML(filepath.Join(o.export, "mail")); err != nil {
			return err
		}
		if err := writeDemoDKIMRecords(cfg, filepath.Join(o.export, demoDKIMZone)); err != nil {
			return err
		}
	}
	if o.report == "json" {
		err = writeJSON(a.stdout, rep)
	} else {
		err = rep.writeText(a.stdout)
	}
	if err != nil || !o.hold || ctx.Err() != nil {
		return err
	}
	return a.holdDemo(ctx, rt, ln.Addr().String(), borrower)
}

// holdDemo serves the HTTP endpoints again on addr until ctx is done: the
// scheduler and the workers have stopped, but the borrower page, the API
// and the dashboard answer.
func (a *app) holdDemo(ctx context.Context, rt *runtime, addr, borrower string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("--hold: %w", err)
	}
	fmt.Fprintf(a.stderr, "Holding the HTTP endpoints at http://%s until Ctrl-C; borrower page: %s\n", addr, borrower)
	return rt.runAPI(ctx, ln)
}

// fastForward advances the in-process Redis's TTLs with the wall clock, as a
// real server would, until the returned function is called.
func fastForward(mr *miniredis.Miniredis) func() {
	done := make(chan struct{})
	go func() {
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				mr.FastForward(time.Second)
			}
		}
	}()
	return func() { close(done) }
}

// seedPortfolio writes the synthetic accounts, opt-outs and promises.
func seedPortfolio(ctx context.Context, rt *runtime, p demoPortfolio, now time.Time) error {
	if err := rt.db.UpsertAccounts(ctx, p.Accounts, now); err != nil {
		return err
	}
	for _, o := range p.OptOuts {
		o.CreatedAt = now
		if _, err := rt.db.AddOptOut(ctx, o); err != nil {
			return err
		}
	}
	for _, pr := range p.Promises {
		pr.CreatedAt, pr.UpdatedAt = now, now
		if err := rt.db.InsertPromise(ctx, pr); err != nil {
			return err
		}
	}
	return nil
}

// progress prints a one-line live summary every second until ctx is done.
func progress(ctx context.Context, w io.Writer, rt *runtime, began time.Time) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		counts, err := rt.db.CountRemindersByStatus(ctx, "")
		if err != nil {
			continue
		}
		var parts []string
		for _, s := range []nudge.ReminderStatus{nudge.ReminderQueued, nudge.ReminderDeferred, nudge.ReminderSent,
			nudge.ReminderSuppressed, nudge.ReminderExpired, nudge.ReminderFailed, nudge.ReminderUnknown} {
			parts = append(parts, fmt.Sprintf("%s %d", s, counts[s]))
		}
		fmt.Fprintf(w, "\r[%3.0fs] reminders: %s   ", time.Since(began).Seconds(), strings.Join(parts, " · "))
	}
}

// The demo's provider faults: a few percent of Twilio's answers go wrong,
// and the reconciler settles what they leave unknown within the run.
var demoFaults = twiliosim.Faults{Share: 0.03, SlowFor: 2 * demoTwilioTimeout,
	Kinds: []twiliosim.FaultKind{twiliosim.FaultAcceptDrop, twiliosim.FaultAcceptSlow, twiliosim.FaultRefuse500}}

const (
	demoTwilioTimeout = 3 * time.Second
	demoSettle        = 15 * time.Second
)

// demoReport is what `nudge demo --report json` prints.
type demoReport struct {
	Reminders  map[nudge.ReminderStatus]int                      `json:"reminders"`
	Attempts   map[nudge.ChannelKind]map[nudge.AttemptStatus]int `json:"attempts"`
	Suppressed map[nudge.Reason]int                              `json:"suppressed"`
	Deferred   int                                               `json:"deferred"`
	Promises   int                                               `json:"promises"`
	OptOuts    int                                               `json:"opt_outs"`
	// Emails counts the messages the demo's SMTP server received.
	Emails int `json:"emails"`
	// EmailReplies counts the borrowers' email replies recorded.
	EmailReplies int `json:"email_replies"`
	// SMSSegments is the average number of segments of the SMS the
	// simulated Twilio received, as it counts them (what a lender pays for).
	SMSSegments float64 `json:"sms_segments_per_message"`
	// Calls counts how voice calls were answered.
	Calls demoCalls `json:"calls"`
	// PromisesBy and OptOutsBy say where promises and opt-outs came from
	// ("portfolio" for those the synthetic borrowers had before the run).
	PromisesBy map[string]int `json:"promises_by_channel"`
	OptOutsBy  map[string]int `json:"opt_outs_by_source"`
	// ProviderFaults counts the answers the simulated Twilio spoiled, by
	// fault; Reconciled the unknown outcomes the reconciler resolved, by
	// outcome (found at the provider, late callback, released and resent).
	ProviderFaults map[string]int `json:"provider_faults"`
	Reconciled     map[string]int `json:"reconciled"`
	// Webhooks counts what the US lender's demo CRM received.
	Webhooks demoWebhooks `json:"webhooks"`
}

// demoCalls counts call outcomes.
type demoCalls struct {
	Answered      int `json:"answered"`
	Voicemail     int `json:"voicemail"`
	Conversations int `json:"conversations"`
	NotConnected  int `json:"not_connected"`
}

// buildReport counts what the run did.
func buildReport(ctx context.Context, rt *runtime, p demoPortfolio) (demoReport, error) {
	rep := demoReport{
		Attempts:   map[nudge.ChannelKind]map[nudge.AttemptStatus]int{},
		Suppressed: map[nudge.Reason]int{},
		PromisesBy: map[string]int{},
		OptOutsBy:  map[string]int{},
		Reconciled: map[string]int{},
	}
	var err error
	if rep.Reminders, err = rt.db.CountRemindersByStatus(ctx, ""); err != nil {
		return rep, err
	}
	for _, lender := range []string{demoLenderUS, demoLenderCN} {
		atts, err := rt.db.ListAttempts(ctx, lender, time.Time{})
		if err != nil {
			return rep, err
		}
		for _, at := range atts {
			if rep.Attempts[at.Channel] == nil {
				rep.Attempts[at.Channel] = map[nudge.AttemptStatus]int{}
			}
			rep.Attempts[at.Channel][at.Status]++
			if at.Channel == nudge.Voice {
				switch {
				case at.AnsweredBy == "human":
					rep.Calls.Answered++
				case strings.HasPrefix(at.AnsweredBy, "machine"):
					rep.Calls.Voicemail++
				case at.Status == nudge.AttemptBusy || at.Status == nudge.AttemptNoAnswer || at.Status == nudge.AttemptFailed:
					rep.Calls.NotConnected++
				}
				if at.Conversation {
					rep.Calls.Conversations++
				}
			}
		}
		opts, err := rt.db.ListOptOuts(ctx, lender)
		if err != nil {
			return rep, err
		}
		rep.OptOuts += len(opts)
		for _, o := range opts {
			rep.OptOutsBy[o.Source]++
		}
	}
	for _, a := range p.Accounts {
		rs, err := rt.db.ListReminders(ctx, a.Lender, a.ID)
		if err != nil {
			return rep, err
		}
		for _, r := range rs {
			if r.Status == nudge.ReminderSuppressed {
				rep.Suppressed[r.Reason]++
			}
		}
		evs, err := rt.db.Events(ctx, a.Lender, a.ID)
		if err != nil {
			return rep, err
		}
		deferred := map[string]bool{}
		for _, e := range evs {
			if e.Kind == nudge.EventReconcile {
				rep.Reconciled[e.Action]++
			}
			held := e.Kind == nudge.EventEnqueued && e.Reason == nudge.ReasonQuietHours
			if held || (e.Kind == nudge.EventDecision && e.Action == "defer") {
				deferred[e.ReminderID] = true
			}
		}
		rep.Deferred += len(deferred)
		replies, err := rt.db.AccountReplies(ctx, a.Lender, a.ID)
		if err != nil {
			return rep, err
		}
		for _, r := range replies {
			if r.Channel == nudge.Email {
				rep.EmailReplies++
			}
		}
		ps, err := rt.db.ListPromises(ctx, a.Lender, a.ID)
		if err != nil {
			return rep, err
		}
		rep.Promises += len(ps)
		for _, pr := range ps {
			by := string(pr.Channel)
			if pr.ReplyID == "" {
				by = "portfolio"
			}
			rep.PromisesBy[by]++
		}
	}
	return rep, nil
}

func (r demoReport) writeText(w io.Writer) error {
	var b strings.Builder
	b.WriteString("reminders:")
	for _, k := range sortedKeys(r.Reminders) {
		fmt.Fprintf(&b, " %s %d", k, r.Reminders[k])
	}
	b.WriteString("\nattempts:")
	for _, ch := range sortedKeys(r.Attempts) {
		fmt.Fprintf(&b, "\n  %s:", ch)
		for _, s := range sortedKeys(r.Attempts[ch]) {
			fmt.Fprintf(&b, " %s %d", s, r.Attempts[ch][s])
		}
	}
	b.WriteString("\nsuppressed:")
	for _, k := range sortedKeys(r.Suppressed) {
		fmt.Fprintf(&b, " %s %d", k, r.Suppressed[k])
	}
	fmt.Fprintf(&b, "\ncalls: answered %d, voicemail %d, conversations %d, not connected %d",
		r.Calls.Answered, r.Calls.Voicemail, r.Calls.Conversations, r.Calls.NotConnected)
	fmt.Fprintf(&b, "\ndeferred: %d\npromises: %d", r.Deferred, r.Promises)
	for _, k := range sortedKeys(r.PromisesBy) {
		fmt.Fprintf(&b, " %s %d", k, r.PromisesBy[k])
	}
	fmt.Fprintf(&b, "\nopt-outs: %d", r.OptOuts)
	for _, k := range sortedKeys(r.OptOutsBy) {
		fmt.Fprintf(&b, " %s %d", k, r.OptOutsBy[k])
	}
	fmt.Fprintf(&b, "\nemails received: %d, email replies: %d", r.Emails, r.EmailReplies)
	fmt.Fprintf(&b, "\nsms segments per message: %.2f", r.SMSSegments)
	b.WriteString("\nprovider faults injected:")
	for _, k := range sortedKeys(r.ProviderFaults) {
		fmt.Fprintf(&b, " %s %d", k, r.ProviderFaults[k])
	}
	b.WriteString("\nreconciled:")
	for _, k := range sortedKeys(r.Reconciled) {
		fmt.Fprintf(&b, " %s %d", k, r.Reconciled[k])
	}
	fmt.Fprintf(&b, "\nwebhooks: %d received by the demo CRM, %d signatures verified, %d events",
		r.Webhooks.Received, r.Webhooks.Verified, r.Webhooks.Events)
	b.WriteString("\n")
	_, err := io.WriteString(w, b.String())
	return err
}

func sortedKeys[K ~string, V any](m map[K]V) []K {
	keys := make([]K, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i] < keys[j] })
	return keys
}

// exportedReminder is one line of reminders.ndjson.
type exportedReminder struct {
	ID        string               `json:"id"`
	Key       string               `json:"reminder_key"`
	AccountID string               `json:"account_id"`
	Channel   nudge.ChannelKind    `json:"channel"`
	Template  string               `json:"template"`
	DueAt     time.Time            `json:"due_at"`
	ExpiresAt time.Time            `json:"expires_at"`
	Status    nudge.ReminderStatus `json:"status"`
	Reason    nudge.Reason         `json:"reason,omitempty"`
}

// exportedAttempt is one line of attempts.ndjson.
type exportedAttempt struct {
	ReminderKey string            `json:"reminder_key"`
	AccountID   string            `json:"account_id"`
	Channel     nudge.ChannelKind `json:"channel"`
	Address     string            `json:"address"`
	Zones       []string          `json:"zones"`
	Profile     string            `json:"profile"`
	// RequestedAt is when the last gate let the request go to the
	// provider; SentAt when the provider's acceptance was recorded.
	RequestedAt *time.Time          `json:"requested_at"`
	SentAt      *time.Time          `json:"sent_at"`
	Status      nudge.AttemptStatus `json:"status"`
	Reason      nudge.Reason        `json:"reason,omitempty"`
}

// exportRun writes reminders.ndjson and attempts.ndjson into dir.
func exportRun(ctx context.Context, rt *runtime, p demoPortfolio, dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	rf, err := os.Create(filepath.Join(dir, "reminders.ndjson"))
	if err != nil {
		return err
	}
	defer rf.Close()
	af, err := os.Create(filepath.Join(dir, "attempts.ndjson"))
	if err != nil {
		return err
	}
	defer af.Close()
	renc, aenc := json.NewEncoder(rf), json.NewEncoder(af)
	for _, a := range p.Accounts {
		rs, err := rt.db.ListReminders(ctx, a.Lender, a.ID)
		if err != nil {
			return err
		}
		keys := map[string]string{}
		for _, r := range rs {
			keys[r.ID] = r.Key.String()
			if err := renc.Encode(exportedReminder{ID: r.ID, Key: r.Key.String(), AccountID: a.ID, Channel: r.Channel,
				Template: r.Template, DueAt: r.DueAt, ExpiresAt: r.ExpiresAt, Status: r.Status, Reason: r.Reason}); err != nil {
				return err
			}
		}
		atts, err := rt.db.AttemptHistory(ctx, a.Lender, a.ID, time.Time{})
		if err != nil {
			return err
		}
		for _, at := range atts {
			e := exportedAttempt{ReminderKey: keys[at.ReminderID], AccountID: a.ID, Channel: at.Channel,
				Address: channels.Mask(at.Address), Zones: at.Zones, Profile: at.Profile, Status: at.Status, Reason: at.Reason}
			if !at.SendingAt.IsZero() {
				t := at.SendingAt.UTC()
				e.RequestedAt = &t
			}
			if !at.SentAt.IsZero() {
				t := at.SentAt.UTC()
				e.SentAt = &t
			}
			if err := aenc.Encode(e); err != nil {
				return err
			}
		}
	}
	return errors.Join(rf.Sync(), af.Sync())
}
