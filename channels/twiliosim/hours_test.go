package twiliosim_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/nudgehq/nudge"
	"github.com/nudgehq/nudge/channels/twiliosim"
)

// TestBestHour sends a borrower a text at every local hour, many days
// over: they answer mostly at their hidden best hour, and the best hour is
// the same for the same seed and number.
func TestBestHour(t *testing.T) {
	t.Parallel()
	loc, err := nudge.LoadLocation("America/Chicago")
	require.NoError(t, err)
	clock := nudge.NewFixedClock(time.Date(2026, 4, 6, 0, 0, 0, 0, loc))
	b := setup(t, func(c *twiliosim.Config) {
		c.Clock = clock
		c.Mix = []twiliosim.Weight{{Behaviour: twiliosim.BehaviourPromise, Weight: 1}}
		c.Hours = twiliosim.Hours{Enabled: true, Location: loc}
	})
	const to = "+13125550042"
	best, ok := b.sim.BestHour(to)
	require.True(t, ok)
	require.Contains(t, twiliosim.DefaultBestHours, best)
	again, _ := b.sim.BestHour(to)
	require.Equal(t, best, again)

	replies := map[int]int{}
	for day := range 20 {
		for _, h := range []int{best, (best + 5) % 24} {
			clock.Set(time.Date(2026, 4, 6+day, h, 0, 0, 0, loc))
			before := inboundCount(b.sim)
			send(t, b, to, "Your payment of $200 is due Friday.")
			require.NoError(t, b.sim.Idle(ctx(t)))
			replies[h] += inboundCount(b.sim) - before
		}
	}
	require.GreaterOrEqual(t, replies[best], 14, "about 90% of 20 at the best hour")
	require.LessOrEqual(t, replies[(best+5)%24], 4, "about 5% of 20 elsewhere")
}

// TestHoursOff keeps the borrowers of a simulator without the model as
// they were: no best hour, and a generated borrower's single reply.
func TestHoursOff(t *testing.T) {
	t.Parallel()
	b := setup(t, func(c *twiliosim.Config) {
		c.Mix = []twiliosim.Weight{{Behaviour: twiliosim.BehaviourPromise, Weight: 1}}
	})
	_, ok := b.sim.BestHour("+13125550042")
	require.False(t, ok)
	require.Equal(t, 1, b.sim.Borrower("+13125550042").MaxReplies)
}

func inboundCount(s *twiliosim.Sim) int {
	n := 0
	for _, m := range s.Messages() {
		if m.Direction == "inbound" {
			n++
		}
	}
	return n
}
