package dispatcher

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"github.com/nudgehq/nudge"
)

// Enqueuer defaults.
const (
	// DefaultMaxRetry is how many times a transient failure is retried.
	DefaultMaxRetry = 20
	// DefaultTaskTimeout bounds one run of a reminder task.
	DefaultTaskTimeout = 2 * time.Minute
	// DefaultRetention keeps a finished task (and its TaskID) for a while, so
	// that a late duplicate enqueue is recognised as a conflict.
	DefaultRetention = time.Hour
)

// EnqueuerConfig tunes the options of every reminder task.
type EnqueuerConfig struct {
	// Clock is the pipeline's clock. Process instants are turned into delays
	// against it, so a clock that runs ahead of the wall clock (a simulation)
	// still schedules tasks at the right moment. Nil means the wall clock.
	Clock     nudge.Clock
	MaxRetry  int
	Timeout   time.Duration
	Retention time.Duration
}

// WithDefaults returns c with zero fields set to the defaults.
func (c EnqueuerConfig) WithDefaults() EnqueuerConfig {
	if c.MaxRetry <= 0 {
		c.MaxRetry = DefaultMaxRetry
	}
	if c.Timeout <= 0 {
		c.Timeout = DefaultTaskTimeout
	}
	if c.Retention <= 0 {
		c.Retention = DefaultRetention
	}
	if c.Clock == nil {
		c.Clock = nudge.SystemClock
	}
	return c
}

// Enqueuer puts reminder tasks on their channel's queue and removes them.
// It is safe for concurrent use.
type Enqueuer struct {
	client    *asynq.Client
	inspector *asynq.Inspector
	rdb       redis.UniversalClient
	cfg       EnqueuerConfig

	mu        sync.Mutex
	announced map[string]time.Time // queue → when it was last added to asynqQueues
}

// asynqQueues is Asynq's set of known queues. Its client adds a queue the
// first time it uses it and never again, so after Redis loses the set (a
// flush, a failover without persistence) the queue is invisible to the
// inspector (cancellation, dashboards) although tasks are in it.
const asynqQueues = "asynq:queues"

// announceEvery is how often Enqueue re-adds its queue to asynqQueues.
const announceEvery = 30 * time.Second

// NewEnqueuer returns an Enqueuer over rdb. The caller keeps ownership of rdb
// and closes it.
func NewEnqueuer(rdb redis.UniversalClient, cfg EnqueuerConfig) *Enqueuer {
	return &Enqueuer{
		client:    asynq.NewClientFromRedisClient(rdb),
		inspector: asynq.NewInspectorFromRedisClient(rdb),
		rdb:       rdb,
		cfg:       cfg.WithDefaults(),
		announced: map[string]time.Time{},
	}
}

// Inspector returns the Asynq inspector, for dashboards and tests.
func (e *Enqueuer) Inspector() *asynq.Inspector { return e.inspector }

// Enqueue puts r on its lender's queue for its channel (QueueFor) to run at processAt, with the
// reminder id as TaskID. A task with that id already queued means another
// replica got there first: that is success. A task with that id left in the
// archive (its retries used up) or kept after it completed is replaced, so
// that a reminder the ledger holds open (caught up, or released by the
// reconciler) runs again.
func (e *Enqueuer) Enqueue(ctx context.Context, r nudge.Reminder, processAt time.Time) error {
	task, err := NewReminderTask(r.Channel, r.ID)
	if err != nil {
		return fmt.Errorf("enqueue reminder %s: %w", r.ID, err)
	}
	queue, err := QueueFor(r.Channel, r.Key.Lender)
	if err != nil {
		return fmt.Errorf("enqueue reminder %s: %w", r.ID, err)
	}
	opts := []asynq.Option{
		asynq.Queue(queue),
		asynq.TaskID(r.ID),
		asynq.ProcessIn(processAt.Sub(e.cfg.Clock.Now())),
		asynq.MaxRetry(e.cfg.MaxRetry),
		asynq.Timeout(e.cfg.Timeout),
		asynq.Retention(e.cfg.Retention),
	}
	if err := e.announce(ctx, queue); err != nil {
		return fmt.Errorf("enqueue reminder %s on %s: %w", r.ID, queue, err)
	}
	for range 2 {
		_, err = e.client.EnqueueContext(ctx, task, opts...)
		if err == nil || errors.Is(err, asynq.ErrDuplicateTask) {
			return nil
		}
		if !errors.Is(err, asynq.ErrTaskIDConflict) {
			return fmt.Errorf("enqueue reminder %s on %s: %w", r.ID, queue, err)
		}
		// A task that ran to its end (completed, kept for the retention) or
		// gave up (archived) is replaced: the ledger says the reminder is
		// open again (released by reconciliation, or caught up).
		info, ierr := e.inspector.GetTaskInfo(queue, r.ID)
		if ierr != nil || (info.State != asynq.TaskStateArchived && info.State != asynq.TaskStateCompleted) {
			// Queued, running or just finished elsewhere: success.
			return nil //nolint:nilerr // a TaskID conflict means the task exists
		}
		if derr := e.inspector.DeleteTask(queue, r.ID); derr != nil && !errors.Is(derr, asynq.ErrTaskNotFound) {
			return fmt.Errorf("enqueue reminder %s on %s: replace archived task: %w", r.ID, queue, derr)
		}
	}
	return nil
}

// Cancel deletes the queued (pending, scheduled or retrying) tasks of
// lender's reminders ids on channel ch: on the lender's queue, and on the
// channel's legacy shared queue where tasks enqueued before per-lender
// queues may still wait. Tasks that are missing or running are left alone:
// a running task re-checks the account before it sends.
func (e *Enqueuer) Cancel(ctx context.Context, lender string, ch nudge.ChannelKind, ids ...string) error {
	own, err := QueueFor(ch, lender)
	if err != nil {
		return fmt.Errorf("cancel tasks: %w", err)
	}
	legacy, err := ChannelQueue(ch)
	if err != nil {
		return fmt.Errorf("cancel tasks: %w", err)
	}
	var errs []error
	for _, queue := range []string{own, legacy} {
		for _, id := range ids {
			if err := ctx.Err(); err != nil {
				return fmt.Errorf("cancel tasks on %s: %w", queue, err)
			}
			if err := e.inspector.DeleteTask(queue, id); err != nil && !e.ignorableDelete(queue, id, err) {
				errs = append(errs, fmt.Errorf("cancel task %s on %s: %w", id, queue, err))
			}
		}
	}
	return errors.Join(errs...)
}

func (e *Enqueuer) ignorableDelete(queue, id string, err error) bool {
	if errors.Is(err, asynq.ErrTaskNotFound) || errors.Is(err, asynq.ErrQueueNotFound) {
		return true
	}
	info, ierr := e.inspector.GetTaskInfo(queue, id)
	if ierr != nil {
		return errors.Is(ierr, asynq.ErrTaskNotFound) || errors.Is(ierr, asynq.ErrQueueNotFound)
	}
	return info.State == asynq.TaskStateActive || info.State == asynq.TaskStateCompleted
}

// announce keeps queue in Asynq's set of queues (see asynqQueues), at most
// once per announceEvery.
func (e *Enqueuer) announce(ctx context.Context, queue string) error {
	now := e.cfg.Clock.Now()
	e.mu.Lock()
	fresh := now.Sub(e.announced[queue]) < announceEvery
	if !fresh {
		e.announced[queue] = now
	}
	e.mu.Unlock()
	if fresh {
		return nil
	}
	return e.rdb.SAdd(ctx, asynqQueues, queue).Err()
}
