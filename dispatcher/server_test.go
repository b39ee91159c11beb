package dispatcher

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/nudgehq/nudge"
	"github.com/nudgehq/nudge/channels/sandbox"
	"github.com/nudgehq/nudge/compliance"
)

// runServer runs a worker over rdb for b's pipeline until the test ends.
func runServer(t *testing.T, rdb redis.UniversalClient, b *bundle) {
	t.Helper()
	srv := NewServer(rdb, b.pipe, ServerConfig{
		Concurrency:              4,
		ShutdownTimeout:          2 * time.Second,
		Backoff:                  Backoff{Base: time.Millisecond, Max: time.Millisecond},
		DelayedTaskCheckInterval: 100 * time.Millisecond,
		DiscoverEvery:            50 * time.Millisecond,
		Logger:                   slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		require.NoError(t, <-done)
	})
}

func waitStatus(t *testing.T, b *bundle, id string, want nudge.ReminderStatus) {
	t.Helper()
	require.Eventually(t, func() bool { return b.store.reminder(id).Status == want },
		15*time.Second, 20*time.Millisecond, "reminder %s never became %s (is %s)", id, want, b.store.reminder(id).Status)
}

func TestServerEndToEnd(t *testing.T) {
	t.Parallel()
	rdb := testRedis(t, true)
	b := setup(t)
	enq := NewEnqueuer(rdb, EnqueuerConfig{})
	runServer(t, rdb, b)
	ctx := context.Background()

	// Happy path, enqueued twice by two scheduler replicas.
	ok := b.add(uniqueAccount(t), nil, nil)
	require.NoError(t, enq.Enqueue(ctx, ok, time.Now()))
	require.NoError(t, enq.Enqueue(ctx, ok, time.Now()))
	waitStatus(t, b, ok.ID, nudge.ReminderSent)

	// A crash left an attempt sending with no provider id: the retry marks it unknown.
	crashed := b.add(uniqueAccount(t)+"-crash", nil, nil)
	b.store.putAttempt(nudge.Attempt{ID: AttemptID(crashed.ID, nudge.SMS), ReminderID: crashed.ID, Lender: testLender,
		AccountID: crashed.Key.AccountID, Channel: nudge.SMS, Address: smsAddr, Status: nudge.AttemptSending, CreatedAt: noon})
	require.NoError(t, enq.Enqueue(ctx, crashed, time.Now()))
	waitStatus(t, b, crashed.ID, nudge.ReminderUnknown)
	require.Zero(t, b.sms.CallsFor(AttemptID(crashed.ID, nudge.SMS)), "never called after a crash")

	// A permanent 21610: failed, opted out, not retried.
	stop := b.add(uniqueAccount(t)+"-stop", func(a *nudge.Account) { a.Contacts[0].Address = "+12125550199" }, nil)
	b.sms.FailAddress("+12125550199", sandbox.Permanent("21610", nudge.ReasonOptedOut, true, false))
	require.NoError(t, enq.Enqueue(ctx, stop, time.Now()))
	waitStatus(t, b, stop.ID, nudge.ReminderFailed)
	_, opted := b.store.optOut(testLender, nudge.SMS, "+12125550199")
	require.True(t, opted)

	require.Equal(t, 1, b.sms.CallsFor(AttemptID(ok.ID, nudge.SMS)), "sent once although enqueued twice")
	require.Equal(t, 1, b.sms.CallsFor(AttemptID(stop.ID, nudge.SMS)))
}

func TestServerRetriesTransientError(t *testing.T) {
	t.Parallel()
	rdb := testRedis(t, true)
	b := setup(t)
	enq := NewEnqueuer(rdb, EnqueuerConfig{})
	b.sms.FailNext(1, sandbox.Transient("30003"))
	r := b.add(uniqueAccount(t), nil, nil)
	runServer(t, rdb, b)

	require.NoError(t, enq.Enqueue(context.Background(), r, time.Now()))
	waitStatus(t, b, r.ID, nudge.ReminderSent)
	attID := AttemptID(r.ID, nudge.SMS)
	require.Equal(t, 2, b.sms.CallsFor(attID))
	require.Equal(t, 1, b.sms.Sent(), "one message reached the borrower")
	a, _ := b.store.attempt(attID)
	require.Equal(t, nudge.AttemptSent, a.Status)
	require.Eventually(t, func() bool {
		info, err := enq.Inspector().GetTaskInfo(QueueSMS+":"+testLender, r.ID)
		return err == nil && info.State == asynq.TaskStateCompleted && info.Retried == 1
	}, 5*time.Second, 20*time.Millisecond, "one failure counted")
}

func TestServerRetriesExhausted(t *testing.T) {
	t.Parallel()
	rdb := testRedis(t, true)
	b := setup(t)
	enq := NewEnqueuer(rdb, EnqueuerConfig{MaxRetry: 1})
	b.sms.FailNext(5, sandbox.Transient("20429"))
	r := b.add(uniqueAccount(t), nil, nil)
	runServer(t, rdb, b)

	require.NoError(t, enq.Enqueue(context.Background(), r, time.Now()))
	waitStatus(t, b, r.ID, nudge.ReminderFailed)
	require.Equal(t, nudge.ReasonRetriesExhausted, b.store.reminder(r.ID).Reason)
	require.Equal(t, 2, b.sms.Count(), "the first try and one retry")
	require.Eventually(t, func() bool {
		info, err := enq.Inspector().GetTaskInfo(QueueSMS+":"+testLender, r.ID)
		return err == nil && info.State == asynq.TaskStateArchived
	}, 5*time.Second, 20*time.Millisecond)
}

func TestServerDeferRunsSameTaskAgain(t *testing.T) {
	t.Parallel()
	rdb := testRedis(t, true)
	var calls atomic.Int32
	b := setup(t, func(c *PipelineConfig) {
		c.Decide = func(in compliance.Input) compliance.Decision {
			if calls.Add(1) == 1 {
				return compliance.Decision{Action: compliance.Defer, Until: in.At.Add(time.Second),
					Reason: nudge.ReasonQuietHours, Rule: "test", Profile: "us"}
			}
			return compliance.Decide(in)
		}
	})
	enq := NewEnqueuer(rdb, EnqueuerConfig{})
	r := b.add(uniqueAccount(t), nil, nil)
	runServer(t, rdb, b)

	require.NoError(t, enq.Enqueue(context.Background(), r, time.Now()))
	waitStatus(t, b, r.ID, nudge.ReminderSent)
	require.Equal(t, int32(3), calls.Load(), "deferred, then allowed, then allowed again at the last gate")
	require.Equal(t, 1, b.sms.Count())
	require.Eventually(t, func() bool {
		info, err := enq.Inspector().GetTaskInfo(QueueSMS+":"+testLender, r.ID)
		return err == nil && info.State == asynq.TaskStateCompleted && info.Retried == 0
	}, 5*time.Second, 20*time.Millisecond, "the same task ran twice and the deferral was no failure")
	decisions := b.store.eventsOf(nudge.EventDecision)
	require.Len(t, decisions, 2)
	require.Equal(t, "defer", decisions[0].Action)
}

// TestServerDiscoversLaterQueues: a lender's queue created after the worker
// started is found, weighed with the lender's weight, and served; the
// worker keeps serving the queues it had.
func TestServerDiscoversLaterQueues(t *testing.T) {
	t.Parallel()
	rdb := testRedis(t, true)
	ctx := context.Background()
	lender := fmt.Sprintf("late%d", time.Now().UnixNano())
	early, late := QueueSMS+":"+lender+"-early", QueueEmail+":"+lender
	var (
		mu   sync.Mutex
		seen = map[string]string{} // task id → queue
	)
	handler := asynq.HandlerFunc(func(ctx context.Context, t *asynq.Task) error {
		id, _ := asynq.GetTaskID(ctx)
		q, _ := asynq.GetQueueName(ctx)
		mu.Lock()
		seen[id] = q
		mu.Unlock()
		return nil
	})
	got := func(id string) string {
		mu.Lock()
		defer mu.Unlock()
		return seen[id]
	}
	client := asynq.NewClientFromRedisClient(rdb)
	ins := asynq.NewInspectorFromRedisClient(rdb)
	t.Cleanup(func() {
		for _, q := range []string{early, late} {
			_ = ins.DeleteQueue(q, true) // leave no queue for the other tests to serve
		}
	})
	enqueue := func(queue, id string) {
		t.Helper()
		_, err := client.EnqueueContext(ctx, asynq.NewTask(TypeReminderEmail, nil), asynq.Queue(queue), asynq.TaskID(id))
		require.NoError(t, err)
	}
	enqueue(early, "early-1")

	srv := NewServer(rdb, handler, ServerConfig{
		Concurrency: 2, ShutdownTimeout: time.Second, DiscoverEvery: 50 * time.Millisecond,
		LenderWeight: func(l string) int {
			if l == lender {
				return 5
			}
			return 1
		},
		Lenders: []string{lender + "-cfg"},
		Logger:  slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- srv.Run(runCtx) }()
	t.Cleanup(func() {
		cancel()
		require.NoError(t, <-done)
	})
	require.Eventually(t, func() bool { return got("early-1") == early }, 10*time.Second, 20*time.Millisecond,
		"the queue that existed at the start is served")
	require.NotContains(t, srv.Queues(), late, "not created yet")
	require.Equal(t, DefaultQueues[QueueVoice], srv.Queues()[QueueVoice+":"+lender+"-cfg"], "a configured lender is served from the start")

	enqueue(late, "late-1")
	require.Eventually(t, func() bool { return got("late-1") == late }, 10*time.Second, 20*time.Millisecond,
		"the queue created after the start is discovered and served")
	queues := srv.Queues()
	require.Equal(t, DefaultQueues[QueueEmail]*5, queues[late], "channel weight × lender weight")
	require.Equal(t, DefaultQueues[QueueSMS], queues[early])
	require.Equal(t, DefaultQueues[QueueSMS], queues[QueueSMS], "the legacy queue is still drained")

	enqueue(early, "early-2")
	require.Eventually(t, func() bool { return got("early-2") == early }, 10*time.Second, 20*time.Millisecond,
		"the new server still serves the old queues")

	// Redis loses the set; the client does not announce the queue again
	// (it did once), yet the worker goes on serving it.
	require.NoError(t, rdb.SRem(ctx, asynqQueues, late).Err())
	time.Sleep(150 * time.Millisecond) // three discoveries
	enqueue(late, "late-2")
	require.Eventually(t, func() bool { return got("late-2") == late }, 10*time.Second, 20*time.Millisecond,
		"a queue served before is still served after the set lost it")
}
