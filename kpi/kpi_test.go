package kpi_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/nudgehq/nudge/kpi"
)

func TestParseDimensions(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, in string
		want     []kpi.Dimension
		err      string
	}{
		{name: "empty", in: ""},
		{name: "two", in: "channel, step", want: []kpi.Dimension{kpi.Channel, kpi.Step}},
		{name: "all", in: "day,cadence_version,step,channel,language,arm", want: kpi.Dimensions},
		{name: "unknown", in: "channel,colour", err: `unknown dimension "colour"`},
		{name: "repeated", in: "step,step", err: `dimension "step" is repeated`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := kpi.ParseDimensions(tc.in)
			if tc.err != "" {
				require.ErrorContains(t, err, tc.err)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.want, got)
		})
	}
}

func TestParseMicros(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in   string
		want kpi.Micros
		err  string
	}{
		{in: "0.0079", want: 7900},
		{in: "1", want: 1_000_000},
		{in: "0.014", want: 14_000},
		{in: "12.5", want: 12_500_000},
		{in: "0.0000001", err: "more than 6 decimals"},
		{in: "-1", err: "not a non-negative"},
		{in: "abc", err: "not a non-negative"},
		{in: ".5", err: "not a non-negative"},
		{in: "", err: "empty"},
	} {
		got, err := kpi.ParseMicros(tc.in)
		if tc.err != "" {
			require.ErrorContains(t, err, tc.err, tc.in)
			continue
		}
		require.NoError(t, err, tc.in)
		require.Equal(t, tc.want, got, tc.in)
	}
	require.Equal(t, "0.0079", kpi.Micros(7900).String())
	require.Equal(t, "3.00", kpi.Micros(3_000_000).String())
	require.Equal(t, "0.50", kpi.Micros(500_000).String())
}

func TestRatesAndCost(t *testing.T) {
	t.Parallel()
	c := kpi.Counts{Sent: 10, Delivered: 8, Contactable: 6, Contacted: 3, Cycles: 4, Cured: 2, Segments: 12, CallMinutes: 5, Emails: 4}
	var sum kpi.Counts
	sum.Add(c)
	sum.Add(c)
	require.Equal(t, int64(20), sum.Sent)
	require.Equal(t, int64(24), sum.Segments)

	r := kpi.Rates(c)
	require.Len(t, r, len(kpi.Definitions))
	v, ok := r["delivery_rate"].Value()
	require.True(t, ok)
	require.InDelta(t, 0.8, v, 1e-9)
	require.Equal(t, kpi.Rate{Num: 3, Den: 6}, r["contact_rate"])
	_, ok = r["promise_kept_rate"].Value()
	require.False(t, ok, "no promises, no rate")

	p := kpi.Prices{Currency: "USD", SMSPerSegment: 7900, VoicePerMinute: 14_000, EmailPerEmail: 1000}
	// 12 × 0.0079 + 5 × 0.014 + 4 × 0.001 = 0.0948 + 0.07 + 0.004 = 0.1688
	require.Equal(t, kpi.Micros(168_800), p.Cost(c))
	per, ok := p.CostPerCure(c)
	require.True(t, ok)
	require.Equal(t, kpi.Micros(84_400), per)
	_, ok = p.CostPerCure(kpi.Counts{Segments: 3})
	require.False(t, ok)
	require.Len(t, kpi.CounterNames, len(c.Fields()))
}
