package nudge_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/nudgehq/nudge"
)

func TestActivePromise(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	p := func(id, plan, due string, st nudge.PromiseStatus, at time.Time) nudge.Promise {
		return nudge.Promise{ID: id, PlanID: plan, Due: nudge.MustDate(due), Status: st, CreatedAt: at}
	}
	tests := []struct {
		name string
		ps   []nudge.Promise
		want string
	}{
		{name: "none"},
		{name: "a single pending promise", ps: []nudge.Promise{p("a", "", "2026-12-10", nudge.PromisePending, t0)}, want: "a"},
		{name: "kept and broken ones pause nothing", ps: []nudge.Promise{
			p("a", "", "2026-12-10", nudge.PromiseKept, t0), p("b", "", "2026-12-11", nudge.PromiseBroken, t0)}},
		{name: "a plan's next instalment", ps: []nudge.Promise{
			p("x-1", "x", "2026-12-05", nudge.PromiseKept, t0), p("x-3", "x", "2027-01-02", nudge.PromisePending, t0),
			p("x-2", "x", "2026-12-19", nudge.PromisePending, t0)}, want: "x-2"},
		{name: "a broken plan pauses nothing", ps: []nudge.Promise{
			p("x-1", "x", "2026-12-05", nudge.PromiseBroken, t0), p("x-2", "x", "2026-12-19", nudge.PromisePending, t0)}},
		{name: "a promise after a broken plan", ps: []nudge.Promise{
			p("x-1", "x", "2026-12-05", nudge.PromiseBroken, t0), p("x-2", "x", "2026-12-19", nudge.PromisePending, t0),
			p("b", "", "2026-12-24", nudge.PromisePending, t0.Add(time.Hour))}, want: "b"},
		{name: "same date: the most recent", ps: []nudge.Promise{
			p("a", "", "2026-12-10", nudge.PromisePending, t0), p("b", "", "2026-12-10", nudge.PromisePending, t0.Add(time.Hour))}, want: "b"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, ok := nudge.ActivePromise(tc.ps)
			require.Equal(t, tc.want != "", ok)
			require.Equal(t, tc.want, got.ID)
		})
	}
}
