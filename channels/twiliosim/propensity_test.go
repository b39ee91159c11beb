package twiliosim

import (
	"fmt"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestPropensity(t *testing.T) {
	t.Parallel()
	const (
		kind  = "Acme: Jane, your $412.50 payment is 7 days late. We're here to help. Reply STOP to opt out."
		firm  = "Acme: Jane, your $412.50 payment is 7 days late. Please pay now. Reply STOP to opt out."
		menu  = "Acme: Jane, your $412.50 payment is 7 days late. Please pay now. Reply 1 to pay $412.50 by Fri 12/04, 2 if you already paid. Reply STOP to opt out."
		n     = 20000
		slack = 0.012 // about four standard errors of a share near 0.2 over 20,000 draws
	)
	model := &Propensity{Promise: 0.20, Lifts: []Lift{{Marker: "Please pay now", Promise: 0.05}}, Keep: 0.6, Pay: 0.1}
	sim := New(Config{Seed: 7, Mix: []Weight{{BehaviourSilent, 1}}, Propensity: model})
	promises := func(body string) float64 {
		got := 0
		for i := range n {
			b := sim.Borrower(fmt.Sprintf("+1555%07d", i))
			text, ok := b.replyFor(7, body, 0)
			if !ok {
				continue
			}
			got++
			// A promise is a promise text or the menu's promise key.
			require.True(t, text == "1" || slices.Contains(replyTexts[BehaviourPromise]["en"], text), "reply %q", text)
			_, again := b.replyFor(7, body, 1)
			require.False(t, again, "a borrower answers once (MaxReplies 1)")
		}
		return float64(got) / n
	}
	require.InDelta(t, 0.20, promises(kind), slack)
	require.InDelta(t, 0.25, promises(firm), slack)
	require.InDelta(t, 0.25, promises(menu), slack)
	require.InDelta(t, 0.25, model.PromiseChance(firm), 1e-12)
	require.InDelta(t, 0.20, model.PromiseChance(kind), 1e-12)

	keeps, pays := 0, 0
	for i := range n {
		num := fmt.Sprintf("+1555%07d", i)
		if sim.KeepsPromise(num) {
			keeps++
		}
		if sim.Pays(num) {
			pays++
		}
		require.Equal(t, sim.KeepsPromise(num), sim.KeepsPromise(num), "deterministic")
	}
	require.InDelta(t, 0.6, float64(keeps)/n, 0.02)
	require.InDelta(t, 0.1, float64(pays)/n, slack)
}

func TestPropensityLeavesOthersAlone(t *testing.T) {
	t.Parallel()
	const body = "Acme: your payment is 7 days late. Please pay now. Reply STOP to opt out."
	always := &Propensity{Promise: 1}
	tests := []struct {
		name string
		b    Borrower
		want []string // the acceptable replies; none for no reply
	}{
		{name: "stop keeps its behaviour", b: Borrower{Number: "+15550000001", Behaviour: BehaviourStop, Language: "zh", model: always}, want: replyTexts[BehaviourStop]["en"]},
		{name: "scripted replies win", b: Borrower{Number: "+15550000002", Behaviour: BehaviourSilent, Replies: []string{"hello"}, model: always}, want: []string{"hello"}},
		{name: "no model: silent stays silent", b: Borrower{Number: "+15550000003", Behaviour: BehaviourSilent}},
		{name: "never promising model silences a promiser", b: Borrower{Number: "+15550000004", Behaviour: BehaviourPromise, model: &Propensity{}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, ok := tc.b.replyFor(3, body, 0)
			require.Equal(t, len(tc.want) > 0, ok)
			if ok {
				require.Contains(t, tc.want, got)
			}
		})
	}
	// Without a Propensity, the simulator's borrowers are those of before.
	plain, modelled := New(Config{Seed: 9}), New(Config{Seed: 9, Propensity: always})
	for i := range 200 {
		num := fmt.Sprintf("+1555%07d", i)
		b := plain.Borrower(num)
		require.Nil(t, b.model)
		m := modelled.Borrower(num)
		require.Equal(t, b.Behaviour, m.Behaviour)
		require.Equal(t, b.Language, m.Language)
		require.False(t, plain.KeepsPromise(num))
		require.False(t, plain.Pays(num))
	}
}
