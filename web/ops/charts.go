package ops

import (
	"fmt"
	"html/template"

	"github.com/go-analyze/charts"
)

// Chart sizes on the dashboard, in pixels.
const (
	opsChartWidth  = 720
	opsChartHeight = 320
)

// opsChart is one chart of a dashboard page: its SVG drawn on the server
// by go-analyze/charts, or nothing when there is no data.
type opsChart struct {
	ID    string
	Title string
	SVG   template.HTML
	// Total is the sum of the values drawn; zero means an empty chart.
	Total float64
}

// opsSeries is one named series of values, one per category.
type opsSeries struct {
	Name   string
	Values []float64
}

func seriesTotal(series []opsSeries) float64 {
	var t float64
	for _, s := range series {
		for _, v := range s.Values {
			t += v
		}
	}
	return t
}

func seriesData(series []opsSeries) ([][]float64, []string) {
	data := make([][]float64, len(series))
	names := make([]string, len(series))
	for i, s := range series {
		data[i], names[i] = s.Values, s.Name
	}
	return data, names
}

// svg renders a painter's SVG output; the library escapes every label.
func svg(p *charts.Painter) (template.HTML, error) {
	b, err := p.Bytes()
	if err != nil {
		return "", err
	}
	return template.HTML(b), nil //nolint:gosec // SVG produced by the chart library, which escapes text and attributes
}

func newPainter(height int) *charts.Painter {
	return charts.NewPainter(charts.PainterOptions{
		OutputFormat: charts.ChartOutputSVG, Width: opsChartWidth, Height: height,
	}, charts.PainterThemeOption(charts.GetTheme(charts.ThemeLight)))
}

// barChart draws categories against series as vertical bars, stacked when
// stack is set; it draws nothing when every value is zero.
func barChart(id, title string, categories []string, series []opsSeries, stack bool) (opsChart, error) {
	c := opsChart{ID: id, Title: title, Total: seriesTotal(series)}
	if c.Total == 0 || len(categories) == 0 {
		return c, nil
	}
	data, names := seriesData(series)
	opt := charts.NewBarChartOptionWithData(data)
	opt.CategoryAxis.Labels = categories
	opt.Legend.SeriesNames = names
	opt.Legend.Offset = charts.OffsetRight
	if stack {
		opt.StackSeries = charts.Ptr(true)
	}
	p := newPainter(opsChartHeight)
	if err := p.BarChart(opt); err != nil {
		return c, fmt.Errorf("draw chart %s: %w", id, err)
	}
	var err error
	c.SVG, err = svg(p)
	return c, err
}

// horizontalBarChart draws one series of labelled values as horizontal bars.
func horizontalBarChart(id, title string, labels []string, series []opsSeries) (opsChart, error) {
	c := opsChart{ID: id, Title: title, Total: seriesTotal(series)}
	if c.Total == 0 || len(labels) == 0 {
		return c, nil
	}
	data, names := seriesData(series)
	opt := charts.NewBarChartOptionWithData(data)
	opt.Horizontal = true
	opt.CategoryAxis.Labels = labels
	opt.Legend.SeriesNames = names
	opt.Legend.Offset = charts.OffsetRight
	opt.StackSeries = charts.Ptr(true)
	height := max(opsChartHeight/2, 60+28*len(labels))
	p := newPainter(height)
	if err := p.BarChart(opt); err != nil {
		return c, fmt.Errorf("draw chart %s: %w", id, err)
	}
	var err error
	c.SVG, err = svg(p)
	return c, err
}

// lineChart draws series over categories (days) as lines.
func lineChart(id, title string, categories []string, series []opsSeries) (opsChart, error) {
	c := opsChart{ID: id, Title: title, Total: seriesTotal(series)}
	if c.Total == 0 || len(categories) == 0 {
		return c, nil
	}
	data, names := seriesData(series)
	opt := charts.NewLineChartOptionWithData(data)
	opt.XAxis.Labels = categories
	opt.Legend.SeriesNames = names
	opt.Legend.Offset = charts.OffsetRight
	p := newPainter(opsChartHeight)
	if err := p.LineChart(opt); err != nil {
		return c, fmt.Errorf("draw chart %s: %w", id, err)
	}
	var err error
	c.SVG, err = svg(p)
	return c, err
}
