package webhooks

import (
	"context"
	"sync"

	"github.com/nudgehq/nudge"
	"github.com/nudgehq/nudge/groupcommit"
)

// outcomeBatch writes the outcomes of concurrent status callbacks in shared
// transactions (groupcommit): a callback waits for one write, shared with
// the callbacks that arrive meanwhile, and gets its own result. The zero
// value is ready; the group is made on first use.
//
// A callback's sender waits for its answer, so callbacks come back about
// together once answered: the group lingers only until as many have come as
// were last in play (groupcommit.Config.LingerForLast), not for the whole
// linger each time, and a write handed the lane waits for the rest too, so
// that a fixed set of clients shares one write instead of splitting into
// halves whose writes alternate. With eight clients on PostgreSQL
// (BenchmarkStatusCallback) that is 8 callbacks a write instead of 5 to 6,
// and 0.25 round trips a callback instead of 0.35 to 0.41.
type outcomeBatch struct {
	once  sync.Once
	group *groupcommit.Group[nudge.Outcome, nudge.OutcomeResult]
}

// do writes o with record (a store's RecordOutcomes) in a call shared with
// the outcomes other callbacks hand in meanwhile, and returns o's result.
func (b *outcomeBatch) do(ctx context.Context, record func(context.Context, []nudge.Outcome) []nudge.OutcomeResult, o nudge.Outcome) nudge.OutcomeResult {
	b.once.Do(func() { b.group = groupcommit.New(record, groupcommit.Config{LingerForLast: true}) })
	return b.group.Do(ctx, o)
}
