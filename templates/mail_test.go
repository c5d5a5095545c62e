package templates

import (
	"flag"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/dsar-project/dsar"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/golden")

// mailParts are the files every mail has in every language.
var mailParts = []string{"subject.txt", "body.txt", "body.html"}

func TestMailTemplatesComplete(t *testing.T) {
	names := MailNames()
	if len(names) == 0 {
		t.Fatal("no mail templates")
	}
	for _, name := range names {
		for _, lang := range dsar.Languages {
			for _, part := range mailParts {
				p := "mail/" + name + "/" + string(lang) + "/" + part
				b, err := fs.ReadFile(mailFiles, p)
				if err != nil {
					t.Errorf("%s: %v", p, err)
					continue
				}
				if strings.TrimSpace(string(b)) == "" {
					t.Errorf("%s is empty", p)
				}
			}
			if mailTemplates[name][lang] == nil {
				t.Errorf("%s/%s not loaded", name, lang)
			}
		}
	}
	for _, want := range []string{"acknowledgement", "reminder"} {
		if !slices.Contains(names, want) {
			t.Errorf("mail template %q missing; have %v", want, names)
		}
	}
}

// goldenCase is one rendering of a mail, checked in every language.
type goldenCase struct {
	name string
	data MailData
}

// goldenCases holds the renderings of each mail template. Every template
// must have at least one, so a new template cannot go untested.
var goldenCases = map[string][]goldenCase{
	"acknowledgement": {
		{"gdpr", MailData{
			ControllerName: "Fjordkraft Eksempel AS",
			ContactEmail:   "personvern@eksempel.no",
			Reference:      "DSAR-2025-0042",
			Type:           dsar.TypeAccess,
			Regulation:     dsar.RegulationGDPR,
			ReceivedDate:   "2025-03-03",
			DueDate:        "2025-04-03",
			SubjectName:    "Åse Ødegård",
			StatusURL:      "https://dsar.eksempel.no/s/4f8a2c?lang=nb&x=1",
		}},
		{"ccpa", MailData{
			ControllerName: "Example Inc.",
			ContactEmail:   "privacy@example.com",
			Reference:      "DSAR-2025-0043",
			Type:           dsar.TypeErasure,
			Regulation:     dsar.RegulationCCPA,
			ReceivedDate:   "2025-01-31",
			DueDate:        "2025-03-17",
			AcknowledgeBy:  "2025-02-14",
		}},
		{"automated_decision", MailData{
			ControllerName: "Fjordkraft Eksempel AS",
			ContactEmail:   "personvern@eksempel.no",
			Reference:      "DSAR-2025-0044",
			Type:           dsar.TypeAutomatedDecision,
			Regulation:     dsar.RegulationGDPR,
			ReceivedDate:   "2025-12-31",
			DueDate:        "2026-01-31",
			SubjectName:    "Ola",
		}},
	},
	"reminder": {
		{"7d", MailData{
			ControllerName: "Fjordkraft Eksempel AS",
			ContactEmail:   "personvern@eksempel.no",
			Reference:      "DSAR-2025-0042",
			Type:           dsar.TypeAccess,
			Regulation:     dsar.RegulationGDPR,
			ReceivedDate:   "2025-03-03",
			DueDate:        "2025-04-03",
			Reminder:       Reminder7Days,
			DaysLeft:       7,
			StatusURL:      "https://dsar.eksempel.no/officer/requests/01J0000000000000000000",
		}},
		{"2d", MailData{
			ControllerName: "Example Inc.",
			ContactEmail:   "privacy@example.com",
			Reference:      "DSAR-2025-0043",
			Type:           dsar.TypePortability,
			Regulation:     dsar.RegulationCCPA,
			ReceivedDate:   "2025-01-31",
			DueDate:        "2025-03-17",
			Reminder:       Reminder2Days,
			DaysLeft:       2,
		}},
		{"overdue", MailData{
			ControllerName: "Fjordkraft Eksempel AS",
			ContactEmail:   "personvern@eksempel.no",
			Reference:      "DSAR-2025-0040",
			Type:           dsar.TypeRectification,
			Regulation:     dsar.RegulationGDPR,
			ReceivedDate:   "2025-02-01",
			DueDate:        "2025-03-03",
			Reminder:       ReminderOverdue,
			DaysLeft:       -1,
			StatusURL:      "https://dsar.eksempel.no/officer/requests/01J0000000000000000001",
		}},
	},
}

func TestRenderMailGolden(t *testing.T) {
	for _, name := range MailNames() {
		cases := goldenCases[name]
		if len(cases) == 0 {
			t.Errorf("mail template %q has no golden cases", name)
		}
		for _, gc := range cases {
			for _, lang := range dsar.Languages {
				t.Run(name+"/"+gc.name+"/"+string(lang), func(t *testing.T) {
					data := gc.data
					data.Language = lang
					m, err := RenderMail(name, data)
					if err != nil {
						t.Fatal(err)
					}
					checkRendered(t, m)
					dir := filepath.Join("testdata", "golden", name, gc.name, string(lang))
					checkGolden(t, filepath.Join(dir, "subject.txt"), m.Subject+"\n")
					checkGolden(t, filepath.Join(dir, "body.txt"), m.Text)
					checkGolden(t, filepath.Join(dir, "body.html"), m.HTML)
				})
			}
		}
	}
}

// checkRendered looks for the usual signs of a broken template.
func checkRendered(t *testing.T, m *Mail) {
	t.Helper()
	if m.Subject == "" || strings.ContainsAny(m.Subject, "\r\n") {
		t.Errorf("bad subject %q", m.Subject)
	}
	for part, s := range map[string]string{"subject": m.Subject, "text": m.Text, "html": m.HTML} {
		for _, bad := range []string{"<no value>", "{{", "}}", "%!", "mail.request.", "unit.days.", "ZgotmplZ"} {
			if strings.Contains(s, bad) {
				t.Errorf("%s contains %q", part, bad)
			}
		}
	}
	if !strings.HasSuffix(m.Text, "\n") || strings.HasSuffix(m.Text, "\n\n") {
		t.Errorf("text should end with exactly one newline")
	}
	if strings.Contains(m.Text, "\n\n\n") {
		t.Errorf("text has more than one blank line in a row:\n%s", m.Text)
	}
	if !strings.HasPrefix(m.HTML, "<!DOCTYPE html>") {
		t.Errorf("html does not start with a doctype")
	}
	for _, ext := range []string{"<script", "<link", "<img", "src=", "@import", "url("} {
		if strings.Contains(m.HTML, ext) {
			t.Errorf("html refers to an external resource or script: %q", ext)
		}
	}
}

func checkGolden(t *testing.T, path, got string) {
	t.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./templates -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("%s differs (-want +got); run go test ./templates -update if the change is intended:\n%s", path, diff)
	}
}

func TestRenderMailEscapesHTML(t *testing.T) {
	const hostile = `<script>alert(1)</script>`
	for _, lang := range dsar.Languages {
		for _, name := range MailNames() {
			data := goldenCases[name][0].data
			data.Language = lang
			data.SubjectName = hostile
			data.ControllerName = hostile + ` & "Co"`
			data.Reference = `R-1"><img src=x onerror=alert(1)>`
			data.StatusURL = `javascript:alert(1)`
			m, err := RenderMail(name, data)
			if err != nil {
				t.Fatalf("%s/%s: %v", name, lang, err)
			}
			for _, bad := range []string{"<script", "<img", "javascript:"} {
				if strings.Contains(m.HTML, bad) {
					t.Errorf("%s/%s: html contains %q unescaped", name, lang, bad)
				}
			}
			if name == "acknowledgement" && !strings.Contains(m.HTML, "&lt;script&gt;alert(1)&lt;/script&gt;") {
				t.Errorf("%s/%s: escaped name not found in html", name, lang)
			}
			if !strings.Contains(m.HTML, "&amp; &#34;Co&#34;") {
				t.Errorf("%s/%s: escaped controller name not found in html", name, lang)
			}
			// The plain-text part shows the name as written; it is not markup.
			if name == "acknowledgement" && !strings.Contains(m.Text, hostile) {
				t.Errorf("%s/%s: text part should carry the name verbatim", name, lang)
			}
		}
	}
}

func TestRenderMailSubjectIsOneLine(t *testing.T) {
	data := goldenCases["acknowledgement"][0].data
	data.Language = dsar.LanguageEN
	data.Reference = "R-1\r\nBcc: victim@example.com"
	m, err := RenderMail("acknowledgement", data)
	if err != nil {
		t.Fatal(err)
	}
	if strings.ContainsAny(m.Subject, "\r\n") {
		t.Errorf("subject has a line break: %q", m.Subject)
	}
}

func TestRenderMailErrors(t *testing.T) {
	good := goldenCases["reminder"][0].data
	good.Language = dsar.LanguageNB
	if _, err := RenderMail("reminder", good); err != nil {
		t.Fatalf("good data: %v", err)
	}
	tests := []struct {
		name   string
		mail   string
		modify func(*MailData)
	}{
		{"unknown template", "no-such-mail", func(*MailData) {}},
		{"unknown language", "reminder", func(d *MailData) { d.Language = "de" }},
		{"empty language", "reminder", func(d *MailData) { d.Language = "" }},
		{"unknown reminder kind", "reminder", func(d *MailData) { d.Reminder = "1d" }},
		{"empty reminder kind", "reminder", func(d *MailData) { d.Reminder = "" }},
		{"unknown type", "acknowledgement", func(d *MailData) { d.Type = "complaint" }},
		{"unknown regulation", "acknowledgement", func(d *MailData) { d.Regulation = "" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := good
			tt.modify(&data)
			m, err := RenderMail(tt.mail, data)
			if err == nil {
				t.Fatalf("RenderMail succeeded: %+v", m)
			}
		})
	}
}

func TestLongDate(t *testing.T) {
	tests := []struct {
		lang dsar.Language
		in   string
		want string
	}{
		{dsar.LanguageEN, "2025-04-03", "3 April 2025"},
		{dsar.LanguageNB, "2025-04-03", "3. april 2025"},
		{dsar.LanguageNB, "2025-05-17", "17. mai 2025"},
		{dsar.LanguageEN, "not a date", "not a date"},
		{dsar.LanguageNB, "", ""},
	}
	for _, tt := range tests {
		if got := longDate(tt.lang, tt.in); got != tt.want {
			t.Errorf("longDate(%s, %q) = %q, want %q", tt.lang, tt.in, got, tt.want)
		}
	}
}

func TestDaysPlural(t *testing.T) {
	for _, tt := range []struct {
		lang dsar.Language
		n    int
		want string
	}{
		{dsar.LanguageEN, 1, "1 day"},
		{dsar.LanguageEN, 2, "2 days"},
		{dsar.LanguageEN, 0, "0 days"},
		{dsar.LanguageNB, 1, "1 dag"},
		{dsar.LanguageNB, 7, "7 dager"},
	} {
		got, err := templateFuncs(tt.lang)["days"].(func(int) (string, error))(tt.n)
		if err != nil || got != tt.want {
			t.Errorf("days(%s, %d) = %q, %v; want %q", tt.lang, tt.n, got, err, tt.want)
		}
	}
}
