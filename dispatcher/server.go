package dispatcher

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"
)

// Server defaults.
const (
	// DefaultConcurrency is how many tasks one worker process runs at once.
	// A task spends most of its time waiting for the database, whose work
	// concurrent tasks share (PipelineConfig.Batch), and for the provider,
	// so it is high: in side runs of the bench on two cores (3,000
	// reminders, PostgreSQL) 64 tasks made 3.8 database round trips and 1.2
	// commits per reminder where 20 made 9.0 and 3.0, and used a quarter less
	// CPU per reminder.
	DefaultConcurrency = 64
	// DefaultShutdownTimeout is how long in-flight tasks may run after a
	// shutdown begins; Asynq puts back on the queue what is still running.
	DefaultShutdownTimeout = 30 * time.Second
	// DefaultDelayedTaskCheckInterval is how often scheduled and retrying
	// tasks that have come due are moved to their queue.
	DefaultDelayedTaskCheckInterval = time.Second
)

// ServerConfig tunes the worker Server.
type ServerConfig struct {
	// Concurrency is how many tasks run at once.
	Concurrency int
	// Queues maps queue names to weights; default DefaultQueues.
	Queues map[string]int
	// ShutdownTimeout bounds the wait for in-flight tasks on shutdown.
	ShutdownTimeout time.Duration
	// Backoff spaces the retries of transient failures.
	Backoff Backoff
	// DelayedTaskCheckInterval is how often due scheduled and retrying tasks
	// are moved to their queue.
	DelayedTaskCheckInterval time.Duration
	// Logger defaults to slog.Default().
	Logger *slog.Logger
}

// WithDefaults returns c with zero fields set to the defaults.
func (c ServerConfig) WithDefaults() ServerConfig {
	if c.Concurrency <= 0 {
		c.Concurrency = DefaultConcurrency
	}
	if len(c.Queues) == 0 {
		c.Queues = DefaultQueues
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
// and routes the reminder types to the pipeline.
type Server struct {
	srv *asynq.Server
	mux *asynq.ServeMux
}

// NewServer returns a worker over rdb that hands reminder tasks to
// reminders (normally a *Pipeline). The caller keeps ownership of rdb.
func NewServer(rdb redis.UniversalClient, reminders asynq.Handler, cfg ServerConfig) *Server {
	cfg = cfg.WithDefaults()
	log := cfg.Logger
	srv := asynq.NewServerFromRedisClient(rdb, asynq.Config{
		Concurrency:              cfg.Concurrency,
		Queues:                   cfg.Queues,
		StrictPriority:           false,
		ShutdownTimeout:          cfg.ShutdownTimeout,
		IsFailure:                IsFailure,
		RetryDelayFunc:           cfg.Backoff.RetryDelay,
		DelayedTaskCheckInterval: cfg.DelayedTaskCheckInterval,
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
	mux := asynq.NewServeMux()
	mux.Handle(TypeReminderSMS, reminders)
	mux.Handle(TypeReminderVoice, reminders)
	mux.Handle(TypeReminderEmail, reminders)
	mux.Handle(TypeReminderTask, reminders)
	return &Server{srv: srv, mux: mux}
}

// Handle routes another task type (such as TypeReplyConfirm) to h. Call it
// before Run.
func (s *Server) Handle(pattern string, h asynq.Handler) { s.mux.Handle(pattern, h) }

// Run processes tasks until ctx is done, then shuts down: it stops taking
// new tasks, lets in-flight ones finish within the shutdown timeout, and
// puts back on the queue those that do not.
func (s *Server) Run(ctx context.Context) error {
	if err := s.srv.Start(s.mux); err != nil {
		return fmt.Errorf("start worker: %w", err)
	}
	<-ctx.Done()
	s.srv.Shutdown()
	return nil
}

// Shutdown stops the server as Run does when its context ends. It is safe
// to call more than once.
func (s *Server) Shutdown() { s.srv.Shutdown() }

// slogAdapter lets Asynq log through slog.
type slogAdapter struct{ l *slog.Logger }

func (a slogAdapter) Debug(args ...any) { a.l.Debug(fmt.Sprint(args...)) }
func (a slogAdapter) Info(args ...any)  { a.l.Info(fmt.Sprint(args...)) }
func (a slogAdapter) Warn(args ...any)  { a.l.Warn(fmt.Sprint(args...)) }
func (a slogAdapter) Error(args ...any) { a.l.Error(fmt.Sprint(args...)) }
func (a slogAdapter) Fatal(args ...any) { a.l.Error(fmt.Sprint(args...)) }
