package templates

import (
	htmltemplate "html/template"
	"strconv"
	"strings"

	"github.com/dsar-project/dsar"
)

// DashboardPage is the officers' dashboard: the filter form (controller and
// period, as the officer typed them) and the figures, or the message of a
// bad filter.
type DashboardPage struct {
	Page
	// Controllers are those the officer may choose; Controller the one
	// chosen ("" for all of them).
	Controllers []string
	Controller  string
	// From and To are the period's dates as typed (YYYY-MM-DD).
	From, To string
	// JSON is the link to the same figures as JSON.
	JSON string
	// Error is the message of a bad filter, already in the page's language.
	Error string
	// Figures are the dashboard's figures; nil with an Error.
	Figures *dsar.Dashboard
}

// MonthTypes returns the request types received in the period, in the
// order of dsar.RequestTypes: the columns of the table by month.
func (p DashboardPage) MonthTypes() []dsar.RequestType {
	var out []dsar.RequestType
	if p.Figures == nil {
		return out
	}
	for _, t := range dsar.RequestTypes {
		if p.Figures.Received[t] > 0 {
			out = append(out, t)
		}
	}
	return out
}

// MonthChart draws the requests received per month, stacked by type.
func (p DashboardPage) MonthChart() (htmltemplate.HTML, error) {
	if p.Figures == nil {
		return "", nil
	}
	months := make([]string, len(p.Figures.Months))
	for i, m := range p.Figures.Months {
		months[i] = m.Month
	}
	var series []ChartSeries
	for _, t := range p.MonthTypes() {
		name, err := strictT(p.Lang, "type."+string(t))
		if err != nil {
			return "", err
		}
		s := ChartSeries{Label: name, Values: make([]int, len(months))}
		for i, m := range p.Figures.Months {
			s.Values[i] = m.ByType[t]
		}
		series = append(series, s)
	}
	title, err := strictT(p.Lang, "page.dashboard.received.title")
	if err != nil {
		return "", err
	}
	desc, err := strictT(p.Lang, "page.dashboard.received.chart", "n", p.Figures.ReceivedTotal, "from", p.Figures.From.String(), "to", p.Figures.To.String())
	if err != nil {
		return "", err
	}
	return StackedBarChart("chart-received", title, desc, months, series), nil
}

// RefusalChart draws the refusals of the period by ground, whole and partial.
func (p DashboardPage) RefusalChart() (htmltemplate.HTML, error) {
	if p.Figures == nil {
		return "", nil
	}
	whole, err := strictT(p.Lang, "page.dashboard.refusals.whole")
	if err != nil {
		return "", err
	}
	partial, err := strictT(p.Lang, "page.dashboard.refusals.partial")
	if err != nil {
		return "", err
	}
	var labels []string
	w, pt := ChartSeries{Label: whole}, ChartSeries{Label: partial}
	total := 0
	for _, r := range p.Figures.Refusals {
		labels = append(labels, p.GroundName(r.Ground))
		w.Values, pt.Values = append(w.Values, r.Whole), append(pt.Values, r.Partial)
		total += r.Whole + r.Partial
	}
	title, err := strictT(p.Lang, "page.dashboard.refusals.title")
	if err != nil {
		return "", err
	}
	desc, err := strictT(p.Lang, "page.dashboard.refusals.chart", "n", total)
	if err != nil {
		return "", err
	}
	return HorizontalBarChart("chart-refusals", title, desc, labels, []ChartSeries{w, pt}), nil
}

// GroundName is the name of a refusal ground, or the ground itself when the
// catalog has none (a ground no longer offered).
func (p DashboardPage) GroundName(g dsar.Ground) string {
	if msg, ok := catalogs[p.Lang]["ground."+string(g)]; ok {
		return msg
	}
	return string(g)
}

// Percent writes a share (0 to 1) as a whole percentage in the page's
// language ("40 %" in Norwegian, "40%" in English).
func (p DashboardPage) Percent(share float64) string {
	n := strconv.FormatFloat(share*100, 'f', 0, 64)
	if p.Lang == dsar.LanguageNB {
		return n + "\u00a0%"
	}
	return n + "%"
}

// Days writes a number of days with one decimal in the page's language.
func (p DashboardPage) Days(d float64) string {
	s := strconv.FormatFloat(d, 'f', 1, 64)
	if p.Lang == dsar.LanguageNB {
		s = strings.Replace(s, ".", ",", 1)
	}
	return s
}
