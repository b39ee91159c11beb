package ops

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"unicode"
)

// The dashboard's charts are SVG drawn by the "chart" template from the
// shapes computed here. The SVG has a viewBox and no fixed size, so it
// scales with its column and keeps its aspect ratio; its colours come from
// CSS classes (ops.css) that give every status its meaning; its legend is
// HTML above it, so it wraps on a phone and is read in any language. Text
// never overlaps: a horizontal bar's label sits on its own line above the
// bar, and a column chart labels only as many columns as fit.
//
// go-analyze/charts drew them before. It sizes and places text with the
// metrics of a font embedded in the binary, not the ones the browser draws
// with, so labels overlapped and Chinese text was measured as if it were
// Latin; its axes were fractional ("60.00"); it colours series from a
// palette by position, not by what they mean. Each needed a workaround, and
// the bars below are a few hundred lines.

// Chart geometry, in viewBox units (about pixels on a desktop screen).
const (
	chartWidth = 400
	// chartFont is the font size of the chart's text (ops.css sets it too).
	chartFont = 12
	// barHeight and barGap shape a horizontal bar row: its label line,
	// then the bar.
	barLabel  = 16
	barHeight = 14
	barGap    = 10
	// groupBar is the height of one bar within a group (the funnel).
	groupBar = 10
	// valueRoom is kept right of the longest bar for its value.
	valueRoom = 52
	// axisRoom is the height of the count axis under horizontal bars.
	axisRoom = 22
	// columnHeight is the plot height of a column chart; columnLeft and
	// columnBottom hold its count axis and its time labels.
	columnHeight = 170
	columnLeft   = 40
	columnBottom = 24
	// maxColumnLabels is how many columns at most carry a time label.
	maxColumnLabels = 6
)

// chart is one chart of a page.
type chart struct {
	ID    string
	Title string
	// Desc is the chart's text alternative: what it counts.
	Desc string
	// Legend names the series, in drawing order.
	Legend []legendEntry
	// Width and Height are the viewBox.
	Width, Height int
	Rects         []chartRect
	Texts         []chartText
	Lines         []chartLine
	// Total is the sum of the counts drawn; zero draws nothing.
	Total int
	// Empty is what shows instead of an empty chart.
	Empty string
}

// legendEntry is one series: its name as shown and its colour class.
type legendEntry struct {
	Name, Class string
}

// chartRect is a bar or a piece of one; Title is what hovering shows.
type chartRect struct {
	X, Y, W, H float64
	Class      string
	Title      string
}

// chartText is a label. Anchor is the SVG text-anchor (start, middle, end).
type chartText struct {
	X, Y   float64
	Anchor string
	Class  string
	Text   string
}

// chartLine is a grid line of an axis.
type chartLine struct {
	X1, Y1, X2, Y2 float64
}

// series is one named, coloured set of counts, one per category.
type series struct {
	Name   string
	Class  string
	Values []int
}

func total(ss []series) int {
	var t int
	for _, s := range ss {
		for _, v := range s.Values {
			t += v
		}
	}
	return t
}

// niceTicks returns the axis ticks of counts up to maxV: whole numbers
// 0, step, 2·step, … with step 1, 2 or 5 times a power of ten, at most
// five steps, the last at or above maxV.
func niceTicks(maxV int) []int {
	if maxV <= 0 {
		return []int{0, 1}
	}
	step := 1
	for p := 1; ; p *= 10 {
		if i := slices.IndexFunc([]int{1, 2, 5}, func(m int) bool { return m*p*5 >= maxV }); i >= 0 {
			step = []int{1, 2, 5}[i] * p
			break
		}
	}
	top := (maxV + step - 1) / step * step
	ticks := make([]int, 0, top/step+1)
	for t := 0; t <= top; t += step {
		ticks = append(ticks, t)
	}
	return ticks
}

// textWidth estimates how wide s is drawn at chartFont: wide (CJK) runes
// take a full em, others a little over half.
func textWidth(s string) float64 {
	var w float64
	for _, r := range s {
		if isWide(r) {
			w += chartFont
		} else {
			w += 0.6 * chartFont
		}
	}
	return w
}

func isWide(r rune) bool {
	return unicode.In(r, unicode.Han, unicode.Hiragana, unicode.Katakana, unicode.Hangul) || (r >= 0xFF00 && r <= 0xFFEF) || (r >= 0x3000 && r <= 0x303F)
}

// fit shortens s with an ellipsis until it fits width.
func fit(s string, width float64) string {
	if textWidth(s) <= width {
		return s
	}
	rs := []rune(s)
	for len(rs) > 1 {
		rs = rs[:len(rs)-1]
		if t := string(rs) + "…"; textWidth(t) <= width {
			return t
		}
	}
	return "…"
}

func num(n int) string { return strconv.Itoa(n) }

// countAxis draws vertical grid lines and whole-number labels under
// horizontal bars that span x0..x0+span for counts up to top, between y0
// and y1; the labels go under y1.
func countAxis(c *chart, ticks []int, x0, span, y0, y1 float64) {
	top := ticks[len(ticks)-1]
	for _, t := range ticks {
		x := x0 + span*float64(t)/float64(top)
		c.Lines = append(c.Lines, chartLine{X1: x, Y1: y0, X2: x, Y2: y1})
		anchor := "middle"
		if t == 0 {
			anchor = "start"
		}
		c.Texts = append(c.Texts, chartText{X: x, Y: y1 + chartFont + 2, Anchor: anchor, Class: "axis", Text: num(t)})
	}
}

// hbarChart draws one horizontal bar per category, its series stacked
// left to right, each bar's label on the line above it and its total at its
// end, over a whole-number count axis.
func hbarChart(id, title, desc string, categories []string, ss []series) chart {
	c := chart{ID: id, Title: title, Desc: desc, Width: chartWidth, Total: total(ss)}
	for _, s := range ss {
		c.Legend = append(c.Legend, legendEntry{Name: s.Name, Class: s.Class})
	}
	if c.Total == 0 || len(categories) == 0 {
		return c
	}
	sums := make([]int, len(categories))
	maxSum := 0
	for i := range categories {
		for _, s := range ss {
			sums[i] += s.Values[i]
		}
		maxSum = max(maxSum, sums[i])
	}
	ticks := niceTicks(maxSum)
	top := float64(ticks[len(ticks)-1])
	span := float64(chartWidth - valueRoom)
	y := 4.0
	for i, cat := range categories {
		c.Texts = append(c.Texts, chartText{X: 0, Y: y + chartFont, Anchor: "start", Class: "label", Text: fit(cat, chartWidth)})
		y += barLabel
		x := 0.0
		for _, s := range ss {
			v := s.Values[i]
			if v == 0 {
				continue
			}
			w := span * float64(v) / top
			c.Rects = append(c.Rects, chartRect{X: x, Y: y, W: w, H: barHeight, Class: s.Class,
				Title: fmt.Sprintf("%s · %s: %d", cat, s.Name, v)})
			x += w
		}
		c.Texts = append(c.Texts, chartText{X: x + 4, Y: y + barHeight - 2, Anchor: "start", Class: "value", Text: num(sums[i])})
		y += barHeight + barGap
	}
	countAxis(&c, ticks, 0, span, 0, y)
	c.Height = int(math.Ceil(y + axisRoom))
	return c
}

// group is one labelled set of bars of a grouped chart, one per series;
// a series whose value is missing is replaced by its Missing text.
type group struct {
	Label  string
	Values []int
	// Missing, when non-empty at an index, is drawn instead of that bar.
	Missing []string
}

// groupedChart draws, for every group, its label and then one thin bar per
// series under it with the bar's count at its end: the funnel of a cadence
// step, planned to paid.
func groupedChart(id, title, desc string, names []legendEntry, groups []group) chart {
	c := chart{ID: id, Title: title, Desc: desc, Width: chartWidth, Legend: names}
	maxV := 0
	for _, g := range groups {
		for _, v := range g.Values {
			c.Total += v
			maxV = max(maxV, v)
		}
	}
	if c.Total == 0 {
		return c
	}
	ticks := niceTicks(maxV)
	top := float64(ticks[len(ticks)-1])
	span := float64(chartWidth - valueRoom)
	y := 4.0
	for _, g := range groups {
		c.Texts = append(c.Texts, chartText{X: 0, Y: y + chartFont, Anchor: "start", Class: "label", Text: fit(g.Label, chartWidth)})
		y += barLabel
		for i, v := range g.Values {
			if i < len(g.Missing) && g.Missing[i] != "" {
				c.Texts = append(c.Texts, chartText{X: 2, Y: y + groupBar - 1, Anchor: "start", Class: "note", Text: g.Missing[i]})
				y += groupBar + 2
				continue
			}
			w := span * float64(v) / top
			c.Rects = append(c.Rects, chartRect{X: 0, Y: y, W: w, H: groupBar, Class: names[i].Class,
				Title: fmt.Sprintf("%s · %s: %d", g.Label, names[i].Name, v)})
			c.Texts = append(c.Texts, chartText{X: w + 4, Y: y + groupBar - 1, Anchor: "start", Class: "value", Text: num(v)})
			y += groupBar + 2
		}
		y += barGap
	}
	countAxis(&c, ticks, 0, span, 0, y)
	c.Height = int(math.Ceil(y + axisRoom))
	return c
}

// columnChart draws counts over time: one column per period, its series
// stacked bottom up, a whole-number count axis on the left, and at most
// maxColumnLabels evenly spaced period labels under the columns.
func columnChart(id, title, desc string, periods []string, ss []series) chart {
	c := chart{ID: id, Title: title, Desc: desc, Width: chartWidth, Total: total(ss),
		Height: 8 + columnHeight + columnBottom}
	for _, s := range ss {
		c.Legend = append(c.Legend, legendEntry{Name: s.Name, Class: s.Class})
	}
	if c.Total == 0 || len(periods) == 0 {
		return c
	}
	maxSum := 0
	for i := range periods {
		sum := 0
		for _, s := range ss {
			sum += s.Values[i]
		}
		maxSum = max(maxSum, sum)
	}
	ticks := niceTicks(maxSum)
	top := float64(ticks[len(ticks)-1])
	plotW := float64(chartWidth - columnLeft - 4)
	base := 8.0 + columnHeight
	for _, t := range ticks {
		y := base - columnHeight*float64(t)/top
		c.Lines = append(c.Lines, chartLine{X1: columnLeft, Y1: y, X2: chartWidth - 4, Y2: y})
		c.Texts = append(c.Texts, chartText{X: columnLeft - 4, Y: y + chartFont/3, Anchor: "end", Class: "axis", Text: num(t)})
	}
	slot := plotW / float64(len(periods))
	colW := math.Max(slot*0.8, math.Min(slot, 1))
	every := (len(periods) + maxColumnLabels - 1) / maxColumnLabels
	for i, p := range periods {
		x := columnLeft + slot*float64(i) + (slot-colW)/2
		y := base
		for _, s := range ss {
			v := s.Values[i]
			if v == 0 {
				continue
			}
			h := columnHeight * float64(v) / top
			y -= h
			c.Rects = append(c.Rects, chartRect{X: x, Y: y, W: colW, H: h, Class: s.Class, Title: fmt.Sprintf("%s · %s: %d", p, s.Name, v)})
		}
		if i%every == 0 {
			// Centred under its column, or flush with the plot's edge when
			// centring would run past it.
			t := chartText{X: columnLeft + slot*(float64(i)+0.5), Y: base + chartFont + 6, Anchor: "middle", Class: "axis", Text: p}
			switch w := textWidth(p); {
			case t.X+w/2 > chartWidth:
				t.X, t.Anchor = chartWidth, "end"
			case t.X-w/2 < columnLeft:
				t.X, t.Anchor = columnLeft, "start"
			}
			c.Texts = append(c.Texts, t)
		}
	}
	return c
}
