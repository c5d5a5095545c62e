package templates

import (
	"embed"
	"fmt"
	htmltemplate "html/template"
	"io"
	"sync"

	"github.com/dsar-project/dsar"
)

//go:embed report
var reportFiles embed.FS

// The parts of the access report page (templates/report/report.html). The
// page is written part by part, so that the subject's data streams through
// it row by row and is never held whole: the head (every part of the
// answer but the data), then for each system its heading, and for each of
// its categories the table's start, its rows and its end, then the tail.
const (
	ReportHead       = "head"        // data: *dsar.AccessReport
	ReportSystem     = "system"      // data: ReportSystemView
	ReportTableStart = "table_start" // data: ReportTable
	ReportRow        = "row"         // data: []string, the cells of one record
	ReportTableEnd   = "table_end"   // data: ReportTable
	ReportTail       = "tail"        // data: *dsar.AccessReport
)

// ReportSystemView is the heading of one system's data in the report.
type ReportSystemView struct {
	System dsar.ReportSystem
	// Empty says the system gave no records.
	Empty bool
}

// ReportTable is one table of the report's data: the records of one
// category of one system, with its columns (the union of the records'
// top-level keys) and the number of records.
type ReportTable struct {
	ID       string // unique on the page, for the table's anchor and its caption
	Category string // the category's name, "" when the system did not say
	Columns  []string
	Records  int
}

var (
	reportOnce sync.Once
	reportSet  map[dsar.Language]*htmltemplate.Template
	reportErr  error
)

// RenderReportPart writes one part of the access report page in lang to w.
// Parts are written straight to w (the page streams); an error leaves the
// page unfinished, which its missing tail shows.
func RenderReportPart(w io.Writer, lang dsar.Language, part string, data any) error {
	reportOnce.Do(func() { reportSet, reportErr = parseReport() })
	if reportErr != nil {
		return reportErr
	}
	t, ok := reportSet[lang]
	if !ok {
		return fmt.Errorf("templates: report: unsupported language %q", lang)
	}
	if err := t.ExecuteTemplate(w, part, data); err != nil {
		return fmt.Errorf("templates: report part %s: %w", part, err)
	}
	return nil
}

// parseReport parses the report template once per language, with the
// functions of the pages bound to the language.
func parseReport() (map[dsar.Language]*htmltemplate.Template, error) {
	out := make(map[dsar.Language]*htmltemplate.Template, len(dsar.Languages))
	for _, lang := range dsar.Languages {
		t, err := htmltemplate.New("report").Funcs(pageFuncs(lang)).ParseFS(reportFiles, "report/report.html")
		if err != nil {
			return nil, fmt.Errorf("templates: parse report: %w", err)
		}
		out[lang] = t
	}
	return out, nil
}
