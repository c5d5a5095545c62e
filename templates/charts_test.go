package templates

import (
	"encoding/xml"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// svgNode is an element of a parsed chart.
type svgNode struct {
	name  string
	attrs map[string]string
	text  string
}

// parseSVG checks that the chart is well-formed XML in the SVG namespace
// and returns its elements in document order.
func parseSVG(t *testing.T, svg string) []*svgNode {
	t.Helper()
	d := xml.NewDecoder(strings.NewReader(svg))
	var (
		out   []*svgNode
		stack []*svgNode
	)
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("the chart is not well-formed XML: %v\n%s", err, svg)
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			if tok.Name.Space != "http://www.w3.org/2000/svg" {
				t.Errorf("<%s> is not in the SVG namespace", tok.Name.Local)
			}
			n := &svgNode{name: tok.Name.Local, attrs: map[string]string{}}
			for _, a := range tok.Attr {
				n.attrs[a.Name.Local] = a.Value
			}
			out = append(out, n)
			stack = append(stack, n)
		case xml.EndElement:
			stack = stack[:len(stack)-1]
		case xml.CharData:
			if len(stack) > 0 {
				stack[len(stack)-1].text += string(tok)
			}
		}
	}
	if len(out) == 0 || out[0].name != "svg" {
		t.Fatal("the chart is not an <svg>")
	}
	return out
}

func elements(nodes []*svgNode, name string) []*svgNode {
	var out []*svgNode
	for _, n := range nodes {
		if n.name == name {
			out = append(out, n)
		}
	}
	return out
}

// checkAccessible checks the chart's accessible name and description.
func checkAccessible(t *testing.T, nodes []*svgNode, id, title, desc string) {
	t.Helper()
	svg := nodes[0]
	if svg.attrs["role"] != "img" || svg.attrs["aria-label"] != title || svg.attrs["id"] != id || svg.attrs["aria-describedby"] != id+"-desc" {
		t.Errorf("svg attributes %v", svg.attrs)
	}
	if nodes[1].name != "title" || nodes[1].text != title || nodes[2].name != "desc" || nodes[2].text != desc || nodes[2].attrs["id"] != id+"-desc" {
		t.Errorf("the chart does not start with its <title> and <desc>")
	}
}

func TestStackedBarChart(t *testing.T) {
	svg := string(StackedBarChart("chart-months", "By month", "Requests by month.", []string{"2025-01", "2025-02", "2025-03"}, []ChartSeries{
		{Label: "Access", Values: []int{1, 3, 0}},
		{Label: "Erasure", Values: []int{0, 2}}, // short: the rest is 0
	}))
	nodes := parseSVG(t, svg)
	checkAccessible(t, nodes, "chart-months", "By month", "Requests by month.")
	// Three bar segments (the zeros draw none) and two legend keys.
	var bars []*svgNode
	for _, r := range elements(nodes, "rect") {
		if r.attrs["width"] != "12" {
			bars = append(bars, r)
		}
	}
	if len(bars) != 3 {
		t.Fatalf("%d bar segments, want 3", len(bars))
	}
	// The tallest bar (5 in February) reaches the top of the axis (5).
	height := func(r *svgNode) float64 { f, _ := strconv.ParseFloat(r.attrs["height"], 64); return f }
	if h := height(bars[1]) + height(bars[2]); h != chartPlotH {
		t.Errorf("February's bar is %v high, want %v", h, chartPlotH)
	}
	if height(bars[1]) != 3*height(bars[0]) {
		t.Errorf("3 is not drawn three times as high as 1: %v, %v", height(bars[1]), height(bars[0]))
	}
	var texts []string
	for _, n := range elements(nodes, "text") {
		texts = append(texts, n.text)
	}
	all := strings.Join(texts, "|")
	for _, want := range []string{"2025-01", "2025-03", "Access", "Erasure", "0", "5"} {
		if !strings.Contains(all, want) {
			t.Errorf("the chart does not show %q: %s", want, all)
		}
	}
	if tip := elements(nodes, "title")[2].text; tip != "2025-02, Access: 3" {
		t.Errorf("tooltip %q", tip)
	}
}

func TestHorizontalBarChart(t *testing.T) {
	svg := string(HorizontalBarChart("chart-refusals", "Refusals", "By ground.", []string{"Art 12(5)", "Art 17(3)(b)"}, []ChartSeries{
		{Label: "Whole", Values: []int{4, 0}},
		{Label: "Partial", Values: []int{1, 2}},
	}))
	nodes := parseSVG(t, svg)
	checkAccessible(t, nodes, "chart-refusals", "Refusals", "By ground.")
	var widths []float64
	for _, r := range elements(nodes, "rect") {
		if r.attrs["height"] == "16.0" {
			w, _ := strconv.ParseFloat(r.attrs["width"], 64)
			widths = append(widths, w)
		}
	}
	if len(widths) != 3 || widths[0] != 4*widths[1] || widths[2] != 2*widths[1] {
		t.Errorf("bar widths %v, want 4:1 and 2", widths)
	}
	var texts []string
	for _, n := range elements(nodes, "text") {
		texts = append(texts, n.text)
	}
	if got := strings.Join(texts, "|"); got != "Art 12(5)|5|Art 17(3)(b)|2|Whole|Partial" {
		t.Errorf("texts %s", got)
	}
}

// Labels are escaped: a hostile label stays text, in HTML and in XML, and
// control characters, which XML forbids, are dropped.
func TestChartsEscapeLabels(t *testing.T) {
	bad := hostile + "\x00\x1b"
	for name, svg := range map[string]string{
		"stacked":    string(StackedBarChart(`x" onload="alert(1)`, bad, bad, []string{bad}, []ChartSeries{{Label: bad, Values: []int{1}}})),
		"horizontal": string(HorizontalBarChart(`x" onload="alert(1)`, bad, bad, []string{bad}, []ChartSeries{{Label: bad, Values: []int{1}}})),
	} {
		if strings.Contains(svg, "<script") || strings.Contains(svg, "<img") || strings.Contains(svg, `"><`+"img") || strings.Contains(svg, "\x00") {
			t.Errorf("%s: a hostile label reached the SVG unescaped", name)
		}
		nodes := parseSVG(t, svg)
		if nodes[0].attrs["id"] != "xonloadalert1" {
			t.Errorf("%s: id %q", name, nodes[0].attrs["id"])
		}
		for _, n := range nodes {
			for k := range n.attrs {
				if strings.HasPrefix(k, "on") {
					t.Errorf("%s: <%s> has an attribute %s", name, n.name, k)
				}
			}
		}
		if nodes[0].attrs["aria-label"] != hostile || nodes[1].text != hostile {
			t.Errorf("%s: the label does not read as written: %q", name, nodes[1].text)
		}
	}
}

// No data draws an empty chart that is still well-formed and accessible.
func TestChartsWithoutData(t *testing.T) {
	for name, svg := range map[string]string{
		"stacked, nothing":    string(StackedBarChart("a", "T", "D", nil, nil)),
		"stacked, zeros":      string(StackedBarChart("a", "T", "D", []string{"2025-01", "2025-02"}, []ChartSeries{{Label: "Access", Values: []int{0, 0}}})),
		"horizontal, nothing": string(HorizontalBarChart("a", "T", "D", nil, nil)),
		"horizontal, zeros":   string(HorizontalBarChart("a", "T", "D", []string{"g"}, []ChartSeries{{Label: "Whole", Values: []int{0}}})),
	} {
		nodes := parseSVG(t, svg)
		checkAccessible(t, nodes, "a", "T", "D")
		for _, r := range elements(nodes, "rect") {
			if r.attrs["width"] != "12" { // only legend keys
				t.Errorf("%s: a bar is drawn: %v", name, r.attrs)
			}
		}
		if strings.Contains(svg, "NaN") || strings.Contains(svg, "Inf") {
			t.Errorf("%s: the chart has a NaN or Inf coordinate", name)
		}
	}
}

func TestNiceScale(t *testing.T) {
	for _, c := range []struct{ max, top, step int }{
		{0, 1, 1}, {1, 1, 1}, {5, 5, 1}, {6, 6, 2}, {7, 8, 2}, {10, 10, 2}, {11, 15, 5}, {23, 25, 5}, {99, 100, 20}, {1234, 1500, 500},
	} {
		if top, step := niceScale(c.max); top != c.top || step != c.step {
			t.Errorf("niceScale(%d) = %d, %d; want %d, %d", c.max, top, step, c.top, c.step)
		}
	}
}

// A year of months: the category labels under the bars never overlap (the
// dashboard drew twelve "2026-01" labels into one another), and the first
// month is always labelled.
func TestStackedBarChartLabelsDoNotOverlap(t *testing.T) {
	var months []string
	for m := 1; m <= 24; m++ {
		months = append(months, fmt.Sprintf("%d-%02d", 2025+(m-1)/12, (m-1)%12+1))
	}
	for _, n := range []int{3, 12, 24} {
		svg := string(StackedBarChart("c", "T", "D", months[:n], []ChartSeries{{Label: "Access", Values: make([]int, n)}}))
		re := regexp.MustCompile(`<text x="([0-9.]+)" y="[0-9.]+" text-anchor="middle"[^>]*>([0-9-]+)</text>`)
		labels := re.FindAllStringSubmatch(svg, -1)
		if len(labels) == 0 || labels[0][2] != months[0] {
			t.Fatalf("%d months: labels %v", n, labels)
		}
		for i := 1; i < len(labels); i++ {
			a, _ := strconv.ParseFloat(labels[i-1][1], 64)
			b, _ := strconv.ParseFloat(labels[i][1], 64)
			if b-a < float64(len(labels[i][2]))*7 {
				t.Errorf("%d months: %s at %.0f and %s at %.0f overlap", n, labels[i-1][2], a, labels[i][2], b)
			}
		}
	}
}
