package templates

import (
	htmltemplate "html/template"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"
)

// The charts are drawn on the server as inline SVG, so that a page needs no
// chart script (the pages have none, and their Content-Security-Policy
// allows none). The SVG is built only from numbers the renderer computes
// and labels it escapes; each chart is an image with a title and a
// description for assistive technology, and the page shows the same
// numbers in a table beside it.

// ChartSeries is one series of a chart: its label and one value per
// category.
type ChartSeries struct {
	Label  string
	Values []int
}

// chartColors are the colours of the series, in order; each reaches 3:1
// against white (WCAG 2.1 SC 1.4.11) and they differ in lightness too.
var chartColors = []string{
	"#0b5394", "#b45f06", "#38761d", "#990000", "#674ea7", "#0e7c86", "#7f6000", "#a61c72",
}

// Chart geometry, in SVG user units.
const (
	chartWidth   = 640.0
	chartPlotH   = 220.0
	chartLeft    = 44.0
	chartRight   = 12.0
	chartTop     = 12.0
	chartAxisH   = 28.0
	legendRowH   = 20.0
	legendColW   = 210.0
	hbarRowH     = 40.0
	hbarLabelH   = 16.0
	hbarBarH     = 16.0
	chartFont    = "font-family:system-ui,sans-serif;font-size:12px"
	chartTextCol = "#1b1f24"
	chartGridCol = "#c8ccd0"
)

// StackedBarChart draws one vertical bar per category (a month, say),
// stacked from the series (the request types), with a value axis, the
// category labels under the bars and a legend. id names the chart's
// elements (only letters, digits and hyphens are kept); title and desc
// become the SVG's <title> and <desc> and its accessible name.
func StackedBarChart(id, title, desc string, categories []string, series []ChartSeries) htmltemplate.HTML {
	id = chartID(id)
	totals := make([]int, len(categories))
	for _, s := range series {
		for i := range categories {
			totals[i] += seriesValue(s, i)
		}
	}
	top, step := niceScale(maxInt(totals))
	legendRows := int(math.Ceil(float64(len(series)) / math.Floor((chartWidth-chartLeft)/legendColW)))
	height := chartTop + chartPlotH + chartAxisH + float64(legendRows)*legendRowH + 8
	plotW := chartWidth - chartLeft - chartRight

	var b strings.Builder
	chartOpen(&b, id, title, desc, height)
	// The value axis: grid lines and their numbers.
	b.WriteString(`<g class="axis" fill="` + chartTextCol + `" text-anchor="end">`)
	for v := 0; v <= top; v += step {
		y := chartTop + chartPlotH - float64(v)/float64(top)*chartPlotH
		b.WriteString(`<line x1="` + chartNum(chartLeft) + `" x2="` + chartNum(chartWidth-chartRight) + `" y1="` + chartNum(y) + `" y2="` + chartNum(y) + `" stroke="` + chartGridCol + `" stroke-width="1"/>`)
		b.WriteString(`<text x="` + chartNum(chartLeft-6) + `" y="` + chartNum(y+4) + `">` + strconv.Itoa(v) + `</text>`)
	}
	b.WriteString(`</g>`)
	// The bars.
	n := max(len(categories), 1)
	slot := plotW / float64(n)
	barW := math.Max(slot*0.7, 1)
	// Label every category whose label fits beside its neighbours' (about
	// 7 px a character at the chart's font size, with a gap), so that
	// labels never overlap.
	longest := 0
	for _, c := range categories {
		longest = max(longest, utf8.RuneCountInString(c))
	}
	labelEvery := max(1, int(math.Ceil((float64(longest)*7+10)/slot)))
	for i, cat := range categories {
		x := chartLeft + float64(i)*slot + (slot-barW)/2
		y := chartTop + chartPlotH
		b.WriteString(`<g>`)
		for si, s := range series {
			v := seriesValue(s, i)
			if v <= 0 {
				continue
			}
			h := float64(v) / float64(top) * chartPlotH
			y -= h
			b.WriteString(`<rect x="` + chartNum(x) + `" y="` + chartNum(y) + `" width="` + chartNum(barW) + `" height="` + chartNum(h) + `" fill="` + chartColor(si) + `">`)
			b.WriteString(`<title>` + chartLabel(cat) + `, ` + chartLabel(s.Label) + `: ` + strconv.Itoa(v) + `</title></rect>`)
		}
		if labelEvery <= 1 || i%labelEvery == 0 {
			b.WriteString(`<text x="` + chartNum(x+barW/2) + `" y="` + chartNum(chartTop+chartPlotH+18) + `" text-anchor="middle" fill="` + chartTextCol + `">` + chartLabel(cat) + `</text>`)
		}
		b.WriteString(`</g>`)
	}
	b.WriteString(`<line x1="` + chartNum(chartLeft) + `" x2="` + chartNum(chartWidth-chartRight) + `" y1="` + chartNum(chartTop+chartPlotH) + `" y2="` + chartNum(chartTop+chartPlotH) + `" stroke="` + chartTextCol + `" stroke-width="1"/>`)
	chartLegend(&b, series, chartTop+chartPlotH+chartAxisH)
	b.WriteString(`</svg>`)
	return htmltemplate.HTML(b.String()) //nolint:gosec // numbers and escaped labels only
}

// HorizontalBarChart draws one horizontal bar per label (a refusal ground,
// say), stacked from the series (whole and partial refusals), with the
// label above its bar and the total after it, and a legend.
func HorizontalBarChart(id, title, desc string, labels []string, series []ChartSeries) htmltemplate.HTML {
	id = chartID(id)
	totals := make([]int, len(labels))
	for _, s := range series {
		for i := range labels {
			totals[i] += seriesValue(s, i)
		}
	}
	top, _ := niceScale(maxInt(totals))
	left, plotW := 8.0, chartWidth-8-48
	legendRows := int(math.Ceil(float64(len(series)) / math.Floor((chartWidth-chartLeft)/legendColW)))
	rowsH := float64(max(len(labels), 1)) * hbarRowH
	height := chartTop + rowsH + float64(legendRows)*legendRowH + 8

	var b strings.Builder
	chartOpen(&b, id, title, desc, height)
	for i, l := range labels {
		y := chartTop + float64(i)*hbarRowH
		b.WriteString(`<g>`)
		b.WriteString(`<text x="` + chartNum(left) + `" y="` + chartNum(y+12) + `" fill="` + chartTextCol + `">` + chartLabel(l) + `</text>`)
		x := left
		for si, s := range series {
			v := seriesValue(s, i)
			if v <= 0 {
				continue
			}
			w := float64(v) / float64(top) * plotW
			b.WriteString(`<rect x="` + chartNum(x) + `" y="` + chartNum(y+hbarLabelH+2) + `" width="` + chartNum(w) + `" height="` + chartNum(hbarBarH) + `" fill="` + chartColor(si) + `">`)
			b.WriteString(`<title>` + chartLabel(l) + `, ` + chartLabel(s.Label) + `: ` + strconv.Itoa(v) + `</title></rect>`)
			x += w
		}
		b.WriteString(`<text x="` + chartNum(x+6) + `" y="` + chartNum(y+hbarLabelH+14) + `" fill="` + chartTextCol + `">` + strconv.Itoa(totals[i]) + `</text>`)
		b.WriteString(`</g>`)
	}
	chartLegend(&b, series, chartTop+rowsH)
	b.WriteString(`</svg>`)
	return htmltemplate.HTML(b.String()) //nolint:gosec // numbers and escaped labels only
}

// open writes the <svg> start tag with its accessible name, title and
// description.
func chartOpen(b *strings.Builder, id, title, desc string, height float64) {
	b.WriteString(`<svg xmlns="http://www.w3.org/2000/svg" class="chart" id="` + id + `" role="img" aria-label="` + chartLabel(title) +
		`" aria-describedby="` + id + `-desc" viewBox="0 0 ` + chartNum(chartWidth) + ` ` + chartNum(height) + `" width="100%" style="max-width:` +
		chartNum(chartWidth) + `px;` + chartFont + `">`)
	b.WriteString(`<title id="` + id + `-title">` + chartLabel(title) + `</title>`)
	b.WriteString(`<desc id="` + id + `-desc">` + chartLabel(desc) + `</desc>`)
}

// legend writes the series' colours and labels from y down, in columns.
func chartLegend(b *strings.Builder, series []ChartSeries, y float64) {
	perRow := int(math.Floor((chartWidth - chartLeft) / legendColW))
	b.WriteString(`<g class="legend" fill="` + chartTextCol + `">`)
	for i, s := range series {
		x := chartLeft + float64(i%perRow)*legendColW
		yy := y + float64(i/perRow)*legendRowH
		b.WriteString(`<rect x="` + chartNum(x) + `" y="` + chartNum(yy+2) + `" width="12" height="12" fill="` + chartColor(i) + `"/>`)
		b.WriteString(`<text x="` + chartNum(x+18) + `" y="` + chartNum(yy+12) + `">` + chartLabel(s.Label) + `</text>`)
	}
	b.WriteString(`</g>`)
}

// niceScale returns the top of the value axis, at least max and at least
// 1, and the step of its grid lines: 1, 2 or 5 times a power of ten, about
// five steps.
func niceScale(maxValue int) (top, step int) {
	if maxValue <= 0 {
		return 1, 1
	}
	raw := float64(maxValue) / 5
	pow := math.Pow(10, math.Floor(math.Log10(raw)))
	step = 1
	for _, m := range []float64{1, 2, 5, 10} {
		if s := m * pow; s >= raw {
			step = max(int(s), 1)
			break
		}
	}
	top = (maxValue + step - 1) / step * step
	return top, step
}

func seriesValue(s ChartSeries, i int) int {
	if i < len(s.Values) {
		return s.Values[i]
	}
	return 0
}

func maxInt(v []int) int {
	m := 0
	for _, x := range v {
		m = max(m, x)
	}
	return m
}

func chartColor(i int) string { return chartColors[i%len(chartColors)] }

// num writes a coordinate with one decimal.
func chartNum(f float64) string {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		f = 0
	}
	return strconv.FormatFloat(f, 'f', 1, 64)
}

// label escapes a text for SVG inside HTML (and for XML): the characters
// that mean something are escaped, and control characters, which XML does
// not allow, are dropped.
func chartLabel(s string) string {
	s = strings.Map(func(r rune) rune {
		if (r < 0x20 && r != '\t' && r != '\n' && r != '\r') || r == 0xFFFE || r == 0xFFFF {
			return -1
		}
		return r
	}, s)
	return htmltemplate.HTMLEscapeString(s)
}

// chartID keeps the letters, digits and hyphens of id ("chart" when none).
func chartID(id string) string {
	id = strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' {
			return r
		}
		return -1
	}, id)
	if id == "" || id[0] < 'A' {
		id = "chart-" + id
	}
	return strings.TrimSuffix(id, "-")
}
