package dispatcher

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"
)

// Server defaults.
const (
	// DefaultConcurrency is how many tasks one worker process runs at once.
	// A task spends most of its time waiting for the database, whose work
	// concurrent tasks share (PipelineConfig.Batch), and for the provider,
	// so it is high: more tasks at once make fuller shared calls and less
	// CPU per reminder in every process. In the bench on two cores
	// (20,000 reminders, PostgreSQL, 5 December) 256 tasks processed 1,662
	// reminders/s where 64 did 1,170/s (0.7 database round trips and 0.20
	// write transactions per reminder against 1.7 and 0.51), and 512 no
	// more than 256 (1,678/s) with a larger worker; a real `nudge worker`
	// peaked at 77 MiB at 256 (bench/analysis.md).
	DefaultConcurrency = 256
	// DefaultShutdownTimeout is how long in-flight tasks may run after a
	// shutdown begins; Asynq puts back on the queue what is still running.
	DefaultShutdownTimeout = 30 * time.Second
	// DefaultDelayedTaskCheckInterval is how often scheduled and retrying
	// tasks that have come due are moved to their queue.
	DefaultDelayedTaskCheckInterval = time.Second
)

// DefaultDiscoverEvery is how often a worker reads the set of queues
// Asynq knows, to serve a lender's queue soon after its first task. Reading
// the set is one SMEMBERS; the Asynq server is replaced only when the queues
// or their weights change.
const DefaultDiscoverEvery = 2 * time.Second

// ServerConfig tunes the worker Server.
type ServerConfig struct {
	// Concurrency is how many tasks run at once.
	Concurrency int
	// Queues, when set, fixes the queues served and their weights, and
	// turns discovery off. Empty (the default) discovers the lender queues
	// at run time and weighs them with QueueWeights.
	Queues map[string]int
	// LenderWeight gives a lender's weight (its fairness weight); nil or
	// a result below 1 means DefaultLenderWeight.
	LenderWeight func(lender string) int
	// Lenders are served from the start on every channel, before their
	// queues are discovered (the configured lenders).
	Lenders []string
	// DiscoverEvery is how often the queues are discovered; default
	// DefaultDiscoverEvery.
	DiscoverEvery time.Duration
	// ShutdownTimeout bounds the wait for in-flight tasks on shutdown.
	ShutdownTimeout time.Duration
	// Backoff spaces the retries of transient failures.
	Backoff Backoff
	// DelayedTaskCheckInterval is how often due scheduled and retrying tasks
	// are moved to their queue.
	DelayedTaskCheckInterval time.Duration
	// TaskCheckInterval is how long a worker whose queues are empty waits
	// before it looks again (Asynq's default, a second, when 0); a
	// simulation that moves its clock as soon as the queues are drained
	// sets it short.
	TaskCheckInterval time.Duration
	// Logger defaults to slog.Default().
	Logger *slog.Logger
}

// WithDefaults returns c with zero fields set to the defaults.
func (c ServerConfig) WithDefaults() ServerConfig {
	if c.Concurrency <= 0 {
		c.Concurrency = DefaultConcurrency
	}
	if c.DiscoverEvery <= 0 {
		c.DiscoverEvery = DefaultDiscoverEvery
	}
	if c.ShutdownTimeout <= 0 {
		c.ShutdownTimeout = DefaultShutdownTimeout
	}
	c.Backoff = c.Backoff.WithDefaults()
	if c.DelayedTaskCheckInterval <= 0 {
		c.DelayedTaskCheckInterval = DefaultDelayedTaskCheckInterval
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c
}

// Server is the worker: it takes tasks off the queues by weighted priority
// and routes the reminder types to the pipeline. It serves critical, the
// legacy channel queues and every lender queue it discovers in Asynq's set
// of queues, weighted by QueueWeights; when the set changes it starts an
// Asynq server with the new weights and stops the old one gracefully (Asynq
// takes its queues only when a server is made).
type Server struct {
	rdb redis.UniversalClient
	cfg ServerConfig
	mux *asynq.ServeMux

	mu      sync.Mutex
	cur     *asynq.Server
	weights map[string]int
	// known are the lender queues served so far: a queue stays served after
	// Redis lost asynq:queues (a flush, a failover without persistence)
	// until the Enqueuer announces it again.
	known   map[string]bool
	closed  bool
	stop    chan struct{}
	retired sync.WaitGroup // old servers shutting down
}

// NewServer returns a worker over rdb that hands reminder tasks to
// reminders (normally a *Pipeline). The caller keeps ownership of rdb.
func NewServer(rdb redis.UniversalClient, reminders asynq.Handler, cfg ServerConfig) *Server {
	mux := asynq.NewServeMux()
	mux.Handle(TypeReminderSMS, reminders)
	mux.Handle(TypeReminderVoice, reminders)
	mux.Handle(TypeReminderEmail, reminders)
	mux.Handle(TypeReminderTask, reminders)
	s := &Server{rdb: rdb, cfg: cfg.WithDefaults(), mux: mux, stop: make(chan struct{}), known: map[string]bool{}}
	for _, l := range s.cfg.Lenders {
		for _, ch := range QueuedChannels {
			if q, err := QueueFor(ch, l); err == nil {
				s.known[q] = true
			}
		}
	}
	return s
}

// newAsynq returns an Asynq server over the queues weighted as given.
func (s *Server) newAsynq(queues map[string]int) *asynq.Server {
	cfg, log := s.cfg, s.cfg.Logger
	return asynq.NewServerFromRedisClient(s.rdb, asynq.Config{
		Concurrency:              cfg.Concurrency,
		Queues:                   queues,
		StrictPriority:           false,
		ShutdownTimeout:          cfg.ShutdownTimeout,
		IsFailure:                IsFailure,
		RetryDelayFunc:           cfg.Backoff.RetryDelay,
		DelayedTaskCheckInterval: cfg.DelayedTaskCheckInterval,
		TaskCheckInterval:        cfg.TaskCheckInterval,
		Logger:                   slogAdapter{log.With("component", "asynq")},
		ErrorHandler: asynq.ErrorHandlerFunc(func(ctx context.Context, t *asynq.Task, err error) {
			var d *DelayError
			if errors.As(err, &d) {
				log.Debug("task rescheduled", "type", t.Type(), "err", err)
				return
			}
			retried, maxRetry, _ := retryState(ctx)
			log.Warn("task failed", "type", t.Type(), "retried", retried, "max_retry", maxRetry, "err", err)
		}),
	})
}

// Handle routes another task type (such as TypeReplyConfirm) to h. Call it
// before Run.
func (s *Server) Handle(pattern string, h asynq.Handler) { s.mux.Handle(pattern, h) }

// Queues returns the queues the server serves now and their weights (nil
// before Run).
func (s *Server) Queues() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return maps.Clone(s.weights)
}

// discover returns the queues to serve: the fixed ones, or those Asynq knows
// and those served before (and the configured lenders'), weighted by
// QueueWeights. When the set cannot be read it returns the current weights
// (or those of the queues known so far before the first start).
func (s *Server) discover(ctx context.Context) map[string]int {
	if len(s.cfg.Queues) > 0 {
		return s.cfg.Queues
	}
	names, err := discoverQueues(ctx, s.rdb)
	if err != nil {
		s.cfg.Logger.Warn("worker queue discovery", "err", err)
		if cur := s.Queues(); cur != nil {
			return cur
		}
	}
	s.mu.Lock()
	for _, n := range names {
		if _, _, ok := ParseQueue(n); ok {
			s.known[n] = true
		}
	}
	all := slices.Sorted(maps.Keys(s.known))
	s.mu.Unlock()
	return QueueWeights(all, s.cfg.LenderWeight)
}

// Run processes tasks until ctx is done, then shuts down: it stops taking
// new tasks, lets in-flight ones finish within the shutdown timeout, and
// puts back on the queue those that do not. Every DiscoverEvery it reads
// the queues again and, when they changed, moves to a server with the new
// weights.
func (s *Server) Run(ctx context.Context) error {
	if err := s.swap(s.discover(ctx)); err != nil {
		return err
	}
	defer s.Shutdown()
	if len(s.cfg.Queues) > 0 {
		select {
		case <-ctx.Done():
		case <-s.stop:
		}
		return nil
	}
	t := time.NewTicker(s.cfg.DiscoverEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-s.stop:
			return nil
		case <-t.C:
			next := s.discover(ctx)
			if sameWeights(next, s.Queues()) {
				continue
			}
			if err := s.swap(next); err != nil {
				// The old server goes on with the old queues; try again at
				// the next discovery.
				s.cfg.Logger.Warn("worker queues not updated", "err", err)
				continue
			}
			s.cfg.Logger.Info("worker queues updated", "queues", len(next))
		}
	}
}

// swap starts an Asynq server over queues and retires the current one: it
// stops taking tasks at once and shuts down in the background, finishing
// its in-flight tasks (or handing them back) within the shutdown timeout.
func (s *Server) swap(queues map[string]int) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	next := s.newAsynq(queues)
	if err := next.Start(s.mux); err != nil {
		return fmt.Errorf("start worker: %w", err)
	}
	if old := s.cur; old != nil {
		old.Stop()
		s.retired.Go(old.Shutdown)
	}
	s.cur, s.weights = next, maps.Clone(queues)
	return nil
}

// Shutdown stops the server as Run does when its context ends, and waits
// for the servers it retired. It is safe to call more than once.
func (s *Server) Shutdown() {
	s.mu.Lock()
	cur := s.cur
	if !s.closed {
		s.closed = true
		close(s.stop)
	}
	s.mu.Unlock()
	if cur != nil {
		cur.Shutdown()
	}
	s.retired.Wait()
}

// slogAdapter lets Asynq log through slog.
type slogAdapter struct{ l *slog.Logger }

func (a slogAdapter) Debug(args ...any) { a.l.Debug(fmt.Sprint(args...)) }
func (a slogAdapter) Info(args ...any)  { a.l.Info(fmt.Sprint(args...)) }
func (a slogAdapter) Warn(args ...any)  { a.l.Warn(fmt.Sprint(args...)) }
func (a slogAdapter) Error(args ...any) { a.l.Error(fmt.Sprint(args...)) }
func (a slogAdapter) Fatal(args ...any) { a.l.Error(fmt.Sprint(args...)) }
