package dispatcher

import (
	"context"
	"sync"
	"time"

	"github.com/nudgehq/nudge"
)

// DefaultMaxBatch bounds how many handlers' outcomes one transaction writes.
const DefaultMaxBatch = 64

// batchTimeout bounds the write of one batch. A batch carries other handlers'
// outcomes too, so it runs on a context of its own (never cancelled by the
// handler that happens to write it): what a provider accepted must be
// recorded even while the worker shuts down.
const batchTimeout = 30 * time.Second

// outcomeBatcher lets concurrent handlers share transactions (group commit).
// A handler that finds no write in progress writes its outcome at once, with
// whatever others have queued meanwhile; a handler that finds one in
// progress queues its outcome and waits, and the first one queued writes the
// next batch when the current one is done. An idle worker so adds no delay,
// and a busy one writes as many outcomes per commit as arrived during the
// last. Each handler gets its own result, and returns only once its outcome
// is committed (or failed).
type outcomeBatcher struct {
	write func(ctx context.Context, outcomes []nudge.Outcome) []nudge.OutcomeResult
	max   int

	mu    sync.Mutex
	busy  bool
	queue []*queuedOutcome
}

// queuedOutcome is one handler's outcome waiting for its batch. done
// receives true when res is set, false when the handler must write the next
// batch itself.
type queuedOutcome struct {
	o    nudge.Outcome
	res  nudge.OutcomeResult
	done chan bool
}

func newOutcomeBatcher(write func(context.Context, []nudge.Outcome) []nudge.OutcomeResult, max int) *outcomeBatcher {
	if max <= 0 {
		max = DefaultMaxBatch
	}
	return &outcomeBatcher{write: write, max: max}
}

// record writes o, sharing a transaction with other handlers' outcomes when
// they arrive together, and returns its result.
func (b *outcomeBatcher) record(ctx context.Context, o nudge.Outcome) nudge.OutcomeResult {
	q := &queuedOutcome{o: o, done: make(chan bool, 1)}
	b.mu.Lock()
	b.queue = append(b.queue, q)
	if b.busy {
		b.mu.Unlock()
		if <-q.done {
			return q.res
		}
		// Promoted: q leads the queue and writes the next batch.
		b.mu.Lock()
	}
	b.busy = true
	n := min(len(b.queue), b.max)
	batch := b.queue[:n:n]
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
		b.queue[0].done <- false
	} else {
		b.busy = false
	}
	b.mu.Unlock()
	return q.res
}
