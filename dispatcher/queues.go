package dispatcher

import (
	"context"
	"fmt"
	"maps"
	"slices"

	"github.com/redis/go-redis/v9"
)

// DefaultLenderWeight is a lender's weight when its fairness config sets
// none.
const DefaultLenderWeight = 1

// QueueWeights returns the queues a worker serves and their weights, given
// the queue names Asynq knows (discovered, from the set asynq:queues):
//
//   - every lender queue "<channel>:<lender>" weighs the channel's weight
//     in DefaultQueues (sms 3, voice 2, email 1) times the lender's weight
//     (lenderWeight; nil, or a result below 1, means DefaultLenderWeight);
//   - the shared queues keep their weight in DefaultQueues: webhooks (the
//     lenders' outbound webhook deliveries) and the legacy channel queues
//     sms, voice, email and tasks, so that tasks enqueued before per-lender
//     queues drain;
//   - critical weighs its DefaultQueues weight times the sum of the weights
//     of the lenders seen (at least once), so that it keeps its share however
//     many lenders there are.
//
// Names that are neither are left out: they belong to other software.
func QueueWeights(discovered []string, lenderWeight func(lender string) int) map[string]int {
	out := maps.Clone(DefaultQueues)
	lenders := map[string]int{}
	for _, name := range discovered {
		channel, lender, ok := ParseQueue(name)
		if !ok {
			continue
		}
		w := DefaultLenderWeight
		if lenderWeight != nil {
			if lw := lenderWeight(lender); lw >= 1 {
				w = lw
			}
		}
		lenders[lender] = w
		out[name] = DefaultQueues[channel] * w
	}
	total := 0
	for _, w := range lenders {
		total += w
	}
	out[QueueCritical] = DefaultQueues[QueueCritical] * max(total, 1)
	return out
}

// discoverQueues reads Asynq's set of known queues, sorted.
func discoverQueues(ctx context.Context, rdb redis.UniversalClient) ([]string, error) {
	names, err := rdb.SMembers(ctx, asynqQueues).Result()
	if err != nil {
		return nil, fmt.Errorf("discover queues (%s): %w", asynqQueues, err)
	}
	slices.Sort(names)
	return names, nil
}

// sameWeights reports whether a and b give every queue the same weight.
func sameWeights(a, b map[string]int) bool { return maps.Equal(a, b) }
