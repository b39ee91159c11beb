package dispatcher

import (
	"context"
	"sync"
	"time"

	"github.com/nudgehq/nudge"
)

// DefaultMaxBatch bounds how many handlers' outcomes one transaction writes.
const DefaultMaxBatch = 64

// DefaultBatchLanes is how many batches are written at once. One lane
// groups the most: while a batch commits, every outcome that arrives joins
// the next. Side runs of the bench on PostgreSQL (3,000 reminders,
// concurrency 20, two cores) gave 24.5 round trips, 8.1 transactions and
// 6.2 ms of CPU per reminder with four lanes, 20.9, 7.3 and 5.8 ms with two,
// and 19.0, 7.0 and 5.5 ms with one, at a rate no lower.
const DefaultBatchLanes = 1

// batchTimeout bounds the write of one batch. A batch carries other handlers'
// outcomes too, so it runs on a context of its own (never cancelled by the
// handler that happens to write it): what a provider accepted must be
// recorded even while the worker shuts down.
const batchTimeout = 30 * time.Second

// OutcomeBatcher lets concurrent handlers share transactions (group commit):
// the pipeline's task handlers, and the status webhooks' requests. It is
// safe for concurrent use.
// Up to lanes batches are written at once. A handler that finds a lane free
// writes its outcome at once, with whatever others have queued; one that
// finds every lane busy queues its outcome and waits, and when a lane comes
// free the first one queued writes the next batch (up to max outcomes). An
// idle worker so adds no delay, and a busy one writes as many outcomes per
// commit as arrived during the last. Each handler gets its own result, and
// returns only once its outcome is committed (or failed).
type OutcomeBatcher struct {
	write      func(ctx context.Context, outcomes []nudge.Outcome) []nudge.OutcomeResult
	max, lanes int

	mu      sync.Mutex
	writing int // lanes in use
	queue   []*queuedOutcome
}

// queuedOutcome is one handler's outcome waiting for its batch. done
// receives true when res is set, false when the handler is handed a lane
// and must write the next batch itself.
type queuedOutcome struct {
	o    nudge.Outcome
	res  nudge.OutcomeResult
	done chan bool
}

// NewOutcomeBatcher returns a batcher writing through write (a store's
// RecordOutcomes) at most max outcomes per transaction (DefaultMaxBatch when
// zero) and lanes transactions at once (DefaultBatchLanes when zero).
func NewOutcomeBatcher(write func(context.Context, []nudge.Outcome) []nudge.OutcomeResult, max, lanes int) *OutcomeBatcher {
	if max <= 0 {
		max = DefaultMaxBatch
	}
	if lanes <= 0 {
		lanes = DefaultBatchLanes
	}
	return &OutcomeBatcher{write: write, max: max, lanes: lanes}
}

// Record writes o, sharing a transaction with other handlers' outcomes when
// they arrive together, and returns its result.
func (b *OutcomeBatcher) Record(ctx context.Context, o nudge.Outcome) nudge.OutcomeResult {
	q := &queuedOutcome{o: o, done: make(chan bool, 1)}
	b.mu.Lock()
	if b.writing < b.lanes {
		b.writing++
	} else {
		b.queue = append(b.queue, q)
		b.mu.Unlock()
		if <-q.done {
			return q.res
		}
		b.mu.Lock() // handed a lane, and taken out of the queue
	}
	n := min(len(b.queue), b.max-1)
	batch := append([]*queuedOutcome{q}, b.queue[:n]...)
	b.queue = b.queue[n:]
	b.mu.Unlock()

	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), batchTimeout)
	outcomes := make([]nudge.Outcome, len(batch))
	for i, w := range batch {
		outcomes[i] = w.o
	}
	results := b.write(wctx, outcomes)
	cancel()
	for i, w := range batch {
		w.res = results[i]
		if w != q {
			w.done <- true
		}
	}

	b.mu.Lock()
	if len(b.queue) > 0 {
		next := b.queue[0]
		b.queue = b.queue[1:]
		next.done <- false // the lane passes to the first in line
	} else {
		b.writing--
	}
	b.mu.Unlock()
	return q.res
}
