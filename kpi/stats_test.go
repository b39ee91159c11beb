package kpi_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/nudgehq/nudge/kpi"
)

// Newcombe, R. G. (1998). Two-sided confidence intervals for the single
// proportion: comparison of seven methods. Statistics in Medicine 17,
// 857–872, Table II, method 3 (Wilson score interval without continuity
// correction), to four decimals.
func TestWilsonNewcombe(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		num, den  int64
		low, high float64
	}{
		{name: "81/263", num: 81, den: 263, low: 0.2553, high: 0.3662},
		{name: "15/148", num: 15, den: 148, low: 0.0624, high: 0.1605},
		{name: "0/20", num: 0, den: 20, low: 0, high: 0.1611},
		{name: "1/29", num: 1, den: 29, low: 0.0061, high: 0.1718},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			low, high, ok := kpi.Wilson(tc.num, tc.den, kpi.Z95)
			require.True(t, ok)
			require.InDelta(t, tc.low, low, 0.00005)
			require.InDelta(t, tc.high, high, 0.00005)
		})
	}
	_, _, ok := kpi.Wilson(0, 0, kpi.Z95)
	require.False(t, ok, "no interval without a denominator")
	low, high, ok := kpi.Wilson(29, 29, kpi.Z95)
	require.True(t, ok)
	require.InDelta(t, 0.8830, low, 0.00005)
	require.InDelta(t, 1, high, 1e-12)
}

// The z and p values were computed independently (Python's math.erfc over
// the pooled two-proportion formula); the 2000/10000 against 2500/10000
// case is the drill's effect size.
func TestZTestKnownValues(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		a, b kpi.Rate
		z, p float64
	}{
		{name: "56/70 vs 48/80", a: kpi.Rate{Num: 56, Den: 70}, b: kpi.Rate{Num: 48, Den: 80}, z: 2.6501719512585336, p: 0.008045081368196568},
		{name: "20% vs 25% of 10000", a: kpi.Rate{Num: 2000, Den: 10000}, b: kpi.Rate{Num: 2500, Den: 10000}, z: -8.466675133346032, p: 2.5249706256348036e-17},
		{name: "20% vs 21% of 1000", a: kpi.Rate{Num: 200, Den: 1000}, b: kpi.Rate{Num: 210, Den: 1000}, z: -0.5538912535736553, p: 0.5796532713054185},
		{name: "equal", a: kpi.Rate{Num: 5, Den: 10}, b: kpi.Rate{Num: 5, Den: 10}, z: 0, p: 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			z, p, ok := kpi.ZTest(tc.a, tc.b)
			require.True(t, ok)
			require.InDelta(t, tc.z, z, 1e-9)
			require.InEpsilon(t, tc.p, p, 1e-6)
		})
	}
	_, p, ok := kpi.ZTest(kpi.Rate{Num: 0, Den: 10}, kpi.Rate{Num: 0, Den: 10})
	require.False(t, ok, "no variance")
	require.Equal(t, 1.0, p)
}

func TestCompare(t *testing.T) {
	t.Parallel()
	r := func(num, den int64) kpi.Rate { return kpi.Rate{Num: num, Den: den} }
	tests := []struct {
		name   string
		arms   []kpi.ArmRate
		better string
	}{
		{name: "challenger better", arms: []kpi.ArmRate{{"a", r(2000, 10000)}, {"b", r(2500, 10000)}}, better: "b"},
		{name: "champion better", arms: []kpi.ArmRate{{"a", r(2500, 10000)}, {"b", r(2000, 10000)}}, better: "a"},
		{name: "not significant", arms: []kpi.ArmRate{{"a", r(200, 1000)}, {"b", r(210, 1000)}}},
		// p = 0.031 for 240/1000 against 200/1000 passes 0.05 with two arms
		// but not 0.05/3 with four.
		{name: "two arms at p 0.031", arms: []kpi.ArmRate{{"a", r(200, 1000)}, {"b", r(240, 1000)}}, better: "b"},
		{name: "bonferroni with four arms", arms: []kpi.ArmRate{{"a", r(200, 1000)}, {"b", r(240, 1000)}, {"c", r(200, 1000)}, {"d", r(199, 1000)}}},
		{name: "best of two significant challengers", arms: []kpi.ArmRate{{"a", r(2000, 10000)}, {"b", r(2500, 10000)}, {"c", r(2700, 10000)}}, better: "c"},
		{name: "champion must beat every challenger", arms: []kpi.ArmRate{{"a", r(2500, 10000)}, {"b", r(2000, 10000)}, {"c", r(2490, 10000)}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c, err := kpi.Compare("promise_rate", tc.arms, 0)
			require.NoError(t, err)
			require.Equal(t, tc.better, c.Better)
			require.Len(t, c.Arms, len(tc.arms))
			require.Len(t, c.Tests, len(tc.arms)-1)
			for _, a := range c.Arms {
				require.LessOrEqual(t, a.Low, a.Value)
				require.GreaterOrEqual(t, a.High, a.Value)
			}
		})
	}
	_, err := kpi.Compare("promise_rate", []kpi.ArmRate{{"a", r(1, 2)}}, 0)
	require.ErrorContains(t, err, "at least 2")
	_, err = kpi.Compare("promise_rate", []kpi.ArmRate{{"a", r(3, 2)}, {"b", r(1, 2)}}, 0)
	require.ErrorContains(t, err, "arm a: 3 out of 2")
}

func TestEvaluate(t *testing.T) {
	t.Parallel()
	arms := []kpi.ArmCounts{
		{Arm: "kind", Counts: kpi.Counts{Sent: 10000, Promised: 2000, PromiseKept: 1200}},
		{Arm: "firm", Counts: kpi.Counts{Sent: 10000, Promised: 2500, PromiseKept: 1500}},
	}
	res, err := kpi.Evaluate("promise_rate", 5000, arms, 0)
	require.NoError(t, err)
	require.True(t, res.SampleReached)
	require.Equal(t, "firm", res.Better)
	require.InDelta(t, 8.466675133346032, res.Comparison.Tests[0].Z, 1e-9)
	kept := res.Arms[1].Rates["promise_kept_rate"]
	require.Equal(t, kpi.Rate{Num: 1500, Den: 2500}, kept.Rate)
	require.Less(t, kept.Low, 0.6)
	require.Greater(t, kept.High, 0.6)

	// The same data short of the stop rule's sample names nothing yet.
	res, err = kpi.Evaluate("promise_rate", 20000, arms, 0)
	require.NoError(t, err)
	require.False(t, res.SampleReached)
	require.Empty(t, res.Better)
	require.Equal(t, "firm", res.Comparison.Better, "the test itself is still shown")

	_, err = kpi.Evaluate("promises", 0, arms, 0)
	require.ErrorContains(t, err, `unknown metric "promises"`)
}
