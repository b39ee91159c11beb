package sendtime_test

import (
	"context"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/nudgehq/nudge"
	"github.com/nudgehq/nudge/compliance"
	"github.com/nudgehq/nudge/sendtime"
)

// fakeSource serves fixed counts and records the rollups asked for.
type fakeSource struct {
	own, pool []sendtime.Row
	rolled    []time.Time
}

func (f *fakeSource) RollupSendTimes(_ context.Context, _ string, until time.Time, _ time.Duration) error {
	f.rolled = append(f.rolled, until)
	return nil
}

func (f *fakeSource) SendTimeCounts(context.Context, string, []string) ([]sendtime.Row, error) {
	return f.own, nil
}

func (f *fakeSource) SendTimePool(context.Context, string) ([]sendtime.Row, error) {
	return f.pool, nil
}

type bundle struct {
	src     *fakeSource
	opt     *sendtime.Optimiser
	acct    nudge.Account
	profile *compliance.Profile
	loc     *time.Location
	day     time.Time
}

func setup(t *testing.T) bundle {
	t.Helper()
	loc, err := nudge.LoadLocation("America/Chicago")
	require.NoError(t, err)
	profile, err := compliance.NewRegistry().Lookup("us")
	require.NoError(t, err)
	src := &fakeSource{}
	return bundle{
		src: src,
		opt: &sendtime.Optimiser{Source: src, Enabled: func(l string) bool { return l == "on" }, Seed: 7},
		acct: nudge.Account{ID: "A1", Lender: "on", Portfolio: "auto", Status: nudge.StatusActive,
			Borrower: nudge.Borrower{Language: "en", Timezone: "America/Chicago"}, Address: &nudge.Address{Country: "US", Region: "IL"},
			Contacts: []nudge.Contact{{Channel: nudge.Voice, Address: "+13125550001"}}},
		profile: profile, loc: loc,
		day: time.Date(2026, 4, 8, 0, 0, 0, 0, loc),
	}
}

func (b bundle) choose(t *testing.T, key string, from time.Time) (sendtime.Choice, bool) {
	t.Helper()
	batch, err := b.opt.Prepare(context.Background(), []nudge.Account{b.acct}, from)
	require.NoError(t, err)
	return batch.Choose(sendtime.Request{Key: key, Account: b.acct, Channel: nudge.Voice, Profile: b.profile, Location: b.loc,
		From: from, Until: b.day.Add(24 * time.Hour)})
}

func TestChooseStaysInWindowAndDay(t *testing.T) {
	t.Parallel()
	b := setup(t)
	for i := range 200 {
		c, ok := b.choose(t, "rem"+string(rune('a'+i%26))+string(rune('a'+i/26)), b.day)
		require.True(t, ok)
		local := c.At.In(b.loc)
		require.GreaterOrEqual(t, local.Hour(), 8, "Regulation F: not before 08:00")
		require.Less(t, local.Hour(), 21, "Regulation F: not after 21:00")
		require.Equal(t, 8, local.Day())
		require.Equal(t, c.Hour, local.Hour())
		require.Len(t, c.Hours, 13) // 08 to 20
	}
	// From 19:30 only the 19:30 and 20:00 starts are left.
	c, ok := b.choose(t, "late", b.day.Add(19*time.Hour+30*time.Minute))
	require.True(t, ok)
	require.Len(t, c.Hours, 2)
	require.Equal(t, b.day.Add(19*time.Hour+30*time.Minute).UTC(), c.Hours[0].At)
	// After the window closes nothing is left: the planner keeps its time.
	_, ok = b.choose(t, "later", b.day.Add(21*time.Hour))
	require.False(t, ok)
}

func TestChooseFollowsEvidence(t *testing.T) {
	t.Parallel()
	b := setup(t)
	for h := 8; h <= 20; h++ {
		c := sendtime.Count{Trials: 3}
		if h == 17 {
			c = sendtime.Count{Trials: 6, Successes: 5}
		}
		b.src.own = append(b.src.own, sendtime.Row{AccountID: "A1", Channel: nudge.Voice, Hour: h, Count: c})
	}
	at17 := 0
	for i := range 100 {
		c, ok := b.choose(t, "rem"+string(rune('a'+i%26))+string(rune('a'+i/26)), b.day)
		require.True(t, ok)
		require.Equal(t, 17, c.Best)
		if c.Hour == 17 {
			at17++
		}
	}
	require.Greater(t, at17, 80, "the draw mostly exploits the hour that answers")
}

func TestPoolIsThePrior(t *testing.T) {
	t.Parallel()
	b := setup(t)
	seg := sendtime.Segment{Portfolio: "auto", Language: "en", Zone: "America/Chicago"}
	b.src.pool = []sendtime.Row{{Segment: seg, Channel: nudge.Voice, Hour: 12, Count: sendtime.Count{Trials: 100, Successes: 80}}}
	c, ok := b.choose(t, "new", b.day)
	require.True(t, ok)
	require.Equal(t, 12, c.Best, "a new borrower starts from what works for similar borrowers")
	for _, e := range c.Hours {
		if e.Hour == 12 {
			require.Equal(t, sendtime.Count{Trials: 100, Successes: 80}, e.Pool)
			require.Greater(t, e.Mean, 0.5)
		}
	}
	// Another segment's pool does not count.
	b.acct.Borrower.Language = "es"
	c, ok = b.choose(t, "new", b.day)
	require.True(t, ok)
	for _, e := range c.Hours {
		require.Zero(t, e.Pool.Trials)
	}
}

func TestChooseIsDeterministic(t *testing.T) {
	t.Parallel()
	b := setup(t)
	first, ok := b.choose(t, "rem1", b.day)
	require.True(t, ok)
	again, _ := b.choose(t, "rem1", b.day)
	require.Equal(t, first, again, "the same seed and key draw the same")
	// An injected generator replaces the seeded one.
	b.opt.Rand = func(string) *rand.Rand { return rand.New(rand.NewPCG(1, 1)) }
	x, _ := b.choose(t, "rem1", b.day)
	y, _ := b.choose(t, "rem2", b.day)
	require.Equal(t, x.Hour, y.Hour)
}

func TestSwitchOff(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.acct.Lender = "off"
	_, ok := b.choose(t, "rem1", b.day)
	require.False(t, ok)
	require.Empty(t, b.src.rolled, "a lender with the switch off costs no query")
	var nilBatch *sendtime.Batch
	_, ok = nilBatch.Choose(sendtime.Request{})
	require.False(t, ok)
}

func TestBetaMoments(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(3, 4))
	for _, c := range []struct{ a, b float64 }{{1, 1}, {0.5, 0.5}, {2, 8}, {30, 3}} {
		sum, sq := 0.0, 0.0
		const n = 20000
		for range n {
			x := sendtime.Beta(r, c.a, c.b)
			require.True(t, x >= 0 && x <= 1)
			sum += x
			sq += x * x
		}
		mean := sum / n
		want := c.a / (c.a + c.b)
		variance := sq/n - mean*mean
		wantVar := c.a * c.b / ((c.a + c.b) * (c.a + c.b) * (c.a + c.b + 1))
		require.InDelta(t, want, mean, 0.01, "mean of Beta(%g, %g)", c.a, c.b)
		require.InDelta(t, wantVar, variance, 0.1*wantVar+0.001, "variance of Beta(%g, %g)", c.a, c.b)
	}
}

// TestExplain: Explain answers the choice for a lender with the switch off
// as for one with it on, rolls up the contacts settled by then first, and
// keeps to the rest of the local day from the instant asked about.
func TestExplain(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.acct.Lender = "off"
	at := b.day.Add(15*time.Hour + 20*time.Minute)
	c, ok, err := b.opt.Explain(context.Background(), b.acct, nudge.Voice, b.profile, at)
	require.NoError(t, err)
	require.True(t, ok, "the switch is off, yet the choice is explained")
	require.Equal(t, []time.Time{at.Add(-sendtime.DefaultSettle)}, b.src.rolled, "the contacts settled by then are rolled up")
	require.Equal(t, "America/Chicago", c.Zone)
	require.Equal(t, 15, c.Hours[0].Hour, "the hour of the instant asked about is the first candidate")
	require.Equal(t, at.UTC(), c.Hours[0].At, "a send in it goes from that instant")
	for _, e := range c.Hours {
		require.Less(t, e.Hour, 21, "inside the calling window")
	}

	_, ok, err = b.opt.Explain(context.Background(), b.acct, nudge.Voice, b.profile, b.day.Add(22*time.Hour))
	require.NoError(t, err)
	require.False(t, ok, "no hour of the day is left")
}
