package templates

import (
	"flag"
	htmltemplate "html/template"
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
	if diff := cmp.Diff(allMails, names); diff != "" {
		t.Errorf("MailNames() (-want +got):\n%s", diff)
	}
}

// allMails are the mails the service sends, sorted: all but officerMails go
// to the data subject.
var allMails = []string{
	"acknowledgement", "case_assigned", "clarification_request", "completion", "digest", "download_code", "expired_unverified", "extension",
	"fee_notice", "forwarded", "identity_request", "refusal", "reminder", "reopened", "reply_received", "subject_replied",
	"task_failed", "task_reminder", "transmission_alert", "transmission_failed", "transmitted", "vendor_instruction", "verification", "webhook_disabled", "withdrawal",
}

// Fixtures of the golden cases: a Norwegian controller under the GDPR and a
// Californian business under the CCPA.
var (
	datatilsynet = MailData{
		AuthorityName:    "Datatilsynet",
		AuthorityAddress: "Postboks 458 Sentrum, 0105 Oslo",
		AuthorityWebsite: "https://www.datatilsynet.no",
	}
	cppa = MailData{
		AuthorityName:    "California Privacy Protection Agency",
		AuthorityAddress: "2101 Arena Blvd., Sacramento, CA 95834",
	}
)

// gdprMail is a GDPR request to the Norwegian controller; ccpaMail one to the
// Californian business. with fills in what a mail adds.
func gdprMail(with func(*MailData)) MailData {
	d := MailData{
		ControllerName: "Fjordkraft Eksempel AS",
		ContactEmail:   "personvern@eksempel.no",
		Reference:      "DSAR-2025-0042",
		Type:           dsar.TypeAccess,
		Regulation:     dsar.RegulationGDPR,
		ReceivedDate:   "2025-03-03",
		DueDate:        "2025-04-03",
		SubjectName:    "Åse Ødegård",
		StatusURL:      "https://dsar.eksempel.no/s/4f8a2c?lang=nb&x=1",
	}
	with(&d)
	return d
}

func ccpaMail(with func(*MailData)) MailData {
	d := MailData{
		ControllerName: "Example Inc.",
		ContactEmail:   "privacy@example.com",
		Reference:      "DSAR-2025-0043",
		Type:           dsar.TypeErasure,
		Regulation:     dsar.RegulationCCPA,
		ReceivedDate:   "2025-01-31",
		DueDate:        "2025-03-17",
		AcknowledgeBy:  "2025-02-14",
		StatusURL:      "https://privacy.example.com/s/77d1",
	}
	with(&d)
	return d
}

// withAuthority copies the supervisory authority of a into d.
func withAuthority(d *MailData, a MailData) {
	d.AuthorityName, d.AuthorityAddress, d.AuthorityWebsite = a.AuthorityName, a.AuthorityAddress, a.AuthorityWebsite
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
			Reminder:       dsar.Reminder7Days,
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
			Reminder:       dsar.Reminder2Days,
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
			Reminder:       dsar.ReminderOverdue,
			DaysLeft:       -1,
			StatusURL:      "https://dsar.eksempel.no/officer/requests/01J0000000000000000001",
		}},
	},
	"verification": {
		{"first", gdprMail(func(d *MailData) {
			d.StatusURL = ""
			d.VerifyURL = "https://dsar.eksempel.no/verify/9c1e4b7a2f?lang=nb&t=1"
			d.Code = "482913"
			d.ExpiresHours = 24
		})},
		{"reminder_24h", gdprMail(func(d *MailData) {
			d.SubjectName = ""
			d.Type = dsar.TypeErasure
			d.VerifyURL = "https://dsar.eksempel.no/verify/0b7d33c1e8"
			d.Code = "059217"
			d.ExpiresHours = 24
			d.Reminder = dsar.VerifyReminder24h
		})},
		{"reminder_72h", ccpaMail(func(d *MailData) {
			d.VerifyURL = "https://privacy.example.com/verify/5e2a90"
			d.Code = "730046"
			d.ExpiresHours = 1
			d.Reminder = dsar.VerifyReminder72h
		})},
	},
	"extension": {
		{"gdpr", gdprMail(func(d *MailData) {
			d.OriginalDueDate = "2025-04-03"
			d.DueDate = "2025-06-03"
			d.Message = "Your data is held in eleven systems, three of them archived.\r\n\r\n\r\nWe also received an unusually high number of requests this month."
		})},
		{"ccpa", ccpaMail(func(d *MailData) {
			d.OriginalDueDate = "2025-03-17"
			d.DueDate = "2025-05-01"
			d.Message = "We must collect records from two service providers."
		})},
	},
	"clarification_request": {
		{"gdpr_paused", gdprMail(func(d *MailData) {
			d.ClockPaused = true
			d.Message = "You ask for \"everything\". Do you mean your customer account only, or also the recordings of your calls to customer service?\nIf you know roughly when you called, please tell us."
		})},
		{"ccpa_running", ccpaMail(func(d *MailData) {
			d.Message = "Which of your two accounts does the request concern?"
		})},
	},
	"identity_request": {
		{"gdpr_paused", gdprMail(func(d *MailData) {
			d.ClockPaused = true
			d.Message = "The last four digits of the customer number on one of your invoices, and the address the electricity is delivered to."
		})},
		{"ccpa_running", ccpaMail(func(d *MailData) {
			d.Message = "The date and amount of your most recent order."
		})},
	},
	"reply_received": {
		{"gdpr", gdprMail(func(d *MailData) { d.DueDate = "2025-04-10" })},
	},
	"completion": {
		{"erasure_systems", gdprMail(func(d *MailData) {
			withAuthority(d, datatilsynet)
			d.Type = dsar.TypeErasure
			d.Systems = []SystemData{{Name: "Nettbutikk", Status: dsar.TaskDone, Count: 1}, {Name: "CRM", Status: dsar.TaskDone, Count: 12},
				{Name: "Nyhetsbrev", Status: dsar.TaskNoData}, {Name: "Arkiv", Status: dsar.TaskSkipped, Reason: "The archive is read-only and erased every night."}}
			d.Told = []string{"Courier companies"}
			d.Untold = []UntoldData{{Name: "Readers of public product reviews", Why: "They are anonymous and cannot be found."}}
			d.Kept = []KeptData{{What: "Orders and payments (Nettbutikk)", Why: "Bokføringsloven § 13", Until: "2031-12-31"}}
		})},
		{"access", gdprMail(func(d *MailData) {
			withAuthority(d, datatilsynet)
			d.Summary = "We have assembled a copy of your personal data with the purposes, recipients and storage periods."
			d.DownloadUntil, d.MaxDownloads = "2025-03-14", 5
		})},
		{"portability_transmit", gdprMail(func(d *MailData) {
			withAuthority(d, datatilsynet)
			d.Type = dsar.TypePortability
			d.Summary = "We have assembled the data you gave us in a structured, machine-readable format."
			d.DownloadUntil, d.MaxDownloads = "2025-03-14", 5
			d.Transmission = &TransmissionData{Organisation: "Kraftbytte AS", State: dsar.TransmitPending}
		})},
		{"portability_not_feasible", gdprMail(func(d *MailData) {
			withAuthority(d, datatilsynet)
			d.Type = dsar.TypePortability
			d.Summary = "We have assembled the data you gave us in a structured, machine-readable format."
			d.DownloadUntil, d.MaxDownloads = "2025-03-14", 5
			d.Transmission = &TransmissionData{Organisation: "Strøm & Sånn AS", State: dsar.TransmitNotFeasible}
		})},
		{"erasure_kept", gdprMail(func(d *MailData) {
			withAuthority(d, datatilsynet)
			d.Type = dsar.TypeErasure
			d.Summary = "We have erased your customer account, your usage history and your marketing preferences in all our systems.\nWe have asked our two processors to do the same."
			d.Kept = []KeptData{
				{What: "Invoices and payment records", Why: "The Bookkeeping Act requires us to keep accounting records for five years (GDPR Article 17(3)(b)).", Until: "2030-12-31"},
				{What: "Your e-mail address on our suppression list", Why: "So that we never send you marketing again; kept as long as we send marketing e-mails."},
			}
		})},
		{"ccpa", ccpaMail(func(d *MailData) {
			withAuthority(d, cppa)
			d.Summary = "We have deleted your account and the data our service providers held about you."
		})},
		{"partial_gdpr", gdprMail(func(d *MailData) {
			withAuthority(d, datatilsynet)
			d.Type = dsar.TypeErasure
			d.Partial = true
			d.Ground = dsar.GroundLegalObligation
			d.Summary = "We have erased your customer profile and usage history."
			d.Granted = "Erasure of your customer profile and usage history."
			d.RefusedPart = "Erasure of your invoices from 2021 to 2024."
			d.Message = "The Bookkeeping Act requires us to keep invoices until 31 December 2029."
		})},
	},
	"download_code": {
		{"portability", gdprMail(func(d *MailData) {
			d.Type = dsar.TypePortability
			d.Code, d.ExpiresMinutes = "482913", 30
			d.DownloadUntil, d.MaxDownloads = "2025-03-14", 5
		})},
	},
	"reopened": {
		{"gdpr", gdprMail(func(d *MailData) {
			d.DueDate = "2025-04-07"
			d.Message = "You told us that your newsletter account was not erased. We are looking at it again."
		})},
	},
	"refusal": {
		{"whole_gdpr", gdprMail(func(d *MailData) {
			withAuthority(d, datatilsynet)
			d.Ground = dsar.GroundManifestlyUnfounded
			d.Message = "This is the ninth identical request this month; we answered the first one in full on 12 February 2025, and nothing has changed since."
		})},
		{"whole_ccpa", ccpaMail(func(d *MailData) {
			withAuthority(d, cppa)
			d.Ground = dsar.GroundIdentity
			d.Message = "The details you gave do not match any of our customer records."
		})},
	},
	"withdrawal": {
		{"gdpr", gdprMail(func(d *MailData) { d.Type = dsar.TypeRectification })},
	},
	"digest": {
		{"cases", MailData{ControllerName: "NTE", QueueURL: "https://dsar.eksempel.no/queue?mine=1", Cases: []DigestCase{
			{Reference: "7KQ2-M9XD", Controller: "nte", Type: dsar.TypeErasure, DueDate: "2025-03-03", DaysLeft: -2, URL: "https://dsar.eksempel.no/cases/1"},
			{Reference: "H3PA-22QX", Controller: "nte", Type: dsar.TypeAccess, DueDate: "2025-03-10", DaysLeft: 5, URL: "https://dsar.eksempel.no/cases/2"},
		}}},
	},
	"fee_notice": {
		{"gdpr", gdprMail(func(d *MailData) {
			d.FeeBasis = dsar.FeeFurtherCopy
			d.Message = "A further copy costs NOK 150. We will send it when you confirm."
		})},
		{"excessive", gdprMail(func(d *MailData) {
			d.FeeBasis = dsar.FeeExcessive
			d.Message = "This is your ninth identical request this month. Answering it costs NOK 300."
		})},
	},
	"forwarded": {
		{"gdpr", gdprMail(func(d *MailData) {
			d.Message = "Example Employer AS, personvern@employer.example (your employer decides about your work account)."
		})},
	},
	"expired_unverified": {
		{"gdpr", gdprMail(func(d *MailData) { d.StatusURL = ""; d.SubjectName = "" })},
	},
	"subject_replied": {
		{"answer", officerMail(func(d *MailData) {})},
		{"document", officerMail(func(d *MailData) { d.Document = true })},
	},
	"case_assigned": {
		{"gdpr", officerMail(func(d *MailData) {})},
	},
	"task_failed": {
		{"answer", officerMail(func(d *MailData) {
			d.Task = &TaskData{Name: "Kundeportal", Action: dsar.ActionErase, Reason: "The system did not answer after the last allowed attempt.",
				Answer: "HTTP 503: <html>Service Unavailable</html>"}
		})},
		{"manual", officerMail(func(d *MailData) {
			d.Task = &TaskData{Name: "Regnskap", Action: dsar.ActionExport, Reason: "It was not done within the time the data map allows."}
		})},
	},
	"webhook_disabled": {
		{"gone", officerMail(func(d *MailData) {
			d.Webhook = &WebhookData{ID: "0196a1c4-2b7e-7d3a-8f10-3c9b5e2d7a41", Endpoint: "https://crm.eksempel.no/hooks/dsar", Description: "CRM", Reason: "gone"}
		})},
		{"failing", officerMail(func(d *MailData) {
			d.Webhook = &WebhookData{ID: "0196a1c4-2b7e-7d3a-8f10-3c9b5e2d7a41", Endpoint: "https://lager.eksempel.no/dsar", Reason: "failing"}
		})},
	},
	"task_reminder": {
		{"due", officerMail(func(d *MailData) {
			d.Task = &TaskData{Name: "Regnskap", Action: dsar.ActionErase, DueDate: "2025-03-12"}
		})},
		{"undated", officerMail(func(d *MailData) { d.Task = &TaskData{Name: "Budfirma", Action: dsar.ActionNotifyRecipient} })},
	},
	"transmitted": {
		{"receipt", portabilityMail(func(d *MailData) {
			d.Transmission = &TransmissionData{Organisation: "Kraftbytte AS", State: dsar.TransmitSent, Attempts: 2, Date: "2025-03-07", Time: "14:05",
				Receipt: "KB-2025-000917", SHA256: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08", Bytes: 48213}
		})},
		{"no_receipt", portabilityMail(func(d *MailData) {
			d.DownloadUntil = ""
			d.Transmission = &TransmissionData{Organisation: "Kraftbytte AS", State: dsar.TransmitSent, Attempts: 1, Date: "2025-03-07", Time: "09:30",
				SHA256: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08", Bytes: 48213}
		})},
	},
	"transmission_failed": {
		{"retried", portabilityMail(func(d *MailData) {
			d.Transmission = &TransmissionData{Organisation: "Kraftbytte AS", State: dsar.TransmitFailed, Attempts: 8, Date: "2025-03-07", Time: "15:12",
				Reason: "the recipient answered 503 Service Unavailable"}
		})},
		{"refused", portabilityMail(func(d *MailData) {
			d.Transmission = &TransmissionData{Organisation: "Kraftbytte AS", State: dsar.TransmitFailed, Attempts: 1, Date: "2025-03-07", Time: "14:05",
				Reason: "the recipient answered 400 Bad Request"}
		})},
	},
	"transmission_alert": {
		{"refused", officerMail(func(d *MailData) {
			d.Type = dsar.TypePortability
			d.Transmission = &TransmissionData{Organisation: "Kraftbytte AS", State: dsar.TransmitFailed, Attempts: 1, Date: "2025-03-07", Time: "14:05",
				Reason: "the recipient answered 400 Bad Request"}
		})},
	},
	"vendor_instruction": {
		{"erase", vendorMail(func(v *VendorData) {})},
		{"stop_processing_reminder", vendorMail(func(v *VendorData) {
			v.Action, v.Reminder, v.Purposes, v.CustomerID = dsar.ActionStopProcessing, true, []string{"Retargeting", "Lookalike audiences"}, ""
		})},
		{"rectify", vendorMail(func(v *VendorData) {
			v.Action, v.Details = dsar.ActionRectify, "My postal address is now\r\nStorgata 1, 0155 Oslo."
		})},
		{"notify_recipient", vendorMail(func(v *VendorData) {
			v.Action, v.System, v.Categories = dsar.ActionNotifyRecipient, "Debt collection", nil
		})},
	},
}

// portabilityMail is a mail to the subject of a completed GDPR
// portability request whose package can be downloaded, changed by with.
func portabilityMail(with func(*MailData)) MailData {
	return gdprMail(func(d *MailData) {
		d.Type = dsar.TypePortability
		d.DownloadUntil, d.MaxDownloads = "2025-03-14", 5
		with(d)
	})
}

// vendorMail is an instruction to a processor about a GDPR erasure
// request, changed by with.
func vendorMail(with func(*VendorData)) MailData {
	return gdprMail(func(d *MailData) {
		d.Type, d.SubjectName, d.StatusURL = dsar.TypeErasure, "", ""
		d.Vendor = &VendorData{Action: dsar.ActionErase, System: "Meta Pixel", Categories: []string{"Browsing behaviour", "Device identifiers"},
			Email: "ase@example.no", CustomerID: "K-10442", By: "2025-03-24",
			ConfirmURL: "https://dsar.eksempel.no/vendor/tasks/01J000TASK/Zm9v"}
		with(d.Vendor)
	})
}

// officerMail is a mail to the officers about a GDPR request: it links the
// case page and names no data subject.
func officerMail(with func(*MailData)) MailData {
	return gdprMail(func(d *MailData) {
		d.SubjectName, d.ContactEmail = "", ""
		d.StatusURL = "https://dsar.eksempel.no/cases/01J0000000000000000000"
		with(d)
	})
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
			if name == "digest" {
				// The digest shows cases, not one request: make them hostile.
				data.Cases = append([]DigestCase(nil), data.Cases...)
				data.Cases[0].Reference, data.Cases[0].Controller = hostile, hostile+` & "Co"`
				data.Cases[0].URL = `javascript:alert(1)`
			}
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

// goldenData returns the data of the golden case of mail called name.
func goldenData(t *testing.T, mail, name string) MailData {
	t.Helper()
	for _, gc := range goldenCases[mail] {
		if gc.name == name {
			return gc.data
		}
	}
	t.Fatalf("no golden case %s/%s", mail, name)
	return MailData{}
}

// hostileText is what someone could type into a field that a mail shows:
// markup, and line breaks that would inject a header into a subject line.
const hostileText = "<script>alert(1)</script>\r\nBcc: victim@example.com\r\n\r\n\r\n\r\nSubject: x"

func TestRenderMailHostileFields(t *testing.T) {
	const escaped = "&lt;script&gt;alert(1)&lt;/script&gt;"
	// showsText are the mails that show Message or Summary.
	showsText := []string{"clarification_request", "completion", "extension", "identity_request", "refusal"}
	for _, name := range MailNames() {
		for _, gc := range goldenCases[name] {
			for _, lang := range dsar.Languages {
				t.Run(name+"/"+gc.name+"/"+string(lang), func(t *testing.T) {
					data := gc.data
					data.Language = lang
					data.Message = hostileText
					data.Summary = hostileText
					data.Kept = []KeptData{{What: hostileText, Why: hostileText, Until: "2030-12-31"}}
					m, err := RenderMail(name, data)
					if err != nil {
						t.Fatal(err)
					}
					checkRendered(t, m)
					if strings.Contains(m.Subject, "Bcc") || strings.Contains(m.Subject, "<script") {
						t.Errorf("subject carries user text: %q", m.Subject)
					}
					if strings.Contains(m.Text, "\r") {
						t.Errorf("text part has a carriage return")
					}
					if slices.Contains(showsText, name) {
						if !strings.Contains(m.HTML, escaped+"<br>Bcc: victim@example.com<br><br>Subject: x") {
							t.Errorf("escaped text with its line breaks not found in html:\n%s", m.HTML)
						}
						if !strings.Contains(m.Text, "<script>alert(1)</script>\nBcc: victim@example.com\n\nSubject: x") {
							t.Errorf("text part should carry the text verbatim, line breaks tidied:\n%s", m.Text)
						}
					}
					if name == "completion" {
						// A kept item stays on its line in the list.
						if !strings.Contains(m.Text, "\n- <script>alert(1)</script> Bcc: victim@example.com Subject: x\n") {
							t.Errorf("kept item not on one line:\n%s", m.Text)
						}
						if !strings.Contains(m.HTML, "<strong>"+escaped+" Bcc: victim@example.com Subject: x</strong>") {
							t.Errorf("kept item not escaped in html:\n%s", m.HTML)
						}
					}
				})
			}
		}
	}
}

func TestRenderMailRequiredData(t *testing.T) {
	tests := []struct {
		mail, golden string
		// want is a part of the error message: the field at fault.
		want   string
		modify func(*MailData)
	}{
		{"verification", "first", "Code", func(d *MailData) { d.Code = "" }},
		{"verification", "first", "Code", func(d *MailData) { d.Code = "48291" }},
		{"verification", "first", "Code", func(d *MailData) { d.Code = "48291x" }},
		{"verification", "first", "Code", func(d *MailData) { d.Code = "４８２９１３" }},
		{"verification", "first", "VerifyURL", func(d *MailData) { d.VerifyURL = "" }},
		{"verification", "first", "VerifyURL", func(d *MailData) { d.VerifyURL = "javascript:alert(1)" }},
		{"verification", "first", "VerifyURL", func(d *MailData) { d.VerifyURL = "/verify/abc" }},
		{"verification", "first", "VerifyURL", func(d *MailData) { d.VerifyURL = "https://x.example/v\r\nBcc: y" }},
		{"verification", "first", "ExpiresHours", func(d *MailData) { d.ExpiresHours = 0 }},
		{"verification", "first", "reminder kind", func(d *MailData) { d.Reminder = dsar.Reminder7Days }},
		{"extension", "gdpr", "Message", func(d *MailData) { d.Message = "" }},
		{"extension", "gdpr", "Message", func(d *MailData) { d.Message = " \r\n\t" }},
		{"extension", "gdpr", "OriginalDueDate", func(d *MailData) { d.OriginalDueDate = "" }},
		{"extension", "gdpr", "DueDate", func(d *MailData) { d.DueDate = "2025-13-01" }},
		{"extension", "gdpr", "not after", func(d *MailData) { d.DueDate = d.OriginalDueDate }},
		{"clarification_request", "gdpr_paused", "Message", func(d *MailData) { d.Message = "" }},
		{"clarification_request", "gdpr_paused", "StatusURL", func(d *MailData) { d.StatusURL = "" }},
		{"clarification_request", "ccpa_running", "DueDate", func(d *MailData) { d.DueDate = "" }},
		{"identity_request", "gdpr_paused", "Message", func(d *MailData) { d.Message = "" }},
		{"identity_request", "gdpr_paused", "StatusURL", func(d *MailData) { d.StatusURL = "" }},
		{"identity_request", "ccpa_running", "DueDate", func(d *MailData) { d.DueDate = "" }},
		{"reply_received", "gdpr", "DueDate", func(d *MailData) { d.DueDate = "" }},
		{"completion", "access", "Summary", func(d *MailData) { d.Summary = "" }},
		{"completion", "access", "AuthorityName", func(d *MailData) { d.AuthorityName = "" }},
		{"completion", "access", "AuthorityAddress", func(d *MailData) { d.AuthorityAddress = "" }},
		{"completion", "erasure_kept", "Kept[1].What", func(d *MailData) {
			d.Kept = []KeptData{d.Kept[0], {Why: "because"}}
		}},
		{"completion", "erasure_kept", "Kept[0].Why", func(d *MailData) { d.Kept = []KeptData{{What: "Invoices"}} }},
		{"completion", "erasure_kept", "Kept[0].Until", func(d *MailData) {
			d.Kept = []KeptData{{What: "Invoices", Why: "Bookkeeping Act", Until: "31.12.2030"}}
		}},
		{"refusal", "whole_gdpr", "refusal ground", func(d *MailData) { d.Ground = "" }},
		{"refusal", "whole_gdpr", "refusal ground", func(d *MailData) { d.Ground = "art99" }},
		{"refusal", "whole_gdpr", "Message", func(d *MailData) { d.Message = "" }},
		{"refusal", "whole_gdpr", "AuthorityName", func(d *MailData) { d.AuthorityName = "" }},
		{"refusal", "whole_gdpr", "AuthorityAddress", func(d *MailData) { d.AuthorityAddress = "" }},
		{"acknowledgement", "gdpr", "DueDate", func(d *MailData) { d.DueDate = "" }},
		{"acknowledgement", "gdpr", "ReceivedDate", func(d *MailData) { d.ReceivedDate = "3 March" }},
		{"reminder", "7d", "DueDate", func(d *MailData) { d.DueDate = "" }},
		{"withdrawal", "gdpr", "Reference", func(d *MailData) { d.Reference = "" }},
		{"withdrawal", "gdpr", "ContactEmail", func(d *MailData) { d.ContactEmail = "" }},
		{"expired_unverified", "gdpr", "ControllerName", func(d *MailData) { d.ControllerName = " " }},
		{"expired_unverified", "gdpr", "request type", func(d *MailData) { d.Type = "" }},
		{"task_failed", "answer", "Task is missing", func(d *MailData) { d.Task = nil }},
		{"task_failed", "answer", "StatusURL", func(d *MailData) { d.StatusURL = "" }},
		{"task_failed", "answer", "Task.Name", func(d *MailData) { d.Task = &TaskData{Action: dsar.ActionErase} }},
		{"task_reminder", "due", "task action", func(d *MailData) { d.Task = &TaskData{Name: "Regnskap", Action: "delete"} }},
		{"task_reminder", "due", "Task.DueDate", func(d *MailData) {
			d.Task = &TaskData{Name: "Regnskap", Action: dsar.ActionErase, DueDate: "12.03.2025"}
		}},
		{"vendor_instruction", "erase", "Vendor is missing", func(d *MailData) { d.Vendor = nil }},
		{"vendor_instruction", "erase", "task action", func(d *MailData) { d.Vendor = &VendorData{Action: "shred"} }},
		{"vendor_instruction", "erase", "ConfirmURL", func(d *MailData) { v := *d.Vendor; v.ConfirmURL = "javascript:x"; d.Vendor = &v }},
		{"vendor_instruction", "erase", "Vendor.By", func(d *MailData) { v := *d.Vendor; v.By = ""; d.Vendor = &v }},
		{"vendor_instruction", "erase", "CustomerID", func(d *MailData) { v := *d.Vendor; v.Email, v.CustomerID = "", " "; d.Vendor = &v }},
		{"vendor_instruction", "stop_processing_reminder", "Purposes", func(d *MailData) { v := *d.Vendor; v.Purposes = nil; d.Vendor = &v }},
		{"vendor_instruction", "rectify", "Details", func(d *MailData) { v := *d.Vendor; v.Details = " "; d.Vendor = &v }},
	}
	for _, tt := range tests {
		t.Run(tt.mail+"/"+tt.want, func(t *testing.T) {
			data := goldenData(t, tt.mail, tt.golden)
			data.Kept = slices.Clone(data.Kept)
			data.Language = dsar.LanguageEN
			if _, err := RenderMail(tt.mail, data); err != nil {
				t.Fatalf("good data: %v", err)
			}
			tt.modify(&data)
			m, err := RenderMail(tt.mail, data)
			if err == nil {
				t.Fatalf("RenderMail succeeded:\n%s", m.Text)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not name %q", err, tt.want)
			}
		})
	}

	t.Run("every problem at once", func(t *testing.T) {
		data := goldenData(t, "verification", "first")
		data.Language = dsar.LanguageNB
		data.Code, data.VerifyURL, data.ExpiresHours = "", "", 0
		_, err := RenderMail("verification", data)
		if err == nil {
			t.Fatal("RenderMail succeeded")
		}
		for _, want := range []string{"Code", "VerifyURL", "ExpiresHours"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("error %q does not name %s", err, want)
			}
		}
	})

	t.Run("optional data may be missing", func(t *testing.T) {
		for _, tc := range []struct {
			mail, golden string
			modify       func(*MailData)
		}{
			{"clarification_request", "gdpr_paused", func(d *MailData) { d.DueDate = "" }},
			{"identity_request", "gdpr_paused", func(d *MailData) { d.DueDate = "" }},
			{"completion", "access", func(d *MailData) { d.AuthorityWebsite = "" }},
			{"refusal", "whole_gdpr", func(d *MailData) { d.AuthorityWebsite = "" }},
			{"completion", "erasure_kept", func(d *MailData) { d.Kept = []KeptData{{What: "Invoices", Why: "Bookkeeping Act"}} }},
			{"withdrawal", "gdpr", func(d *MailData) { d.StatusURL, d.SubjectName = "", "" }},
		} {
			data := goldenData(t, tc.mail, tc.golden)
			data.Language = dsar.LanguageEN
			tc.modify(&data)
			m, err := RenderMail(tc.mail, data)
			if err != nil {
				t.Errorf("%s/%s: %v", tc.mail, tc.golden, err)
				continue
			}
			checkRendered(t, m)
		}
	})
}

// TestMailLegalContent checks, in the text part, what the law or the product
// rules require each mail to say; the golden files hold the rest.
func TestMailLegalContent(t *testing.T) {
	type want struct{ has, lacks []string }
	tests := map[string]map[dsar.Language]want{
		"verification/first": {
			dsar.LanguageEN: {has: []string{"482913", "https://dsar.eksempel.no/verify/9c1e4b7a2f?lang=nb&t=1", "valid for 24 hours",
				"ignore this e-mail. Nothing will happen"}, lacks: []string{"14 days", "Reminder"}},
			dsar.LanguageNB: {has: []string{"482913", "gyldige i 24 timer", "se bort fra denne e-posten. Da skjer det ingenting"}},
		},
		"verification/reminder_24h": {
			dsar.LanguageEN: {has: []string{"059217", "still need you to confirm", "new link and a new code", "within 14 days"}},
			dsar.LanguageNB: {has: []string{"059217", "fortsatt", "ny lenke og en ny kode", "innen 14 dager"}},
		},
		"verification/reminder_72h": {
			dsar.LanguageEN: {has: []string{"730046", "valid for 1 hour.", "within 14 days"}},
			dsar.LanguageNB: {has: []string{"730046", "gyldige i 1 time.", "innen 14 dager"}},
		},
		"acknowledgement/gdpr": {
			dsar.LanguageEN: {has: []string{"You can follow your request here:\nhttps://dsar.eksempel.no/s/4f8a2c?lang=nb&x=1"}},
			dsar.LanguageNB: {has: []string{"Du kan følge forespørselen din her:\nhttps://dsar.eksempel.no/s/4f8a2c?lang=nb&x=1"}},
		},
		"extension/gdpr": {
			dsar.LanguageEN: {has: []string{"Article 12(3)", "two further months", "3 April 2025", "3 June 2025", "eleven systems"}},
			dsar.LanguageNB: {has: []string{"artikkel 12 nr. 3", "to måneder til", "3. april 2025", "3. juni 2025", "eleven systems"}},
		},
		"extension/ccpa": {
			dsar.LanguageEN: {has: []string{"§7021(b)", "45 more days", "17 March 2025", "1 May 2025", "two service providers"}},
			dsar.LanguageNB: {has: []string{"§7021(b)", "45 dager til", "17. mars 2025", "1. mai 2025"}},
		},
		"clarification_request/gdpr_paused": {
			dsar.LanguageEN: {has: []string{"customer service?\nIf you know", "paused", "Guidelines 01/2022", "https://dsar.eksempel.no/s/4f8a2c"}},
			dsar.LanguageNB: {has: []string{"står fristen", "stille", "retningslinjene 01/2022"}},
		},
		"clarification_request/ccpa_running": {
			dsar.LanguageEN: {has: []string{"does not change the time limit", "17 March 2025"}, lacks: []string{"paused"}},
			dsar.LanguageNB: {has: []string{"endrer ikke fristen", "17. mars 2025"}, lacks: []string{"stille"}},
		},
		"identity_request/gdpr_paused": {
			dsar.LanguageEN: {has: []string{"reasonable doubts", "Article 12(6)", "and no more", "do not send identity documents by e-mail",
				"deleted as soon as the check is done", "only a note that the check was made", "Guidelines 01/2022"}},
			dsar.LanguageNB: {has: []string{"rimelig grunn til å tvile", "artikkel 12 nr. 6", "Ikke send identitetsdokumenter på e-post",
				"slettes så snart kontrollen er gjort", "retningslinjene 01/2022"}},
		},
		"identity_request/ccpa_running": {
			dsar.LanguageEN: {has: []string{"§7060", "17 March 2025"}, lacks: []string{"12(6)"}},
			dsar.LanguageNB: {has: []string{"§7060", "17. mars 2025"}},
		},
		"reply_received/gdpr": {
			dsar.LanguageEN: {has: []string{"received it", "10 April 2025"}},
			dsar.LanguageNB: {has: []string{"mottatt det", "10. april 2025"}},
		},
		"completion/erasure_kept": {
			dsar.LanguageEN: {has: []string{"We have erased your customer account", "- Invoices and payment records\n  Why: The Bookkeeping Act",
				"Kept until: 31 December 2030", "suppression list\n  Why:", "Article 77", "Datatilsynet\nPostboks 458 Sentrum, 0105 Oslo\nhttps://www.datatilsynet.no"}},
			dsar.LanguageNB: {has: []string{"Lagres til: 31. desember 2030", "artikkel 77", "Datatilsynet\nPostboks 458 Sentrum, 0105 Oslo"}},
		},
		"completion/access": {
			dsar.LanguageEN: {has: []string{"Your data is ready. Download it from the page of your request", "the link alone is not enough",
				"until 14 March 2025, at most 5 times; after that we delete them", "Article 77"}, lacks: []string{"kept", "Kept"}},
			dsar.LanguageNB: {has: []string{"Dataene dine er klare", "til og med 14. mars 2025, høyst 5 ganger", "artikkel 77"}, lacks: []string{"Lagres til"}},
		},
		"refusal/whole_gdpr": {
			dsar.LanguageEN: {has: []string{"we cannot carry it out", "ninth identical request", "Manifestly unfounded or excessive request (Article 12(5)(b) of the GDPR)",
				"Article 12(4)", "Article 77", "Article 79", "Datatilsynet\nPostboks 458 Sentrum, 0105 Oslo\nhttps://www.datatilsynet.no", "courts"},
				lacks: []string{"What we have done"}},
			dsar.LanguageNB: {has: []string{"kan vi ikke imøtekomme den", "Åpenbart grunnløs eller urimelig forespørsel (personvernforordningen artikkel 12 nr. 5 bokstav b)",
				"artikkel 12 nr. 4", "artikkel 77", "domstolene (personvernforordningen artikkel 79)", "Datatilsynet"}},
		},
		"completion/partial_gdpr": {
			dsar.LanguageEN: {has: []string{"What we have done:\n\nWe have erased your customer profile", "What we granted:", "What we refused:\n\nErasure of your invoices",
				"A legal obligation to keep the data (Article 17(3)(b) of the GDPR)", "Article 12(4)", "Article 77", "Article 79"}},
			dsar.LanguageNB: {has: []string{"Dette har vi gjort:", "Dette avslo vi:", "personvernforordningen artikkel 17 nr. 3 bokstav b", "artikkel 12 nr. 4", "domstolene"}},
		},
		"fee_notice/gdpr": {
			dsar.LanguageEN: {has: []string{"Article 15(3)", "already given you"}, lacks: []string{"Article 12(5)"}},
			dsar.LanguageNB: {has: []string{"artikkel 15 nr. 3"}, lacks: []string{"artikkel 12 nr. 5"}},
		},
		"fee_notice/excessive": {
			dsar.LanguageEN: {has: []string{"manifestly unfounded or excessive", "Article 12(5)"}, lacks: []string{"already given you"}},
			dsar.LanguageNB: {has: []string{"åpenbart grunnløs eller urimelig", "artikkel 12 nr. 5"}, lacks: []string{"allerede har gitt deg"}},
		},
		"reopened/gdpr": {
			dsar.LanguageEN: {has: []string{"reopened", "no longer stands", "newsletter account was not erased"}},
			dsar.LanguageNB: {has: []string{"åpnet", "gjelder ikke lenger", "newsletter account"}},
		},
		"refusal/whole_ccpa": {
			dsar.LanguageEN: {has: []string{"Your identity could not be confirmed\n", "California Privacy Protection Agency\n2101 Arena Blvd."}},
			dsar.LanguageNB: {has: []string{"Identiteten din kunne ikke bekreftes\n", "California Privacy Protection Agency"}},
		},
		"withdrawal/gdpr": {
			dsar.LanguageEN: {has: []string{"withdrawn your request to correct", "will not do anything more", "new request at any time"}},
			dsar.LanguageNB: {has: []string{"trukket tilbake", "gjør ikke noe mer", "når som helst sende en ny forespørsel"}},
		},
		"expired_unverified/gdpr": {
			dsar.LanguageEN: {has: []string{"not confirmed within 14 days", "have not done anything", "send a new one"}},
			dsar.LanguageNB: {has: []string{"ikke ble bekreftet innen 14 dager", "ikke gjort noe", "sende en ny"}},
		},
	}
	for key, byLang := range tests {
		mail, golden, _ := strings.Cut(key, "/")
		for lang, w := range byLang {
			data := goldenData(t, mail, golden)
			data.Language = lang
			m, err := RenderMail(mail, data)
			if err != nil {
				t.Errorf("%s/%s: %v", key, lang, err)
				continue
			}
			for _, s := range w.has {
				if !strings.Contains(m.Text, s) {
					t.Errorf("%s/%s: text lacks %q:\n%s", key, lang, s, m.Text)
				}
			}
			for _, s := range w.lacks {
				if strings.Contains(m.Text, s) {
					t.Errorf("%s/%s: text should not say %q:\n%s", key, lang, s, m.Text)
				}
			}
		}
	}
}

// A mail under the CCPA never cites the GDPR or the EDPB.
func TestCCPAMailsCiteNoGDPR(t *testing.T) {
	checked := 0
	for _, name := range MailNames() {
		for _, gc := range goldenCases[name] {
			if gc.data.Regulation != dsar.RegulationCCPA || name == "reminder" {
				continue
			}
			for _, lang := range dsar.Languages {
				data := gc.data
				data.Language = lang
				data.ClockPaused = true // the pause wording too
				m, err := RenderMail(name, data)
				if err != nil {
					t.Fatalf("%s/%s/%s: %v", name, gc.name, lang, err)
				}
				checked++
				for _, bad := range []string{"GDPR", "personvernforordning", "Article", "artikkel", "EDPB", "Personvernrådet", "European Data Protection Board"} {
					if strings.Contains(m.Subject+m.Text+m.HTML, bad) {
						t.Errorf("%s/%s/%s cites %q", name, gc.name, lang, bad)
					}
				}
			}
		}
	}
	if checked < 10 {
		t.Errorf("only %d CCPA renderings checked", checked)
	}
}

// Every refusal ground has a label, a plain explanation and its article in
// every language, and there are no texts for grounds that do not exist.
func TestGroundCatalog(t *testing.T) {
	for _, lang := range dsar.Languages {
		for _, g := range dsar.Grounds {
			for _, key := range []string{"ground." + string(g), "ground." + string(g) + ".explanation", "ground." + string(g) + ".article"} {
				if strings.TrimSpace(catalogs[lang][key]) == "" {
					t.Errorf("%s: %q missing", lang, key)
				}
			}
			if label, expl := catalogs[lang]["ground."+string(g)], catalogs[lang]["ground."+string(g)+".explanation"]; len(expl) <= len(label) {
				t.Errorf("%s: the explanation of %s is no longer than its label", lang, g)
			}
		}
		for _, key := range Keys(lang) {
			rest, ok := strings.CutPrefix(key, "ground.")
			if !ok {
				continue
			}
			g, _, _ := strings.Cut(rest, ".")
			if !dsar.Ground(g).Valid() {
				t.Errorf("%s: %q is about an unknown ground", lang, key)
			}
		}
	}
}

func TestRefusalEveryGround(t *testing.T) {
	typeOf := func(g dsar.Ground) dsar.RequestType {
		for _, t := range dsar.RequestTypes {
			if slices.Contains(dsar.GroundsFor(t, dsar.ObjectionLegitimate), g) {
				return t
			}
		}
		return ""
	}
	for _, g := range dsar.Grounds {
		for _, lang := range dsar.Languages {
			for _, base := range []MailData{goldenData(t, "refusal", "whole_gdpr"), goldenData(t, "refusal", "whole_ccpa")} {
				{
					data := base
					data.Language, data.Ground, data.Type = lang, g, typeOf(g)
					m, err := RenderMail("refusal", data)
					if err != nil {
						t.Fatalf("%s/%s/%s: %v", g, lang, data.Regulation, err)
					}
					checkRendered(t, m)
					cat := catalogs[lang]
					for _, s := range []string{cat["ground."+string(g)], cat["ground."+string(g)+".explanation"]} {
						if !strings.Contains(m.Text, s) || !strings.Contains(m.HTML, htmltemplate.HTMLEscapeString(s)) {
							t.Errorf("%s/%s/%s: %q missing", g, lang, data.Regulation, s)
						}
					}
					article := cat["ground."+string(g)+".article"]
					if got := strings.Contains(m.Text, article); got != (data.Regulation == dsar.RegulationGDPR) {
						t.Errorf("%s/%s/%s: article %q shown = %v", g, lang, data.Regulation, article, got)
					}
				}
			}
		}
	}
}

func TestPlainText(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"", ""},
		{"one line", "one line"},
		{"  a\r\nb\rc\n", "a\nb\nc"},
		{"\n\n a  \t\n\n\n\nb\n\n", "a\n\nb"},
		{"a\r\n\r\n\r\nb", "a\n\nb"},
	} {
		if got := plainText(tt.in); got != tt.want {
			t.Errorf("plainText(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestHoursPlural(t *testing.T) {
	for _, tt := range []struct {
		lang dsar.Language
		n    int
		want string
	}{
		{dsar.LanguageEN, 1, "1 hour"},
		{dsar.LanguageEN, 24, "24 hours"},
		{dsar.LanguageNB, 1, "1 time"},
		{dsar.LanguageNB, 72, "72 timer"},
	} {
		got, err := templateFuncs(tt.lang)["hours"].(func(int) (string, error))(tt.n)
		if err != nil || got != tt.want {
			t.Errorf("hours(%s, %d) = %q, %v; want %q", tt.lang, tt.n, got, err, tt.want)
		}
	}
}

// officerMails are the mails to the controller's officers; every other mail
// goes to the data subject.
var officerMails = []string{"reminder", "digest", "subject_replied", "case_assigned", "task_failed", "task_reminder", "transmission_alert", "webhook_disabled"}

// Every mail to the subject says how to answer: a reply to the mail reaches
// the controller's privacy contact (the mail's Reply-To), named in the text.
func TestSubjectMailsSayHowToAnswer(t *testing.T) {
	replies := map[dsar.Language]string{
		dsar.LanguageEN: "reply to this e-mail; your reply goes to ",
		dsar.LanguageNB: "svare på denne e-posten; svaret går til ",
	}
	for _, name := range MailNames() {
		if slices.Contains(officerMails, name) {
			continue
		}
		for _, gc := range goldenCases[name] {
			for _, lang := range dsar.Languages {
				data := gc.data
				data.Language = lang
				m, err := RenderMail(name, data)
				if err != nil {
					t.Fatalf("%s/%s/%s: %v", name, gc.name, lang, err)
				}
				if want := replies[lang] + data.ContactEmail; !strings.Contains(m.Text, want) {
					t.Errorf("%s/%s/%s: the text does not say %q", name, gc.name, lang, want)
				}
			}
		}
	}
}
