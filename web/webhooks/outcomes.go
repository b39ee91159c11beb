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
// the last write carried (groupcommit.Config.LingerForLast), not for the
// whole linger each time. In side runs of `nudge bench` (eight clients,
// PostgreSQL) the whole linger was a millisecond of every write's three.
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
