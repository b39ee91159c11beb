package ops

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestNiceTicks(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		max  int
		want []int
	}{
		{0, []int{0, 1}},
		{1, []int{0, 1}},
		{3, []int{0, 1, 2, 3}},
		{7, []int{0, 2, 4, 6, 8}},
		{60, []int{0, 20, 40, 60}},
		{61, []int{0, 20, 40, 60, 80}},
		{1234, []int{0, 500, 1000, 1500}},
	} {
		require.Equal(t, tc.want, niceTicks(tc.max), "max %d", tc.max)
	}
}

// TestHBarChart checks the shapes of a stacked bar chart: one bar per
// category, pieces in series order, whole-number axis labels, each label on
// its own line above its bar, and nothing outside the viewBox.
func TestHBarChart(t *testing.T) {
	t.Parallel()
	c := hbarChart("x", "Attempts", "desc", []string{"sms", "voice", "email"}, []series{
		{Name: "delivered", Class: "s-delivered", Values: []int{40, 10, 0}},
		{Name: "failed", Class: "s-failed", Values: []int{20, 0, 0}},
		{Name: "sent", Class: "s-sent", Values: []int{0, 0, 30}},
	})
	require.Equal(t, 100, c.Total)
	require.Len(t, c.Rects, 4, "zero values draw nothing")
	require.Equal(t, "s-delivered", c.Rects[0].Class)
	require.Equal(t, "s-failed", c.Rects[1].Class)
	require.InDelta(t, c.Rects[0].X+c.Rects[0].W, c.Rects[1].X, 1e-9, "stacked left to right")
	var axis, labels []string
	labelY := map[string]float64{}
	for _, tx := range c.Texts {
		switch tx.Class {
		case "axis":
			axis = append(axis, tx.Text)
		case "label":
			labels = append(labels, tx.Text)
			labelY[tx.Text] = tx.Y
		}
	}
	require.Equal(t, []string{"0", "20", "40", "60"}, axis, "whole numbers, no 60.00")
	require.Equal(t, []string{"sms", "voice", "email"}, labels)
	for _, r := range c.Rects {
		require.GreaterOrEqual(t, r.X, 0.0)
		require.LessOrEqual(t, r.X+r.W, float64(c.Width))
		require.LessOrEqual(t, r.Y+r.H, float64(c.Height))
	}
	require.Greater(t, labelY["voice"], c.Rects[0].Y+c.Rects[0].H, "the next label is below the bar before it")

	empty := hbarChart("y", "t", "d", []string{"sms"}, []series{{Name: "a", Values: []int{0}}})
	require.Zero(t, empty.Total)
	require.Empty(t, empty.Rects)
}

// TestColumnChartLabelsDoNotOverlap labels the columns of every range the
// console draws (7 days, an hour in 5-minute steps, 24 or 25 hours, 30 or
// 31 days).
func TestColumnChartLabelsDoNotOverlap(t *testing.T) {
	t.Parallel()
	for _, n := range []int{7, 13, 24, 25, 30, 31} {
		columnLabelsFit(t, n)
	}
}

// columnLabelsFit draws n columns and checks their labels: at most
// maxColumnLabels, inside the chart, far enough apart for their text.
func columnLabelsFit(t *testing.T, n int) {
	t.Helper()
	periods := make([]string, n)
	vals := make([]int, n)
	for i := range periods {
		periods[i] = "06-" + num(10+i)
		vals[i] = i
	}
	c := columnChart("x", "t", "d", periods, []series{{Name: "sms", Class: "c-sms", Values: vals}})
	// Each label's extent, left to right.
	var spans [][2]float64
	for _, tx := range c.Texts {
		if tx.Class != "axis" || tx.Anchor == "end" && tx.X < float64(c.Width) {
			continue // the count axis' labels stand left of the plot
		}
		w := textWidth(tx.Text)
		switch tx.Anchor {
		case "start":
			spans = append(spans, [2]float64{tx.X, tx.X + w})
		case "middle":
			spans = append(spans, [2]float64{tx.X - w/2, tx.X + w/2})
		case "end":
			spans = append(spans, [2]float64{tx.X - w, tx.X})
		}
	}
	require.NotEmpty(t, spans)
	require.LessOrEqual(t, len(spans), maxColumnLabels, "%d columns", n)
	for i, s := range spans {
		require.GreaterOrEqual(t, s[0], float64(columnLeft)-1, "%d columns: label %d starts inside", n, i)
		require.LessOrEqual(t, s[1], float64(c.Width), "%d columns: label %d ends inside", n, i)
		if i > 0 {
			require.Greater(t, s[0], spans[i-1][1]+2, "%d columns: label %d clears the one before", n, i)
		}
	}
	require.Len(t, c.Rects, n-1, "the zero column draws nothing")
}

func TestFitShortensWideText(t *testing.T) {
	t.Parallel()
	require.Equal(t, "abc", fit("abc", 100))
	long := fit("标准催收流程第一步短信提醒标准催收流程第一步短信提醒标准催收流程第一步短信提醒", 200)
	require.LessOrEqual(t, textWidth(long), 200.0)
	require.Contains(t, long, "…")
}
