package dispatcher

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"strings"
	"time"

	"github.com/hibiken/asynq"

	"github.com/nudgehq/nudge"
	"github.com/nudgehq/nudge/compliance"
	"github.com/nudgehq/nudge/groupcommit"
	"github.com/nudgehq/nudge/metrics"
)

// Store is the part of the system of record the pipeline reads and writes.
// nudge.Store satisfies it.
type Store interface {
	// LoadReminder returns the reminder and its attempts (one round trip).
	LoadReminder(ctx context.Context, id string) (nudge.Reminder, []nudge.Attempt, error)
	SetReminderStatus(ctx context.Context, id string, status nudge.ReminderStatus, reason nudge.Reason, nextAt, now time.Time) error
	// AccountSnapshot returns the account and what the query asks for beside
	// it (one round trip).
	AccountSnapshot(ctx context.Context, lender, id string, q nudge.AccountSnapshotQuery) (nudge.AccountSnapshot, error)
	// OptedOut returns those of refs that opted out (one query).
	OptedOut(ctx context.Context, lender string, refs []nudge.ContactRef) ([]nudge.ContactRef, error)
	SetContactState(ctx context.Context, lender, id string, channel nudge.ChannelKind, address string, state nudge.ContactState) error
	// ClaimAttempts makes claims in one transaction (see nudge.AttemptStore).
	ClaimAttempts(ctx context.Context, claims []nudge.Claim) []nudge.ClaimResult
	GetAttempt(ctx context.Context, id string) (nudge.Attempt, error)
	UpdateAttempt(ctx context.Context, id string, u nudge.AttemptUpdate) (bool, error)
	AddOptOut(ctx context.Context, o nudge.OptOut, events ...nudge.Event) (bool, error)
	AppendEvent(ctx context.Context, e nudge.Event) error
	RecordOutcomes(ctx context.Context, outcomes []nudge.Outcome) []nudge.OutcomeResult
	SetPause(ctx context.Context, p nudge.Pause) (bool, error)
}

// Profiles finds the compliance profile that applies to a lender's cadence.
type Profiles interface {
	Profile(ctx context.Context, lender, cadence string) (*compliance.Profile, error)
}

// ProfilesFunc adapts a function to Profiles.
type ProfilesFunc func(ctx context.Context, lender, cadence string) (*compliance.Profile, error)

// Profile calls f.
func (f ProfilesFunc) Profile(ctx context.Context, lender, cadence string) (*compliance.Profile, error) {
	return f(ctx, lender, cadence)
}

// RenderInput is what a Renderer is given to build one message.
type RenderInput struct {
	Reminder nudge.Reminder
	Account  nudge.Account
	// Attempt is the claimed attempt; Attempt.Channel and Attempt.Address say
	// where the message goes (the fallback channel when the primary had no
	// usable address).
	Attempt  nudge.Attempt
	Decision compliance.Decision
	// History is the account's recent attempts the decision was made on
	// (other reminders' only); it may be empty.
	History []nudge.Attempt
	// Contacted says whether an attempt of another reminder of the account
	// ever reached a provider, when the caller read it (nil: the renderer
	// reads it when it needs to).
	Contacted *bool
}

// Renderer builds the message for a claimed attempt.
type Renderer interface {
	Render(ctx context.Context, in RenderInput) (*nudge.Message, error)
}

// RendererFunc adapts a function to a Renderer.
type RendererFunc func(ctx context.Context, in RenderInput) (*nudge.Message, error)

// Render calls f.
func (f RendererFunc) Render(ctx context.Context, in RenderInput) (*nudge.Message, error) {
	return f(ctx, in)
}

// Limiter takes tokens from a shared per-sender bucket; *RateLimiter is one.
type Limiter interface {
	Take(ctx context.Context, key string, perSecond float64, burst int) (ok bool, wait time.Duration, err error)
}

// Reserver is a Limiter that can also reserve the next token within reach
// (see RateLimiter.Reserve); the rate-limit stage prefers it, so that
// tasks waiting for a busy sender are served first come first served
// instead of racing for each token and being rescheduled when they lose.
type Reserver interface {
	Reserve(ctx context.Context, key string, perSecond float64, burst int, reach time.Duration) (ok bool, wait time.Duration, err error)
}

// Pipeline defaults.
const (
	// DefaultSendTimeout bounds one provider call.
	DefaultSendTimeout = 30 * time.Second
	// DefaultMaxRateWait is the longest the pipeline waits in-process for a
	// token; a longer wait reschedules the task.
	DefaultMaxRateWait = time.Second
	// DefaultHistoryWindow is how far back attempts are loaded for the caps
	// (7-day rules plus a day of margin for time zones).
	DefaultHistoryWindow = 8 * 24 * time.Hour
	// DefaultVoiceEndMargin keeps a call from starting within this long of
	// the window's end in any candidate zone (voice.end_margin).
	DefaultVoiceEndMargin = 10 * time.Minute
)

// PipelineConfig holds the pipeline's dependencies and settings.
type PipelineConfig struct {
	// Store is required.
	Store Store
	// Profiles is required.
	Profiles Profiles
	// Renderer is required.
	Renderer Renderer
	// Senders maps each channel to its provider; a channel without one fails
	// its reminders with reason provider_failed.
	Senders map[nudge.ChannelKind]nudge.Sender
	// WorkItems creates the work items of task steps (channel task); without
	// it their reminders fail with reason provider_failed.
	WorkItems WorkItemCreator
	// Instructions gives a task step's instructions to its work item; nil
	// leaves them empty.
	Instructions InstructionsFunc
	// Limiter and SenderRate rate-limit sends per sender; with either nil
	// there is no limit. SenderRate names the bucket of a message and its
	// rate; a rate of zero or less means unlimited.
	Limiter    Limiter
	SenderRate func(m *nudge.Message) (key string, perSecond float64)
	// LenderRate is a lender's most sends a second on a channel (its
	// fairness max_per_second); zero or less, or a nil func, means
	// unlimited. Its bucket (LenderRateKey) is taken before the sender's.
	LenderRate func(lender string, ch nudge.ChannelKind) float64
	// RateBurst is the bucket size; default 1.
	RateBurst int
	// MaxRateWait is the longest in-process wait for a token.
	MaxRateWait time.Duration
	// SendTimeout bounds one provider call.
	SendTimeout time.Duration
	// HistoryWindow is how far back attempts are loaded for the caps.
	HistoryWindow time.Duration
	// EndMargins keep a send on a channel from starting within that long of
	// the window's end in any candidate zone; default voice
	// DefaultVoiceEndMargin. A negative margin means none.
	EndMargins map[nudge.ChannelKind]time.Duration
	// Batch tunes how concurrent handlers share the transactions of their
	// claims and of their records (events, attempt updates, reminder
	// changes); see groupcommit.Group.
	Batch groupcommit.Config
	// PauseRecheck is how long a reminder stopped by a pause waits before
	// the last gate looks again (default DefaultPauseRecheck).
	PauseRecheck time.Duration
	// Decide is the compliance check; default compliance.Decide.
	Decide func(compliance.Input) compliance.Decision
	// Clock is required.
	Clock nudge.Clock
	// Logger defaults to slog.Default().
	Logger *slog.Logger
	// Metrics counts attempts, decisions, provider latency and opt-outs;
	// nothing is counted when nil.
	Metrics metrics.Recorder
}

// WithDefaults returns c with zero optional fields set to the defaults.
func (c PipelineConfig) WithDefaults() PipelineConfig {
	if c.Metrics == nil {
		c.Metrics = metrics.Nop{}
	}
	if c.RateBurst <= 0 {
		c.RateBurst = 1
	}
	if c.MaxRateWait <= 0 {
		c.MaxRateWait = DefaultMaxRateWait
	}
	if c.SendTimeout <= 0 {
		c.SendTimeout = DefaultSendTimeout
	}
	if c.HistoryWindow <= 0 {
		c.HistoryWindow = DefaultHistoryWindow
	}
	if _, ok := c.EndMargins[nudge.Voice]; !ok {
		m := maps.Clone(c.EndMargins)
		if m == nil {
			m = map[nudge.ChannelKind]time.Duration{}
		}
		m[nudge.Voice] = DefaultVoiceEndMargin
		c.EndMargins = m
	}
	if c.PauseRecheck <= 0 {
		c.PauseRecheck = DefaultPauseRecheck
	}
	if c.Decide == nil {
		c.Decide = compliance.Decide
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c
}

func (c PipelineConfig) validate() error {
	switch {
	case c.Store == nil:
		return errors.New("pipeline config: missing store")
	case c.Profiles == nil:
		return errors.New("pipeline config: missing profiles")
	case c.Renderer == nil:
		return errors.New("pipeline config: missing renderer")
	case c.Clock == nil:
		return errors.New("pipeline config: missing clock")
	}
	return nil
}

// Pipeline handles reminder tasks: it re-checks, claims, renders,
// rate-limits, passes the last gate and sends one reminder, recording each
// step. It is an asynq.Handler and is
// safe for concurrent use.
type Pipeline struct {
	cfg    PipelineConfig
	stages []stage
	// claims makes the handlers' claims, sharing transactions between
	// concurrent handlers.
	claims *groupcommit.Group[nudge.Claim, nudge.ClaimResult]
	// outcomes writes the handlers' events, attempt updates and reminder
	// changes, sharing transactions between concurrent handlers.
	outcomes *groupcommit.Group[nudge.Outcome, nudge.OutcomeResult]
	// sleep waits for d or until ctx is done; replaced in tests.
	sleep func(ctx context.Context, d time.Duration) error
}

// Compile-time checks of what the lead wires together.
var (
	_ asynq.Handler    = (*Pipeline)(nil)
	_ Store            = nudge.Store(nil)
	_ Limiter          = (*RateLimiter)(nil)
	_ TaskCanceler     = (*Enqueuer)(nil)
	_ ReminderCanceler = nudge.Store(nil)
)

// NewPipeline checks cfg and returns a Pipeline.
func NewPipeline(cfg PipelineConfig) (*Pipeline, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	p := &Pipeline{cfg: cfg, sleep: sleepCtx, claims: groupcommit.New(cfg.Store.ClaimAttempts, cfg.Batch),
		outcomes: groupcommit.New(cfg.Store.RecordOutcomes, cfg.Batch)}
	p.stages = []stage{
		{"load", p.load},
		{"account", p.account},
		{"decide", p.decide},
		{"claim", p.claim},
		{"render", p.render},
		{"rate_limit", p.rateLimit},
		{"gate", p.gate},
		{"send", p.send},
	}
	return p, nil
}

// stage is one step of the pipeline. It returns stop=true when the reminder
// needs nothing more, or an error for the task server to act on.
type stage struct {
	name string
	exec func(ctx context.Context, j *job) (stop bool, err error)
}

// job is the state one reminder carries through the stages.
type job struct {
	reminderID string
	reminder   nudge.Reminder
	account    nudge.Account
	// channel and address are where the message goes.
	channel  nudge.ChannelKind
	address  string
	optedOut bool
	// prior is an attempt left claimed or retrying by an earlier run.
	prior *nudge.Attempt
	// history, promise and profile are what the decision was made on; the
	// last gate decides again on them with a fresh clock, account and opt-out.
	history []nudge.Attempt
	promise *nudge.Promise
	profile *compliance.Profile
	// profileErr is why the account stage could not load the profile; the
	// decision reports it.
	profileErr error
	// pauses are the lender's pauses, read for task steps only.
	pauses []nudge.Pause
	// contacted says whether another reminder's attempt ever reached a
	// provider (the renderer words a first contact differently).
	contacted *bool
	decision  compliance.Decision
	// decided is the event of a send decision, written with the claim.
	decided *nudge.Event
	attempt nudge.Attempt
	message *nudge.Message
	log     *slog.Logger
}

// ProcessTask implements asynq.Handler for the reminder task types.
func (p *Pipeline) ProcessTask(ctx context.Context, t *asynq.Task) error {
	pl, err := ParsePayload(t.Payload())
	if err != nil {
		return fmt.Errorf("task %s: %w: %w", t.Type(), asynq.SkipRetry, err)
	}
	return p.Process(ctx, pl.ReminderID)
}

// Process runs the pipeline for one reminder. A nil error means the reminder
// needs nothing more from this task; a *DelayError asks for the same task
// again later; any other error is a failure to retry with back-off, unless it
// wraps asynq.SkipRetry.
func (p *Pipeline) Process(ctx context.Context, reminderID string) error {
	j := &job{reminderID: reminderID, log: p.cfg.Logger.With("reminder", reminderID)}
	for _, s := range p.stages {
		stop, err := s.exec(ctx, j)
		if err != nil {
			var d *DelayError
			if !errors.As(err, &d) {
				j.log.Warn("reminder stage failed", "stage", s.name, "err", err)
			}
			return fmt.Errorf("reminder %s: %s: %w", reminderID, s.name, err)
		}
		if stop {
			return nil
		}
	}
	return nil
}

// AttemptID returns the id of the attempt for reminderID on channel c. It is
// derived, so every run and replica claims the same attempt.
func AttemptID(reminderID string, c nudge.ChannelKind) string {
	return "att_" + strings.TrimPrefix(reminderID, "rem_") + "_" + string(c)
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// retryState reports how many failures the running task has had and how
// many it may have; ok is false outside an Asynq server.
func retryState(ctx context.Context) (retried, maxRetry int, ok bool) {
	if v, found := ctx.Value(retryStateKey{}).([2]int); found {
		return v[0], v[1], true
	}
	n, ok1 := asynq.GetRetryCount(ctx)
	m, ok2 := asynq.GetMaxRetry(ctx)
	return n, m, ok1 && ok2
}

// retryStateKey lets tests that call Process directly say which run it is.
type retryStateKey struct{}
