package templates

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html"

	"github.com/dsar-project/dsar"
)

// The golden files of the pages are rewritten with -update, the same flag
// as the mail goldens. It is defined here only when no other test file of
// the package defines it (variables are initialised before init runs).
func init() {
	if flag.Lookup("update") == nil {
		flag.Bool("update", false, "rewrite the golden files")
	}
}

func updatingGoldens() bool {
	f := flag.Lookup("update")
	return f != nil && f.Value.String() == "true"
}

var oslo = func() *time.Location {
	loc, err := time.LoadLocation("Europe/Oslo")
	if err != nil {
		panic(err)
	}
	return loc
}()

// byLang picks the text of lang from a Norwegian and an English one.
func byLang(lang dsar.Language, nb, en string) string {
	if lang == dsar.LanguageNB {
		return nb
	}
	return en
}

var nteBrand = Brand{
	Name:         "Nord-Trøndelag Elektrisitetsverk AS",
	Logo:         "/static/brand/nte.svg",
	PrimaryColor: "#003a5d",
	AccentColor:  "#f5a623",
}

// vendorPage is NTE's instruction to stop an ad platform's processing,
// in the state given.
func vendorPage(lang dsar.Language, state string) VendorPage {
	p := ntePage(lang, "/vendor/tasks/01J000TASK/dG9rZW4")
	return VendorPage{Page: p, Action: "/vendor/tasks/01J000TASK/dG9rZW4", State: state, Controller: nteBrand.Name,
		Reference: "DSAR-2025-0042", System: "Meta Pixel", TaskAction: dsar.ActionStopProcessing,
		Purposes: []string{"Retargeting", "Lookalike audiences"}, Categories: []string{"Browsing behaviour"},
		Email: "kari@example.no", CustomerID: "K-10442", By: "2025-03-24"}
}

func ntePage(lang dsar.Language, path string) Page {
	return Page{
		Lang:         lang,
		Path:         path,
		Brand:        nteBrand,
		ContactEmail: "personvern@nte.no",
		CSRF:         "c3JmLXRva2VuLTAxMjM0NTY3ODk",
	}
}

// pageCase is one rendering of a page, checked in every language.
type pageCase struct {
	name string
	data func(lang dsar.Language) any
}

// pageCases holds the renderings of each page; every page must have at
// least one.
var pageCases = map[string][]pageCase{
	"index": {
		{"controllers", func(lang dsar.Language) any {
			return IndexPage{
				Page: Page{Lang: lang, Path: "/", CSRF: "aW5kZXgtdG9rZW4"},
				Controllers: []ControllerLink{
					{Key: "nte", Name: "Nord-Trøndelag Elektrisitetsverk AS", Jurisdiction: "NO"},
					{Key: "keto-diets", Name: "Keto Diets UAB", Jurisdiction: "LT"},
					{Key: "intility", Name: "Intility AS", Jurisdiction: "NO"},
					{Key: "example-inc", Name: "Example Inc.", Jurisdiction: "US-CA"},
				},
			}
		}},
		{"empty", func(lang dsar.Language) any {
			return IndexPage{Page: Page{Lang: lang, Path: "/"}}
		}},
	},
	"form": {
		{"new", func(lang dsar.Language) any {
			return FormPage{
				Page:          ntePage(lang, "/c/nte"),
				ControllerKey: "nte",
				Types:         dsar.RequestTypes,
				Identifiers:   []string{dsar.IdentifierCustomerID, dsar.IdentifierPhone},
				Honeypot:      "website",
			}
		}},
		{"errors", func(lang dsar.Language) any {
			return FormPage{
				Page:          ntePage(lang, "/c/nte"),
				ControllerKey: "nte",
				Types:         dsar.RequestTypes,
				Identifiers:   []string{dsar.IdentifierCustomerID},
				Values: FormValues{
					Type:       string(dsar.TypeRectification),
					Email:      "kari.nordmann@",
					Name:       "Kari Nordmann",
					CustomerID: "7001234",
					Details:    byLang(lang, "Adressen min er feil på fakturaen.", "My address is wrong on the invoice."),
					Language:   string(dsar.LanguageEN),
					Inaccurate: "Storgata 1, 7725 Steinkjer",
				},
				Errors: map[string]string{
					"email":   T(lang, "field.email", nil),
					"correct": T(lang, "field.required", nil),
				},
				Honeypot: "website",
			}
		}},
		{"transmit", func(lang dsar.Language) any {
			return FormPage{
				Page:          ntePage(lang, "/c/nte"),
				ControllerKey: "nte",
				Types:         dsar.RequestTypes,
				Recipients:    []Choice{{Key: "kraftbytte", Name: "Kraftbytte AS"}, {Key: "elbytte", Name: "Elbytte Norge AS"}},
				Values:        FormValues{Type: string(dsar.TypePortability), Email: "kari@example.no", TransmitTo: "other", Language: string(lang)},
				Errors:        map[string]string{"transmit_organisation": T(lang, "field.transmit.organisation", nil)},
				Honeypot:      "website",
			}
		}},
		{"regulations", func(lang dsar.Language) any {
			return FormPage{
				Page:          ntePage(lang, "/c/keto-diets"),
				ControllerKey: "keto-diets",
				Types:         []dsar.RequestType{dsar.TypeAccess, dsar.TypeErasure},
				Identifiers:   []string{dsar.IdentifierPhone},
				Regulations:   []dsar.Regulation{dsar.RegulationGDPR, dsar.RegulationCCPA},
				Values:        FormValues{Type: string(dsar.TypeAccess), Regulation: string(dsar.RegulationCCPA)},
				Honeypot:      "website",
			}
		}},
		{"few-types", func(lang dsar.Language) any {
			p := ntePage(lang, "/c/proviso")
			p.Brand = Brand{Name: "Proviso AS"}
			p.ContactEmail = "post@proviso.no"
			return FormPage{
				Page:          p,
				ControllerKey: "proviso",
				Types:         []dsar.RequestType{dsar.TypeAccess, dsar.TypeErasure, dsar.TypeObjection},
				Values:        FormValues{Type: string(dsar.TypeObjection)},
				Errors:        map[string]string{"type": T(lang, "field.enum", map[string]any{"allowed": "access, erasure, objection"})},
				Honeypot:      "homepage",
			}
		}},
	},
	"check_email": {
		{"sent", func(lang dsar.Language) any {
			return CheckEmailPage{
				Page:         ntePage(lang, "/c/nte/check"),
				Action:       "/c/nte/verify",
				Resend:       "/c/nte/resend",
				MaskedEmail:  "k***@example.no",
				ExpiresHours: 24,
			}
		}},
		{"wrong-code", func(lang dsar.Language) any {
			return CheckEmailPage{
				Page:         ntePage(lang, "/c/nte/check"),
				Action:       "/c/nte/verify",
				Resend:       "/c/nte/resend",
				MaskedEmail:  "k***@example.no",
				ExpiresHours: 1,
				Error:        byLang(lang, "Koden er feil eller utløpt. Prøv igjen.", "The code is wrong or has expired. Try again."),
			}
		}},
		{"resent", func(lang dsar.Language) any {
			return CheckEmailPage{
				Page:         ntePage(lang, "/c/nte/check"),
				Action:       "/c/nte/verify",
				Resend:       "/c/nte/resend",
				MaskedEmail:  "k***@example.no",
				ExpiresHours: 24,
				Notice:       byLang(lang, "Vi har sendt deg en ny kode.", "We have sent you a new code."),
			}
		}},
	},
	"vendor": {
		{"form", func(lang dsar.Language) any { return vendorPage(lang, "") }},
		{"rectify_errors", func(lang dsar.Language) any {
			p := vendorPage(lang, "")
			p.TaskAction, p.Categories, p.Details = dsar.ActionRectify, nil, "Postal address: Storgata 1, 0155 Oslo"
			p.Outcome, p.Count = "done", "two"
			p.Errors = map[string]string{
				"count":    byLang(lang, "Skriv et helt tall, 0 eller mer, eller la feltet stå tomt.", "Enter a whole number of 0 or more, or leave it empty."),
				"evidence": byLang(lang, "Dette feltet må fylles ut.", "This field is required."),
			}
			return p
		}},
		{"thanks", func(lang dsar.Language) any { return vendorPage(lang, "thanks") }},
		{"ended", func(lang dsar.Language) any { return vendorPage(lang, "ended") }},
	},
	"confirm_link": {
		{"confirm", func(lang dsar.Language) any {
			return ConfirmLinkPage{Page: ntePage(lang, "/v/token"), Action: "/v/token", Reference: "DSAR-2025-0042"}
		}},
		{"used", func(lang dsar.Language) any {
			return ConfirmLinkPage{Page: ntePage(lang, "/v/token"), Action: "/v/token", Reference: "DSAR-2025-0042", Used: true}
		}},
	},
	"status": {
		{"identity", func(lang dsar.Language) any {
			return StatusPage{
				Page:       ntePage(lang, "/s/4f8a2c9e"),
				Reference:  "DSAR-2025-0042",
				Type:       dsar.TypeAccess,
				Status:     dsar.StatusAwaitingSubject,
				ReceivedAt: time.Date(2025, 3, 3, 9, 12, 0, 0, oslo),
				DueDate:    "2025-06-03",
				Extended:   true,
				History: []HistoryItem{
					{At: time.Date(2025, 3, 3, 9, 12, 0, 0, oslo), Text: byLang(lang, "Vi mottok forespørselen.", "We received the request.")},
					{At: time.Date(2025, 3, 3, 9, 20, 0, 0, oslo), Text: byLang(lang, "Du bekreftet e-postadressen.", "You confirmed your e-mail address.")},
					{At: time.Date(2025, 3, 10, 14, 5, 0, 0, oslo), Text: byLang(lang, "Vi ba deg bekrefte hvem du er.", "We asked you to confirm who you are.")},
				},
				Messages: []MessageItem{
					{At: time.Date(2025, 3, 10, 14, 5, 0, 0, oslo), Kind: "identity", Body: byLang(lang,
						"Hei!\nVi fant to kunder med navnet ditt. Send oss en kopi av en faktura fra oss, så vet vi hvem av dem du er.",
						"Hello,\nWe found two customers with your name. Send us a copy of an invoice from us, so that we know which of them you are.")},
				},
				ReplyAction:    "/s/4f8a2c9e/reply",
				ReplyKind:      "identity",
				WithdrawAction: "/s/4f8a2c9e/withdraw",
			}
		}},
		{"clarification", func(lang dsar.Language) any {
			return StatusPage{
				Page:       ntePage(lang, "/s/77d01b3a"),
				Reference:  "DSAR-2025-0051",
				Type:       dsar.TypeErasure,
				Status:     dsar.StatusAwaitingSubject,
				ReceivedAt: time.Date(2025, 4, 17, 22, 40, 0, 0, oslo),
				DueDate:    "2025-05-19",
				Messages: []MessageItem{
					{At: time.Date(2025, 4, 22, 8, 30, 0, 0, oslo), Kind: "clarification", Body: byLang(lang,
						"Gjelder forespørselen alle tjenestene våre, eller bare strømavtalen?",
						"Is your request about all our services, or only the electricity contract?")},
					{At: time.Date(2025, 4, 22, 19, 3, 0, 0, oslo), FromSubject: true, Kind: "reply", Body: byLang(lang,
						"Alle tjenestene, takk.", "All of them, please.")},
					{At: time.Date(2025, 4, 23, 9, 0, 0, 0, oslo), Kind: "clarification", Body: byLang(lang,
						"Takk! Gjelder det også kundechatten?", "Thank you. Does it include the customer chat too?")},
				},
				ReplyAction:    "/s/77d01b3a/reply",
				ReplyKind:      "clarification",
				WithdrawAction: "/s/77d01b3a/withdraw",
				Notice:         byLang(lang, "Svaret ditt er sendt.", "Your answer has been sent."),
			}
		}},
		{"completed", func(lang dsar.Language) any {
			p := ntePage(lang, "/s/0c1d2e3f")
			p.Brand = Brand{}
			p.ContactEmail = ""
			return StatusPage{
				Page:       p,
				Reference:  "DSAR-2025-0007",
				Type:       dsar.TypePortability,
				Status:     dsar.StatusCompleted,
				ReceivedAt: time.Date(2025, 1, 31, 12, 0, 0, 0, oslo),
				DueDate:    "2025-02-28",
				History: []HistoryItem{
					{At: time.Date(2025, 1, 31, 12, 0, 0, 0, oslo), Text: byLang(lang, "Vi mottok forespørselen.", "We received the request.")},
					{At: time.Date(2025, 2, 20, 15, 45, 0, 0, oslo), Text: byLang(lang, "Forespørselen er fullført.", "The request is completed.")},
				},
			}
		}},
		{"download", func(lang dsar.Language) any {
			msg := T(lang, "error.verify.wrong_code", map[string]any{"left": 4})
			return StatusPage{
				Page:       ntePage(lang, "/s/0c1d2e3f"),
				Reference:  "7KQ2-M9XD",
				Type:       dsar.TypeAccess,
				Status:     dsar.StatusCompleted,
				ReceivedAt: time.Date(2025, 1, 31, 12, 0, 0, 0, oslo),
				DueDate:    "2025-02-28",
				Download: &DownloadSection{
					Files:       []DownloadFile{{Name: dsar.ResultReportHTML, Bytes: 48_213}, {Name: dsar.ResultReportJSON, Bytes: 1_530_000}},
					Until:       time.Date(2025, 2, 27, 23, 59, 59, 0, oslo),
					Left:        4,
					CodeMinutes: 30,
					CodeAction:  "/s/0c1d2e3f/download/code", DownloadAction: "/s/0c1d2e3f/download",
					CodeError: msg,
				},
				Error: msg,
			}
		}},
		{"download-gone", func(lang dsar.Language) any {
			return StatusPage{
				Page:       ntePage(lang, "/s/0c1d2e3f"),
				Reference:  "7KQ2-M9XD",
				Type:       dsar.TypePortability,
				Status:     dsar.StatusCompleted,
				ReceivedAt: time.Date(2025, 1, 31, 12, 0, 0, 0, oslo),
				DueDate:    "2025-02-28",
				Download:   &DownloadSection{Gone: T(lang, "error.download.expired", nil), NewRequest: "/c/nte?type=portability"},
			}
		}},
		{"transmitted", func(lang dsar.Language) any {
			return StatusPage{
				Page:       ntePage(lang, "/s/0c1d2e3f"),
				Reference:  "7KQ2-M9XD",
				Type:       dsar.TypePortability,
				Status:     dsar.StatusCompleted,
				ReceivedAt: time.Date(2025, 1, 31, 12, 0, 0, 0, oslo),
				DueDate:    "2025-02-28",
				Download: &DownloadSection{
					Files: []DownloadFile{{Name: dsar.ResultPackage, Bytes: 48_213}}, Until: time.Date(2025, 2, 27, 23, 59, 59, 0, oslo), Left: 5,
					CodeMinutes: 30, CodeAction: "/s/0c1d2e3f/download/code", DownloadAction: "/s/0c1d2e3f/download",
				},
				Transmission: &TransmissionView{Organisation: "Kraftbytte AS", State: dsar.TransmitSent, At: time.Date(2025, 2, 20, 14, 5, 0, 0, oslo),
					Receipt: "KB-2025-77", Attempts: 2, Status: 202},
			}
		}},
		{"transmit-other", func(lang dsar.Language) any {
			return StatusPage{
				Page:         ntePage(lang, "/s/0c1d2e3f"),
				Reference:    "7KQ2-M9XD",
				Type:         dsar.TypePortability,
				Status:       dsar.StatusInProgress,
				ReceivedAt:   time.Date(2025, 1, 31, 12, 0, 0, 0, oslo),
				DueDate:      "2025-02-28",
				Transmission: &TransmissionView{Organisation: "Strøm & Sånn AS", Other: true},
			}
		}},
	},
	"error": {
		{"not-found", func(lang dsar.Language) any {
			return ErrorPage{
				Page:    Page{Lang: lang, Path: "/s/unknown"},
				Message: T(lang, "error.not_found", nil),
				Status:  404,
			}
		}},
		{"expired-link", func(lang dsar.Language) any {
			p := ntePage(lang, "/c/nte/verify")
			p.Title = byLang(lang, "Lenken er utløpt", "The link has expired")
			return ErrorPage{
				Page:    p,
				Message: byLang(lang, "Lenken gjelder bare i 24 timer. Send forespørselen på nytt.", "The link is only valid for 24 hours. Send the request again."),
				Status:  410,
			}
		}},
	},
	"mailbox": {
		{"list-and-open", func(lang dsar.Language) any {
			entries := []MailboxEntry{
				{Name: "b@dsar.localhost.eml", Date: time.Date(2025, 3, 5, 9, 1, 0, 0, oslo), From: "NTE <dsar@localhost>", To: "kari@example.no", Subject: "Bekreft forespørselen din"},
				{Name: "a@dsar.localhost.eml", Date: time.Date(2025, 3, 5, 9, 0, 0, 0, oslo), From: "NTE <dsar@localhost>", To: "personvern@nte.no", Subject: "Frist om 7 dager"},
			}
			return MailboxPage{Page: Page{Lang: lang, Path: "/mailbox/b@dsar.localhost.eml"}, Entries: entries, Open: &entries[0], Text: "Hei,\n\nkoden din er 123456."}
		}},
		{"empty", func(lang dsar.Language) any {
			return MailboxPage{Page: Page{Lang: lang, Path: "/mailbox"}}
		}},
	},
	"signin": {
		{"wrong-password", func(lang dsar.Language) any {
			return SignInPage{Page: Page{Lang: lang, Path: "/signin", CSRF: "tok"}, Email: "kari@nte.no", Next: "/queue", Error: T(lang, "error.signin", nil)}
		}},
		{"single-sign-on", func(lang dsar.Language) any {
			return SignInPage{Page: Page{Lang: lang, Path: "/signin", CSRF: "tok"}, Next: "/cases/x?y=1", SSOName: "Microsoft Entra ID"}
		}},
	},
	"password": {
		{"form", func(lang dsar.Language) any {
			return PasswordPage{Page: Page{Lang: lang, Path: "/account/password", CSRF: "tok"}, MinLength: dsar.MinPasswordLength}
		}},
	},
	"queue": {
		{"cases", func(lang dsar.Language) any {
			return QueuePage{Page: Page{Lang: lang, Path: "/queue", CSRF: "tok", Staff: &Staff{User: "kari@nte.no", Section: "queue", Orgs: map[string]string{"nte": "NTE AS"}}}, NextPage: "/queue?cursor=abc",
				Workers: []Worker{{ID: "u1", Email: "kari@nte.no"}, {ID: "u2", Email: "ola@nte.no"}},
				Filter:  QueueFilter{Assignee: "u2", Approval: "pending", Tasks: dsar.TasksFailing},
				Rows: []QueueRow{
					{Reference: "7KQ2-M9XD", Controller: "nte", Type: dsar.TypeErasure, Status: dsar.StatusInProgress, DueDate: "2025-03-03", DaysLeft: -2, Overdue: true, Approved: true,
						Tasks: &dsar.TaskProgress{Total: 9, Ended: 5, Failed: 1, Overdue: 2}},
					{Reference: "H3PA-22QX", Controller: "nte", Type: dsar.TypeAccess, Status: dsar.StatusAwaitingSubject, DueDate: "2025-03-20", DaysLeft: 15, Duplicate: true, Replied: true},
				}}
		}},
		{"empty", func(lang dsar.Language) any {
			return QueuePage{Page: Page{Lang: lang, Path: "/queue", CSRF: "tok", Staff: &Staff{User: "kari@nte.no", Section: "queue", Orgs: map[string]string{"nte": "NTE AS"}}}}
		}},
	},
	"admin_users": {
		{"list-and-generated-password", func(lang dsar.Language) any {
			p := AdminUsersPage{Page: Page{Lang: lang, Path: "/admin/users", CSRF: "tok", Title: T(lang, "page.admin.users.title", nil)},
				Users: []AdminUser{
					{ID: "u1", Email: "admin@nte.no", Role: dsar.RoleAdmin, CreatedAt: time.Date(2025, 1, 2, 9, 0, 0, 0, oslo)},
					{ID: "u2", Email: "kari@nte.no", Role: dsar.RoleOfficer, Controllers: []string{"nte", "proviso"}, CreatedAt: time.Date(2025, 3, 5, 9, 0, 0, 0, oslo), Locked: true},
					{ID: "u3", Email: "ola@nte.no", Role: dsar.RoleAuditor, Controllers: []string{"nte"}, CreatedAt: time.Date(2025, 2, 1, 9, 0, 0, 0, oslo), DisabledAt: ptr(time.Date(2025, 3, 1, 9, 0, 0, 0, oslo))},
				},
				Roles:       adminRoles(lang, dsar.RoleOfficer),
				Controllers: []AdminChoice{{Value: "nte", Label: "NTE AS"}, {Value: "proviso", Label: "Proviso AS"}},
				Notice:      T(lang, "page.admin.users.created", map[string]any{"email": "kari@nte.no"}),
				Password:    "mJ3xV0q-8Zr1YbT6kQ2nWc4s",
			}
			return p
		}},
		{"errors", func(lang dsar.Language) any {
			return AdminUsersPage{Page: Page{Lang: lang, Path: "/admin/users", CSRF: "tok", Title: T(lang, "page.admin.users.title", nil)},
				Roles: adminRoles(lang, dsar.RoleAuditor), Email: "not-an-address",
				Controllers: []AdminChoice{{Value: "nte", Label: "NTE AS"}},
				Errors:      []string{T(lang, "page.admin.email", nil) + ": " + T(lang, "field.email", nil), T(lang, "page.admin.controllers", nil) + ": " + T(lang, "field.required", nil)},
			}
		}},
	},
	"admin_user": {
		{"officer", func(lang dsar.Language) any {
			return AdminUserPage{Page: Page{Lang: lang, Path: "/admin/users/u2", CSRF: "tok", Title: "kari@nte.no"},
				User:        AdminUser{ID: "u2", Email: "kari@nte.no", Role: dsar.RoleOfficer, Controllers: []string{"nte"}, CreatedAt: time.Date(2025, 3, 5, 9, 0, 0, 0, oslo)},
				Roles:       adminRoles(lang, dsar.RoleOfficer),
				Controllers: []AdminChoice{{Value: "nte", Label: "NTE AS", Checked: true}, {Value: "proviso", Label: "Proviso AS"}},
				Notice:      T(lang, "page.admin.user.password_reset", nil), Password: "mJ3xV0q-8Zr1YbT6kQ2nWc4s",
			}
		}},
		{"self", func(lang dsar.Language) any {
			return AdminUserPage{Page: Page{Lang: lang, Path: "/admin/users/u1", CSRF: "tok", Title: "admin@nte.no"},
				User:  AdminUser{ID: "u1", Email: "admin@nte.no", Role: dsar.RoleAdmin, CreatedAt: time.Date(2025, 1, 2, 9, 0, 0, 0, oslo)},
				Roles: adminRoles(lang, dsar.RoleAdmin), Controllers: []AdminChoice{{Value: "nte", Label: "NTE AS"}}, Self: true,
			}
		}},
		{"disabled", func(lang dsar.Language) any {
			return AdminUserPage{Page: Page{Lang: lang, Path: "/admin/users/u3", CSRF: "tok", Title: "ola@nte.no"},
				User:  AdminUser{ID: "u3", Email: "ola@nte.no", Role: dsar.RoleAuditor, Controllers: []string{"nte"}, CreatedAt: time.Date(2025, 2, 1, 9, 0, 0, 0, oslo), DisabledAt: ptr(time.Date(2025, 3, 1, 9, 0, 0, 0, oslo))},
				Roles: adminRoles(lang, dsar.RoleAuditor), Controllers: []AdminChoice{{Value: "nte", Label: "NTE AS", Checked: true}},
				Notice: T(lang, "page.admin.user.disabled", nil),
			}
		}},
	},
	"admin_keys": {
		{"list-and-new-secret", func(lang dsar.Language) any {
			return AdminKeysPage{Page: Page{Lang: lang, Path: "/admin/keys", CSRF: "tok", Title: T(lang, "page.admin.keys.title", nil)},
				Keys: []AdminKey{
					{ID: "k3", Name: "Min side", Role: dsar.RoleSystem, Controllers: []string{"nte"}, Scopes: []dsar.Scope{dsar.ScopeRequestsCreate, dsar.ScopeRequestsRead},
						CreatedAt: time.Date(2025, 3, 6, 9, 0, 0, 0, oslo)},
					{ID: "k2", Name: "CRM", Role: dsar.RoleSystem, Controllers: []string{"nte"}, CreatedAt: time.Date(2025, 3, 5, 9, 0, 0, 0, oslo)},
					{ID: "k1", Name: "Old script", Role: dsar.RoleOfficer, Controllers: []string{"nte"}, CreatedAt: time.Date(2025, 1, 5, 9, 0, 0, 0, oslo),
						LastUsedAt: ptr(time.Date(2025, 2, 5, 9, 30, 0, 0, oslo)), RevokedAt: ptr(time.Date(2025, 3, 1, 9, 0, 0, 0, oslo))},
				},
				Roles: adminKeyRoles(lang), Controllers: []AdminChoice{{Value: "nte", Label: "NTE AS"}}, Scopes: adminKeyScopes(lang, dsar.ScopeRequestsCreate),
				Notice: T(lang, "page.admin.keys.created", map[string]any{"name": "CRM"}), Secret: "dsar_q8Zr1YbT6kQ2nWc4smJ3xV0q-8Zr1YbT6kQ2nWc4",
			}
		}},
		{"empty-with-error", func(lang dsar.Language) any {
			return AdminKeysPage{Page: Page{Lang: lang, Path: "/admin/keys", CSRF: "tok", Title: T(lang, "page.admin.keys.title", nil)},
				Roles: adminKeyRoles(lang), Controllers: []AdminChoice{{Value: "nte", Label: "NTE AS"}}, Scopes: adminKeyScopes(lang),
				Errors: []string{T(lang, "page.admin.keys.name", nil) + ": " + T(lang, "field.required", nil)},
			}
		}},
	},
	"admin_webhooks": {
		{"list", func(lang dsar.Language) any {
			return AdminWebhooksPage{Page: Page{Lang: lang, Path: "/admin/webhooks", CSRF: "tok", Title: T(lang, "page.admin.webhooks.title", nil)},
				Webhooks: []AdminWebhook{
					{ID: "w1", URL: "https://crm.example.com/hooks/dsar", Description: "CRM", Events: []dsar.WebhookEventType{dsar.WebhookRequestCompleted, dsar.WebhookRequestReceived},
						Controllers: []string{"nte"}, Enabled: true, FailingSince: ptr(time.Date(2025, 3, 5, 8, 0, 0, 0, time.UTC)), CreatedAt: time.Date(2025, 3, 1, 9, 0, 0, 0, oslo),
						Last: &dsar.WebhookAttempt{Outcome: dsar.WebhookRetrying, StatusCode: 503, At: time.Date(2025, 3, 5, 8, 0, 0, 0, time.UTC)}},
					{ID: "w2", URL: "https://tickets.example.com/in", Events: []dsar.WebhookEventType{dsar.WebhookTaskFailed}, DisabledReason: dsar.WebhookDisabledGone,
						DisabledAt: ptr(time.Date(2025, 3, 4, 10, 0, 0, 0, time.UTC)), CreatedAt: time.Date(2025, 2, 1, 9, 0, 0, 0, oslo),
						Last: &dsar.WebhookAttempt{Outcome: dsar.WebhookGone, StatusCode: 410, At: time.Date(2025, 3, 4, 10, 0, 0, 0, time.UTC)}},
					{ID: "w3", URL: "https://dw.example.com/dsar", Events: []dsar.WebhookEventType{dsar.WebhookExportReady}, Enabled: true, CreatedAt: time.Date(2025, 3, 6, 9, 0, 0, 0, oslo)},
				},
				Form:   AdminWebhookForm{Events: webhookEventChoices(lang), Controllers: []AdminChoice{{Value: "nte", Label: "NTE AS"}}},
				Notice: T(lang, "page.admin.webhooks.deleted", nil),
			}
		}},
		{"errors", func(lang dsar.Language) any {
			return AdminWebhooksPage{Page: Page{Lang: lang, Path: "/admin/webhooks", CSRF: "tok", Title: T(lang, "page.admin.webhooks.title", nil)},
				Form: AdminWebhookForm{URL: "ftp://crm.example.com", Description: "CRM", IncludeEmail: true, Events: webhookEventChoices(lang),
					Controllers: []AdminChoice{{Value: "nte", Label: "NTE AS", Checked: true}}},
				Errors: []string{T(lang, "page.admin.webhooks.url", nil) + ": " + T(lang, "field.webhook_url", nil),
					T(lang, "page.admin.webhooks.events", nil) + ": " + T(lang, "field.required", nil)},
			}
		}},
	},
	"admin_webhook": {
		{"new-secret-and-log", func(lang dsar.Language) any {
			w := AdminWebhook{ID: "w1", URL: "https://crm.example.com/hooks/dsar", Description: "CRM", Events: []dsar.WebhookEventType{dsar.WebhookRequestReceived},
				Controllers: []string{"nte"}, IncludeEmail: true, Enabled: true, PreviousUntil: ptr(time.Date(2025, 3, 6, 9, 0, 0, 0, time.UTC)),
				CreatedAt: time.Date(2025, 3, 1, 9, 0, 0, 0, oslo)}
			next := time.Date(2025, 3, 5, 8, 5, 0, 0, time.UTC)
			return AdminWebhookPage{Page: Page{Lang: lang, Path: "/admin/webhooks/w1", CSRF: "tok", Title: w.URL}, Webhook: w,
				Attempts: []*dsar.WebhookAttempt{
					{EventID: "evt_test_2", EventType: dsar.WebhookTest, Attempt: 1, Manual: true, Outcome: dsar.WebhookDelivered, StatusCode: 204,
						At: time.Date(2025, 3, 5, 9, 0, 0, 0, time.UTC), Duration: 42 * time.Millisecond},
					{EventID: "evt_1", EventType: dsar.WebhookRequestReceived, Attempt: 2, Outcome: dsar.WebhookRetrying, Error: "dial tcp: connection refused",
						At: time.Date(2025, 3, 5, 8, 0, 5, 0, time.UTC), NextAt: &next},
				},
				Form:   AdminWebhookForm{URL: w.URL, Description: w.Description, IncludeEmail: true, Events: webhookEventChoices(lang, dsar.WebhookRequestReceived), Controllers: []AdminChoice{{Value: "nte", Label: "NTE AS", Checked: true}}},
				Notice: T(lang, "page.admin.webhooks.rotated", nil), Secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
			}
		}},
		{"disabled-with-error", func(lang dsar.Language) any {
			w := AdminWebhook{ID: "w2", URL: "https://tickets.example.com/in", Events: []dsar.WebhookEventType{dsar.WebhookTaskFailed}, DisabledReason: dsar.WebhookDisabledFailing,
				DisabledAt: ptr(time.Date(2025, 3, 4, 10, 0, 0, 0, time.UTC)), CreatedAt: time.Date(2025, 2, 1, 9, 0, 0, 0, oslo)}
			return AdminWebhookPage{Page: Page{Lang: lang, Path: "/admin/webhooks/w2", CSRF: "tok", Title: w.URL}, Webhook: w,
				Form:      AdminWebhookForm{URL: w.URL, Events: webhookEventChoices(lang, dsar.WebhookTaskFailed), Controllers: []AdminChoice{{Value: "nte", Label: "NTE AS"}}},
				Redeliver: AdminWebhookRedeliver{From: "2025-03-05T10:00", To: "2025-03-04T10:00"},
				Errors:    []string{T(lang, "error.webhook_disabled", nil)},
			}
		}},
	},
	"datamap": {
		{"two-controllers", func(lang dsar.Language) any {
			return DataMapPage{Page: Page{Lang: lang, Path: "/datamap", CSRF: "tok", Staff: &Staff{User: "kari@nte.no", Section: "datamap"}},
				Controllers: []DataMapLink{{Key: "intility", Name: "Intility AS", Current: true}, {Key: "proviso", Name: "Proviso AS"}},
				Controller:  dataMapController()}
		}},
		{"empty", func(lang dsar.Language) any {
			return DataMapPage{Page: Page{Lang: lang, Path: "/datamap", CSRF: "tok", Staff: &Staff{User: "kari@nte.no", Section: "datamap"}},
				Controllers: []DataMapLink{{Key: "digiref", Name: "Digiref AS", Current: true}},
				Controller:  &dsar.Controller{Key: "digiref", LegalName: "Digiref AS"}}
		}},
	},
	"dashboard": {
		{"figures", func(lang dsar.Language) any {
			return DashboardPage{Page: Page{Lang: lang, Path: "/dashboard", CSRF: "tok", Staff: &Staff{User: "kari@nte.no", Section: "dashboard", Admin: true, Mailbox: true, Monitor: true}},
				Controllers: []string{"nte", "proviso"}, Controller: "nte", From: "2025-01-01", To: "2025-03-31",
				JSON: "/dashboard.json?controller=nte&from=2025-01-01&to=2025-03-31", Figures: dashboardFigures()}
		}},
		{"bad-date", func(lang dsar.Language) any {
			return DashboardPage{Page: Page{Lang: lang, Path: "/dashboard", CSRF: "tok", Staff: &Staff{User: "kari@nte.no", Section: "dashboard", Admin: true, Mailbox: true, Monitor: true}},
				Controllers: []string{"nte"}, From: "2025-13-01", To: "2025-03-31", JSON: "/dashboard.json?from=2025-13-01&to=2025-03-31",
				Error: "from: " + T(lang, "field.date", nil)}
		}},
		{"empty", func(lang dsar.Language) any {
			f := &dsar.Dashboard{Controllers: []string{"nte"}, From: dsar.NewDate(2025, 1, 1), To: dsar.NewDate(2025, 1, 31),
				Received: map[dsar.RequestType]int{}, Closed: map[dsar.Status]int{},
				Months: []dsar.DashboardMonth{{Month: "2025-01", ByType: map[dsar.RequestType]int{}}}}
			return DashboardPage{Page: Page{Lang: lang, Path: "/dashboard", CSRF: "tok", Staff: &Staff{User: "kari@nte.no", Section: "dashboard", Admin: true, Mailbox: true, Monitor: true}},
				Controllers: []string{"nte"}, Controller: "nte", From: "2025-01-01", To: "2025-01-31", JSON: "/dashboard.json", Figures: f}
		}},
	},
	"bulk": {
		{"approve", func(lang dsar.Language) any {
			return BulkPage{Page: Page{Lang: lang, Path: "/queue/bulk", CSRF: "tok", Staff: &Staff{User: "kari@nte.no", Section: "queue", Orgs: map[string]string{"nte": "NTE AS"}}},
				Action: "approve", Body: "Reviewed on Monday.", Skipped: 1, Confirm: "/queue/bulk?type=erasure", Back: "/queue?type=erasure",
				Cases: []QueueRow{{ID: "x", Reference: "7KQ2-M9XD", Controller: "nte", Type: dsar.TypeErasure, Status: dsar.StatusInProgress, DueDate: "2025-04-07"}}}
		}},
		{"none", func(lang dsar.Language) any {
			return BulkPage{Page: Page{Lang: lang, Path: "/queue/bulk", CSRF: "tok", Staff: &Staff{User: "kari@nte.no"}}, Action: "assign_me", Skipped: 3, Back: "/queue"}
		}},
	},
	"case": {
		{"transmit-failed", func(lang dsar.Language) any {
			return CasePage{Page: Page{Lang: lang, Path: "/cases/y", CSRF: "tok", Staff: &Staff{User: "kari@nte.no", Section: "queue", Orgs: map[string]string{"nte": "NTE AS"}}}, ID: "y", Reference: "H3PA-22QX", Controller: "nte",
				Type: dsar.TypePortability, Status: dsar.StatusCompleted, Regulation: dsar.RegulationGDPR, SubjectEmail: "kari@example.no", Language: dsar.LanguageNB,
				ReceivedAt: time.Date(2025, 3, 5, 9, 0, 0, 0, oslo), DueDate: "2025-04-07", ExtensionNoticeBy: "2025-04-07", DaysLeft: 12,
				Timeline: []CaseEvent{{At: time.Date(2025, 3, 5, 9, 0, 0, 0, oslo), Actor: "public", Kind: "created", To: dsar.StatusReceived}},
				Transmission: &TransmissionView{Organisation: "Kraftbytte AS", State: dsar.TransmitFailed, At: time.Date(2025, 3, 20, 15, 12, 0, 0, oslo),
					Attempts: 1, Status: 400, Reason: "the recipient answered 400 Bad Request"},
			}
		}},
		{"ccpa-agent", func(lang dsar.Language) any {
			return CasePage{Page: Page{Lang: lang, Path: "/cases/y", CSRF: "tok", Staff: &Staff{User: "kari@nte.no", Section: "queue", Orgs: map[string]string{"keto-diets": "Keto Diets Inc."}}}, ID: "y", Reference: "9QX4-T2RB", Controller: "keto-diets",
				Type: dsar.TypeErasure, Status: dsar.StatusAwaitingVerification, Regulation: dsar.RegulationCCPA, SubjectEmail: "jane.doe@example.com", Language: dsar.LanguageEN,
				SubjectName: "Jane Doe", ReceivedAt: time.Date(2025, 3, 5, 9, 0, 0, 0, oslo), DueDate: "2025-04-19", ExtensionNoticeBy: "2025-04-19", DaysLeft: 45,
				Agent:    &dsar.Agent{Name: "Privacy Helpers LLC", Email: "requests@privacyhelpers.example", Relationship: "registered business", Proof: "signed permission #4471", PowerOfAttorney: true},
				Timeline: []CaseEvent{{At: time.Date(2025, 3, 5, 9, 0, 0, 0, oslo), Actor: "apikey:portal", Kind: "created", To: dsar.StatusReceived}},
			}
		}},
		{"in-progress", func(lang dsar.Language) any {
			return CasePage{Page: Page{Lang: lang, Path: "/cases/x", CSRF: "tok", Staff: &Staff{User: "kari@nte.no", Section: "queue", Orgs: map[string]string{"nte": "NTE AS"}}}, ID: "x", Reference: "7KQ2-M9XD", Controller: "nte",
				Type: dsar.TypeErasure, Status: dsar.StatusInProgress, Regulation: dsar.RegulationGDPR, SubjectEmail: "kari@example.no", Language: dsar.LanguageNB, SubjectIDs: "12345",
				SubjectName: "Kari Nordmann", Details: "Delete my account.", ReceivedAt: time.Date(2025, 3, 5, 9, 0, 0, 0, oslo),
				DueDate: "2025-04-07", ExtensionNoticeBy: "2025-04-07", DaysLeft: 12, Verification: "subject, email_code",
				Timeline: []CaseEvent{{At: time.Date(2025, 3, 5, 9, 0, 0, 0, oslo), Actor: "public", Kind: "created", To: dsar.StatusReceived}},
				Actions:  []dsar.Action{dsar.ActionVerify, dsar.ActionAsk, dsar.ActionExtend, dsar.ActionAssign, dsar.ActionNote, dsar.ActionApprove, dsar.ActionComplete, dsar.ActionRefuse}, Grounds: dsar.Grounds, DuplicateOf: "01a2-earlier",
				Workers: []Worker{{ID: "u1", Email: "kari@nte.no"}, {ID: "u2", Email: "ola@nte.no"}}, Assignee: "ola@nte.no", AssigneeID: "u2",
				Plan: &PlanView{Tasks: []TaskRow{
					{Target: "customer-db", Name: "Kundedatabase", Action: dsar.ActionErase, Connector: dsar.ConnectorHTTP, Status: dsar.TaskPlanned, Categories: "contact, usage"},
					{Target: "meta-pixel", Name: "Meta Pixel", Action: dsar.ActionErase, Connector: dsar.ConnectorVendorMail, Status: dsar.TaskPlanned, Categories: "web"},
					{Target: "recipient:elhub", Name: "Elhub", Recipient: true, Action: dsar.ActionNotifyRecipient, Connector: dsar.ConnectorManual, Status: dsar.TaskPlanned}},
					Held:        []HeldRow{{What: "Invoices (Billing)", Why: "Bokføringsloven § 13", Until: "2030-12-31"}},
					Unreachable: []HeldRow{{What: "Postal service", Why: "Receives no data that can be changed afterwards."}}}}
		}},
		{"approved", func(lang dsar.Language) any {
			return CasePage{Page: Page{Lang: lang, Path: "/cases/z", CSRF: "tok", Staff: &Staff{User: "kari@nte.no", Section: "queue", Orgs: map[string]string{"nte": "NTE AS"}}}, ID: "z", Reference: "J4TB-8RWE", Controller: "nte",
				Type: dsar.TypeAccess, Status: dsar.StatusInProgress, Regulation: dsar.RegulationGDPR, SubjectEmail: "kari@example.no",
				ReceivedAt: time.Date(2025, 3, 5, 9, 0, 0, 0, oslo), DueDate: "2025-04-07", ExtensionNoticeBy: "2025-04-07", DaysLeft: 12,
				Verification: "subject, email_code", ApprovedBy: "kari@nte.no", ApprovedAt: time.Date(2025, 3, 6, 14, 5, 0, 0, oslo),
				Actions: []dsar.Action{dsar.ActionNote, dsar.ActionTaskDone, dsar.ActionSkipTask, dsar.ActionRetry}, FailedTasks: 2,
				Timeline: []CaseEvent{{At: time.Date(2025, 3, 6, 14, 5, 0, 0, oslo), Actor: "kari@nte.no", Kind: "task", From: dsar.StatusInProgress, To: dsar.StatusInProgress, Task: "crm · Export: Planned → Sent"}},
				Tasks: []TaskRow{
					{ID: "t1", Target: "crm", Name: "CRM", Action: dsar.ActionExport, Connector: dsar.ConnectorHTTP, Status: dsar.TaskDone, Count: 42},
					{ID: "t2", Target: "billing", Name: "Billing", Action: dsar.ActionExport, Connector: dsar.ConnectorHTTP, Status: dsar.TaskFailed, Answer: "HTTP 500: upstream down", Reason: "The system did not answer after the last allowed attempt.", CanDone: true, CanSkip: true, CanRetry: true},
					{ID: "t3", Target: "archive", Name: "Archive", Action: dsar.ActionExport, Connector: dsar.ConnectorManual, Status: dsar.TaskFailed, CanDone: true, CanSkip: true, CanRetry: true,
						Instructions: "Search the archive boxes by customer number.", Checklist: []string{"Boxes searched", "Copies scanned"}},
					{ID: "t4", Target: "ads", Name: "Ad platform", Action: dsar.ActionExport, Connector: dsar.ConnectorVendorMail, Status: dsar.TaskWaitingPerson, DueAt: &taskDue, Overdue: true, CanDone: true, CanSkip: true},
					{ID: "t5", Target: "analytics", Name: "Analytics", Action: dsar.ActionExport, Connector: dsar.ConnectorOpenDSR, Status: dsar.TaskWaitingSystem, ExpectedBy: &taskExpected, CanSkip: true},
					{ID: "t6", Target: "newsletter", Name: "Newsletter", Action: dsar.ActionExport, Connector: dsar.ConnectorManual, Status: dsar.TaskSkipped, Reason: "No account there."}}}
		}},
		{"refused", func(lang dsar.Language) any {
			return CasePage{Page: Page{Lang: lang, Path: "/cases/y", CSRF: "tok", Staff: &Staff{User: "kari@nte.no", Section: "queue", Orgs: map[string]string{"nte": "NTE AS"}}}, ID: "y", Reference: "H3PA-22QX", Controller: "intility",
				Type: dsar.TypeErasure, Status: dsar.StatusRefused, Regulation: dsar.RegulationGDPR, SubjectEmail: "ola@example.no",
				ReceivedAt: time.Date(2025, 3, 5, 9, 0, 0, 0, oslo), DueDate: "2025-04-07", ExtensionNoticeBy: "2025-04-07", Actions: []dsar.Action{dsar.ActionNote, dsar.ActionReopen}}
		}},
	},
}

// The times of the tasks of the approved case's golden page.
var (
	taskDue      = time.Date(2025, 3, 20, 9, 0, 0, 0, oslo)
	taskExpected = time.Date(2025, 3, 25, 12, 0, 0, 0, oslo)
)

// dataMapController is a data map with every part the page shows: an
// internal system and a processor's outside the EEA, a legal hold counted
// from the year's end and one from the request, a source, an automated
// decision, and recipients told by e-mail or not at all.
func dataMapController() *dsar.Controller {
	return &dsar.Controller{Key: "intility", LegalName: "Intility AS",
		PortabilityRecipients: []dsar.PortabilityRecipient{{Key: "kraftbytte", Name: "Kraftbytte AS", URL: "https://api.kraftbytte.example/dsar/packages",
			Secret: dsar.Secret{Env: "KRAFTBYTTE_PORTABILITY_SECRET"}, Timeout: 2 * time.Minute, MaxAttempts: 8}},
		DataCategories: []dsar.DataCategory{
			{Key: "orders", Name: "Bestillinger", Purpose: "Levere bestillinger og regnskap", Retention: "5 år (bokføring)",
				RetentionPeriod: dsar.RetentionPeriod{Years: 5}, RetentionTrigger: "utgangen av regnskapsåret",
				LegalBases: []dsar.LegalBasis{dsar.LegalBasisContract, dsar.LegalBasisLegalObligation},
				Hold:       &dsar.LegalHold{Law: "Bokføringsloven § 13", Period: dsar.RetentionPeriod{Years: 5}, FromYearEnd: true}},
			{Key: "credit", Name: "Kredittvurdering", Purpose: "Vurdere kreditt", Retention: "Så lenge kundeforholdet varer",
				LegalBases: []dsar.LegalBasis{dsar.LegalBasisLegitimateInterest}, Source: "Kredittopplysningsbyrået",
				Hold: &dsar.LegalHold{Law: "Hvitvaskingsloven § 30", Period: dsar.RetentionPeriod{Years: 1, Months: 6}}},
		},
		Recipients: []dsar.Recipient{
			{Key: "carrier", Name: "Posten Bring AS", Role: "Leverer pakker", Country: "NO",
				Notify: &dsar.Connector{Kind: dsar.ConnectorVendorMail, VendorMail: &dsar.VendorMailConnector{Email: "privacy@bring.example"}}},
			{Key: "google", Name: "Google Ireland Limited", Country: "US", Safeguard: dsar.SafeguardSCC,
				Unreachable: "Bare avidentifisert statistikk."},
		},
		Systems: []dsar.System{
			{Key: "webshop", Name: "Intility Webshop", Owner: "Innkjøp", Role: dsar.RoleProcessor, Vendor: "Webshop AS", Country: "NO",
				LegalBases: []dsar.LegalBasis{dsar.LegalBasisContract}, DataCategories: []string{"orders"}, Recipients: []string{"carrier"},
				Connector: dsar.Connector{Kind: dsar.ConnectorVendorMail, VendorMail: &dsar.VendorMailConnector{Email: "privacy@webshop.example"}}},
			{Key: "crm", Name: "CRM", Role: dsar.RoleInternal, Country: "US", Safeguard: dsar.SafeguardAdequacy, Marketing: true,
				LegalBases: []dsar.LegalBasis{dsar.LegalBasisLegitimateInterest, dsar.LegalBasisConsent}, DataCategories: []string{"credit", "orders"},
				AutomatedDecisions: []dsar.AutomatedDecision{{Name: "Kredittgrense", Logic: "Betalingshistorikk gir grensen.", Significance: "Avgjør om du kan handle på faktura."}},
				Connector:          dsar.Connector{Kind: dsar.ConnectorHTTP, HTTP: &dsar.HTTPConnector{URL: "https://crm.example/dsar", Secret: dsar.Secret{Env: "CRM_SECRET"}}}},
		},
	}
}

// dashboardFigures are the figures of the nte officer's dashboard of the
// first quarter of 2025 (as in the store's tests).
func dashboardFigures() *dsar.Dashboard {
	return &dsar.Dashboard{
		Controllers: []string{"nte"}, From: dsar.NewDate(2025, 1, 1), To: dsar.NewDate(2025, 3, 31),
		Now:           time.Date(2025, 4, 2, 10, 0, 0, 0, time.UTC),
		Received:      map[dsar.RequestType]int{dsar.TypeAccess: 2, dsar.TypeErasure: 1, dsar.TypeRectification: 1, dsar.TypePortability: 1},
		ReceivedTotal: 5,
		Months: []dsar.DashboardMonth{
			{Month: "2025-01", ByType: map[dsar.RequestType]int{dsar.TypeAccess: 1}, Total: 1},
			{Month: "2025-02", ByType: map[dsar.RequestType]int{dsar.TypeAccess: 1, dsar.TypeErasure: 1}, Total: 2},
			{Month: "2025-03", ByType: map[dsar.RequestType]int{dsar.TypeRectification: 1, dsar.TypePortability: 1}, Total: 2},
		},
		Extended: 1, Open: 2, DueSoon: 1, Overdue: 1,
		Closed:   map[dsar.Status]int{dsar.StatusCompleted: 3, dsar.StatusRefused: 2},
		Answered: 5, WithinOneMonth: 2, WithinThreeMonths: 4, ShareWithinOneMonth: 0.4, ShareWithinThreeMonths: 0.8,
		MedianDaysToClose: 35, MeanDaysToClose: 45.6,
		Refusals: []dsar.RefusalCount{{Ground: dsar.GroundManifestlyUnfounded, Whole: 1}, {Ground: dsar.GroundLegalObligation, Partial: 1}},
	}
}

// render renders page name with data and fails the test on an error.
func render(t *testing.T, name string, data any) string {
	t.Helper()
	var buf bytes.Buffer
	if err := RenderPage(&buf, name, data); err != nil {
		t.Fatalf("render %s: %v", name, err)
	}
	return buf.String()
}

func TestPagesRenderGolden(t *testing.T) {
	for _, name := range PageNames() {
		if len(pageCases[name]) == 0 {
			t.Errorf("page %s has no test case", name)
		}
	}
	for name, cases := range pageCases {
		for _, c := range cases {
			for _, lang := range dsar.Languages {
				t.Run(name+"/"+c.name+"/"+string(lang), func(t *testing.T) {
					data := c.data(lang)
					got := render(t, name, data)
					checkPage(t, got, data.(pageData).base())
					golden := filepath.Join("testdata", "pages", name, c.name+"."+string(lang)+".html")
					if updatingGoldens() {
						if err := os.MkdirAll(filepath.Dir(golden), 0o755); err != nil {
							t.Fatal(err)
						}
						if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
							t.Fatal(err)
						}
						return
					}
					want, err := os.ReadFile(golden)
					if err != nil {
						t.Fatalf("%v (run with -update to create it)", err)
					}
					if got != string(want) {
						t.Errorf("%s differs from the rendering (run with -update to accept):\n%s", golden, firstDiff(string(want), got))
					}
				})
			}
		}
	}
}

// firstDiff shows the first line where want and got differ.
func firstDiff(want, got string) string {
	wl, gl := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := 0; i < len(wl) || i < len(gl); i++ {
		var w, g string
		if i < len(wl) {
			w = wl[i]
		}
		if i < len(gl) {
			g = gl[i]
		}
		if w != g {
			return fmt.Sprintf("line %d:\n- %s\n+ %s", i+1, w, g)
		}
	}
	return "(no line differs)"
}

// voidElements have no end tag.
var voidElements = map[string]bool{
	"area": true, "base": true, "br": true, "col": true, "embed": true, "hr": true, "img": true,
	"input": true, "link": true, "meta": true, "source": true, "track": true, "wbr": true,
}

// checkWellFormed checks that every element the page opens it also closes,
// in order (the templates write every end tag), and that the page has no
// script, no external style sheet and no event handler attribute.
func checkWellFormed(t *testing.T, page string) {
	t.Helper()
	z := html.NewTokenizer(strings.NewReader(page))
	var stack []string
	for {
		tt := z.Next()
		switch tt {
		case html.ErrorToken:
			if z.Err() != io.EOF {
				t.Errorf("tokenize: %v", z.Err())
			}
			if len(stack) > 0 {
				t.Errorf("elements left open at the end: %v", stack)
			}
			return
		case html.StartTagToken, html.SelfClosingTagToken:
			tok := z.Token()
			switch tok.Data {
			case "script", "iframe", "object", "embed", "link":
				t.Errorf("page has a <%s> element", tok.Data)
			}
			for _, a := range tok.Attr {
				if strings.HasPrefix(a.Key, "on") {
					t.Errorf("<%s> has an event handler attribute %s", tok.Data, a.Key)
				}
			}
			if tt == html.StartTagToken && !voidElements[tok.Data] {
				stack = append(stack, tok.Data)
			}
		case html.EndTagToken:
			tok := z.Token()
			if len(stack) == 0 || stack[len(stack)-1] != tok.Data {
				t.Errorf("</%s> closes nothing it should (open: %v)", tok.Data, stack)
				continue
			}
			stack = stack[:len(stack)-1]
		}
	}
}

// parse parses a rendered page.
func parse(t *testing.T, page string) *html.Node {
	t.Helper()
	doc, err := html.Parse(strings.NewReader(page))
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	return doc
}

func attr(n *html.Node, key string) (string, bool) {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val, true
		}
	}
	return "", false
}

func attrOr(n *html.Node, key string) string {
	v, _ := attr(n, key)
	return v
}

// findAll returns the element nodes under n (n included) that match.
func findAll(n *html.Node, match func(*html.Node) bool) []*html.Node {
	var out []*html.Node
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode && match(n) {
			out = append(out, n)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(n)
	return out
}

func byTag(tags ...string) func(*html.Node) bool {
	return func(n *html.Node) bool { return slices.Contains(tags, n.Data) }
}

func byAttr(key, val string) func(*html.Node) bool {
	return func(n *html.Node) bool { v, ok := attr(n, key); return ok && v == val }
}

// text returns the text content of n with white space collapsed.
func text(n *html.Node) string {
	var b strings.Builder
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.TextNode {
			b.WriteString(n.Data)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(n)
	return strings.Join(strings.Fields(b.String()), " ")
}

// byID maps the ids of the page to their elements, reporting duplicates.
func byID(t *testing.T, doc *html.Node) map[string]*html.Node {
	t.Helper()
	ids := map[string]*html.Node{}
	for _, n := range findAll(doc, func(n *html.Node) bool { _, ok := attr(n, "id"); return ok }) {
		id := attrOr(n, "id")
		if _, dup := ids[id]; dup {
			t.Errorf("id %q is used twice", id)
		}
		ids[id] = n
	}
	return ids
}

// isControl reports whether n is a form control that people fill in.
func isControl(n *html.Node) bool {
	switch n.Data {
	case "select", "textarea":
		return true
	case "input":
		switch attrOr(n, "type") {
		case "hidden", "submit", "button", "reset", "image":
			return false
		}
		return true
	}
	return false
}

// labelled reports whether control has a <label for> or sits in a fieldset
// with a legend.
func labelled(doc, control *html.Node) bool {
	if id := attrOr(control, "id"); id != "" {
		if len(findAll(doc, func(n *html.Node) bool { return n.Data == "label" && attrOr(n, "for") == id && text(n) != "" })) > 0 {
			return true
		}
	}
	for p := control.Parent; p != nil; p = p.Parent {
		if p.Data == "fieldset" {
			for c := p.FirstChild; c != nil; c = c.NextSibling {
				if c.Type == html.ElementNode && c.Data == "legend" && text(c) != "" {
					return true
				}
			}
		}
	}
	return false
}

// checkPage runs the checks every page must pass.
func checkPage(t *testing.T, page string, p Page) {
	t.Helper()
	checkWellFormed(t, page)
	doc := parse(t, page)
	ids := byID(t, doc)

	htmlEl := findAll(doc, byTag("html"))[0]
	if got := attrOr(htmlEl, "lang"); got != string(p.Lang) {
		t.Errorf("<html lang=%q>, want %q", got, p.Lang)
	}
	// The page's own <title>, not those of its SVG charts.
	if titles := findAll(doc, func(n *html.Node) bool { return n.Data == "title" && n.Namespace == "" }); len(titles) != 1 || text(titles[0]) == "" {
		t.Error("the page needs one non-empty <title>")
	}
	if n := len(findAll(doc, byTag("h1"))); n != 1 {
		t.Errorf("the page has %d <h1>, want 1", n)
	}
	mains := findAll(doc, byTag("main"))
	if len(mains) != 1 || attrOr(mains[0], "id") != "main" {
		t.Error("the page needs one <main id=main>")
	}
	if skips := findAll(doc, byAttr("href", "#main")); len(skips) == 0 {
		t.Error("the page has no skip link to #main")
	}

	// The language switch links to the page in each language and marks
	// the current one.
	for _, lang := range dsar.Languages {
		links := findAll(doc, byAttr("href", p.Path+"?lang="+string(lang)))
		if len(links) != 1 {
			t.Errorf("want one link to %s?lang=%s, have %d", p.Path, lang, len(links))
			continue
		}
		_, current := attr(links[0], "aria-current")
		if current != (lang == p.Lang) {
			t.Errorf("link to %s: aria-current %v, want %v", lang, current, lang == p.Lang)
		}
	}

	// Every reference to an id points at an element of the page.
	for _, n := range findAll(doc, func(*html.Node) bool { return true }) {
		for _, key := range []string{"for", "aria-describedby", "aria-labelledby"} {
			v, ok := attr(n, key)
			if !ok {
				continue
			}
			if strings.TrimSpace(v) == "" {
				t.Errorf("<%s> has an empty %s", n.Data, key)
			}
			for _, id := range strings.Fields(v) {
				if ids[id] == nil {
					t.Errorf("<%s %s=%q>: no element has the id %q", n.Data, key, v, id)
				}
			}
		}
		if href := attrOr(n, "href"); n.Data == "a" && strings.HasPrefix(href, "#") && ids[href[1:]] == nil {
			t.Errorf("link to %s: no such id", href)
		}
	}

	// Every control has a label (or a fieldset with a legend) and a name.
	for _, c := range findAll(doc, isControl) {
		if !labelled(doc, c) {
			t.Errorf("<%s name=%q> has no label", c.Data, attrOr(c, "name"))
		}
		if attrOr(c, "name") == "" {
			t.Errorf("<%s id=%q> has no name", c.Data, attrOr(c, "id"))
		}
	}

	// Every form that changes something posts and carries the CSRF token; a
	// search form (method get) changes nothing and carries no token.
	for _, f := range findAll(doc, byTag("form")) {
		m := attrOr(f, "method")
		if a := attrOr(f, "action"); m == "get" && (a == "/queue" || a == "/dashboard") {
			continue
		}
		if m != "post" {
			t.Errorf("form %s: method %q, want post", attrOr(f, "action"), m)
		}
		csrf := findAll(f, func(n *html.Node) bool {
			return n.Data == "input" && attrOr(n, "type") == "hidden" && attrOr(n, "name") == "_csrf"
		})
		if len(csrf) != 1 || attrOr(csrf[0], "value") != p.CSRF {
			t.Errorf("form %s: want one hidden _csrf input with the page's token", attrOr(f, "action"))
		}
	}
}

func TestPageFormFields(t *testing.T) {
	for _, lang := range dsar.Languages {
		data := FormPage{
			Page:          ntePage(lang, "/c/nte"),
			ControllerKey: "nte",
			Types:         dsar.RequestTypes,
			Identifiers:   []string{dsar.IdentifierCustomerID, dsar.IdentifierPhone},
			Values: FormValues{
				Type: "portability", Email: "kari@example.no", Name: "Kari Nordmann", Phone: "+47 912 34 567",
				CustomerID: "7001234", Details: "Line 1\nLine 2", Language: "en", TransmitTo: "other", TransmitOrganisation: "Tibber AS",
				Inaccurate: "Old address", Correct: "New address",
			},
			Honeypot: "website",
		}
		doc := parse(t, render(t, "form", data))
		forms := findAll(doc, byTag("form"))
		if len(forms) != 1 || attrOr(forms[0], "action") != "/c/nte" {
			t.Fatalf("%s: want one form posting to /c/nte", lang)
		}
		names := map[string]*html.Node{}
		for _, c := range findAll(doc, isControl) {
			if c.Data == "input" && attrOr(c, "type") == "radio" {
				continue
			}
			names[attrOr(c, "name")] = c
		}
		value := func(name string) string {
			n := names[name]
			if n == nil {
				return ""
			}
			if n.Data == "textarea" {
				return text(n)
			}
			return attrOr(n, "value")
		}
		for name, want := range map[string]string{
			"email": "kari@example.no", "name": "Kari Nordmann", "phone": "+47 912 34 567",
			"customer_id": "7001234", "details": "Line 1 Line 2", "transmit_organisation": "Tibber AS",
			"inaccurate": "Old address", "correct": "New address",
		} {
			if names[name] == nil {
				t.Errorf("%s: no field %q", lang, name)
				continue
			}
			if got := value(name); got != want {
				t.Errorf("%s: field %s keeps %q, want %q", lang, name, got, want)
			}
		}
		email := names["email"]
		if email == nil {
			t.Fatalf("%s: no email field", lang)
		}
		if attrOr(email, "type") != "email" || attrOr(email, "autocomplete") != "email" {
			t.Errorf("%s: the email field needs type=email autocomplete=email", lang)
		}
		if _, ok := attr(email, "required"); !ok {
			t.Errorf("%s: the email field is not required", lang)
		}

		radios := findAll(doc, func(n *html.Node) bool {
			return n.Data == "input" && attrOr(n, "type") == "radio" && attrOr(n, "name") == "type"
		})
		if objection := findAll(doc, byAttr("name", "objection")); len(objection) != 3 {
			t.Errorf("%s: %d choices of objection, want direct marketing, Art 21(1) and unsure", lang, len(objection))
		}
		if len(radios) != len(dsar.RequestTypes) {
			t.Errorf("%s: %d radios, want one per request type", lang, len(radios))
		}
		for i, r := range radios {
			if attrOr(r, "name") != "type" || attrOr(r, "value") != string(dsar.RequestTypes[i]) {
				t.Errorf("%s: radio %d is %s=%s", lang, i, attrOr(r, "name"), attrOr(r, "value"))
			}
			_, checked := attr(r, "checked")
			if checked != (dsar.RequestTypes[i] == dsar.TypePortability) {
				t.Errorf("%s: radio %s checked=%v", lang, attrOr(r, "value"), checked)
			}
			// The explanation is tied to the radio.
			hint := findAll(doc, byAttr("id", attrOr(r, "aria-describedby")))
			if len(hint) != 1 || text(hint[0]) != T(lang, "right."+string(dsar.RequestTypes[i])+".explanation", nil) {
				t.Errorf("%s: radio %s is not described by its explanation", lang, attrOr(r, "value"))
			}
		}
		if fs := findAll(doc, byTag("fieldset")); len(fs) == 0 || findAll(fs[0], byTag("legend")) == nil {
			t.Errorf("%s: the rights are not in a fieldset with a legend", lang)
		}

		sel := names["language"]
		if sel == nil || sel.Data != "select" {
			t.Fatalf("%s: no language select", lang)
		}
		var opts, selected []string
		for _, o := range findAll(sel, byTag("option")) {
			opts = append(opts, attrOr(o, "value"))
			if _, ok := attr(o, "selected"); ok {
				selected = append(selected, attrOr(o, "value"))
			}
		}
		if !slices.Equal(opts, []string{"nb", "en"}) || !slices.Equal(selected, []string{"en"}) {
			t.Errorf("%s: language options %v selected %v, want [nb en] selected [en]", lang, opts, selected)
		}

		// The honeypot is there for bots only.
		hp := names["website"]
		if hp == nil {
			t.Fatalf("%s: no honeypot field", lang)
		}
		if attrOr(hp, "tabindex") != "-1" || attrOr(hp, "autocomplete") != "off" || attrOr(hp, "value") != "" {
			t.Errorf("%s: the honeypot needs tabindex=-1, autocomplete=off and no value", lang)
		}
		hidden := false
		for p := hp.Parent; p != nil; p = p.Parent {
			if attrOr(p, "aria-hidden") == "true" && strings.Contains(attrOr(p, "class"), "hp") {
				hidden = true
			}
		}
		if !hidden {
			t.Errorf("%s: the honeypot is not inside an aria-hidden off-screen container", lang)
		}
		if labels := findAll(doc, byAttr("for", attrOr(hp, "id"))); len(labels) != 1 || text(labels[0]) != T(lang, "page.form.honeypot.label", nil) {
			t.Errorf("%s: the honeypot's label does not tell people to leave it empty", lang)
		}
	}
}

func TestPageFormWithoutOptionalParts(t *testing.T) {
	data := FormPage{
		Page:          ntePage(dsar.LanguageEN, "/c/proviso"),
		ControllerKey: "proviso",
		Types:         []dsar.RequestType{dsar.TypeAccess, dsar.TypeErasure},
	}
	doc := parse(t, render(t, "form", data))
	for _, name := range []string{"phone", "customer_id", "transmit_to", "transmit_organisation", "inaccurate", "correct"} {
		if n := findAll(doc, byAttr("name", name)); len(n) != 0 {
			t.Errorf("field %s is shown, but the form does not ask for it", name)
		}
	}
	if n := findAll(doc, byAttr("aria-hidden", "true")); len(n) != 0 {
		t.Error("a honeypot is shown without a Honeypot name")
	}
}

func TestPageFormErrors(t *testing.T) {
	for _, lang := range dsar.Languages {
		errs := map[string]string{}
		for _, f := range formFields {
			errs[f.name] = fmt.Sprintf("Problem with %s.", f.name)
		}
		errs["captcha"] = "Something else went wrong."
		data := FormPage{
			Page:          ntePage(lang, "/c/nte"),
			ControllerKey: "nte",
			Types:         dsar.RequestTypes,
			Identifiers:   []string{dsar.IdentifierPhone, dsar.IdentifierCustomerID},
			Regulations:   dsar.Regulations,
			Recipients:    []Choice{{Key: "kraftbytte", Name: "Kraftbytte AS"}},
			Errors:        errs,
			Honeypot:      "website",
		}
		page := render(t, "form", data)
		checkPage(t, page, data.Page)
		doc := parse(t, page)
		ids := byID(t, doc)

		title := text(findAll(doc, byTag("title"))[0])
		if !strings.HasPrefix(title, T(lang, "page.error_prefix", nil)) {
			t.Errorf("%s: title %q does not start with the error prefix", lang, title)
		}

		// Each error sits beside its field and describes it.
		for _, f := range formFields {
			msg := errs[f.name]
			errEl := ids[f.name+"-error"]
			if errEl == nil || !strings.Contains(text(errEl), msg) {
				t.Errorf("%s: no %s-error element with %q", lang, f.name, msg)
				continue
			}
			var described *html.Node
			switch f.name {
			case "type":
				described = findAll(doc, byTag("fieldset"))[0]
				if errEl.Parent != described {
					t.Errorf("%s: the type error is not in the fieldset", lang)
				}
			case "objection", "regulation", "transmit_to": // a group of choices, like the type
				described = errEl.Parent
				if described.Data != "fieldset" {
					t.Errorf("%s: the %s error is not in its fieldset", lang, f.name)
				}
			default:
				controls := findAll(doc, byAttr("name", f.name))
				if len(controls) != 1 {
					t.Errorf("%s: want one control named %s, have %d", lang, f.name, len(controls))
					continue
				}
				described = controls[0]
				if attrOr(described, "aria-invalid") != "true" {
					t.Errorf("%s: %s has no aria-invalid=true", lang, f.name)
				}
				if described.Parent != errEl.Parent {
					t.Errorf("%s: the error of %s is not beside the field", lang, f.name)
				}
			}
			if !slices.Contains(strings.Fields(attrOr(described, "aria-describedby")), f.name+"-error") {
				t.Errorf("%s: %s is not described by %s-error (aria-describedby=%q)", lang, f.name, f.name, attrOr(described, "aria-describedby"))
			}
		}

		// The summary lists them all in the order of the form, linking to
		// the fields.
		summary := findAll(doc, func(n *html.Node) bool { return strings.Contains(attrOr(n, "class"), "error-summary") })
		if len(summary) != 1 || attrOr(summary[0], "role") != "alert" {
			t.Fatalf("%s: want one error summary with role=alert", lang)
		}
		items := findAll(summary[0], byTag("li"))
		if len(items) != len(formFields)+1 {
			t.Fatalf("%s: the summary has %d items, want %d", lang, len(items), len(formFields)+1)
		}
		for i, f := range formFields {
			links := findAll(items[i], byTag("a"))
			if len(links) != 1 || !strings.Contains(text(links[0]), errs[f.name]) {
				t.Errorf("%s: summary item %d is not a link with the %s error", lang, i, f.name)
				continue
			}
			target := ids[strings.TrimPrefix(attrOr(links[0], "href"), "#")]
			if target == nil || (attrOr(target, "name") != f.name) {
				t.Errorf("%s: summary link %s does not lead to the %s field", lang, attrOr(links[0], "href"), f.name)
			}
		}
		if last := items[len(items)-1]; text(last) != errs["captcha"] || len(findAll(last, byTag("a"))) != 0 {
			t.Errorf("%s: an error of no field should be listed last, without a link", lang)
		}
	}
}

func TestPageFormNoErrorsNoSummary(t *testing.T) {
	page := render(t, "form", pageCases["form"][0].data(dsar.LanguageNB))
	doc := parse(t, page)
	if n := findAll(doc, func(n *html.Node) bool {
		_, ok := attr(n, "aria-invalid")
		return ok || strings.Contains(attrOr(n, "class"), "error")
	}); len(n) != 0 {
		t.Errorf("a form without errors shows %d error elements", len(n))
	}
}

func TestPageCheckEmail(t *testing.T) {
	for _, lang := range dsar.Languages {
		data := pageCases["check_email"][1].data(lang).(CheckEmailPage)
		page := render(t, "check_email", data)
		doc := parse(t, page)
		if !strings.Contains(text(doc), data.MaskedEmail) {
			t.Errorf("%s: the masked address is not shown", lang)
		}
		if !strings.Contains(text(doc), T(lang, "page.check_email.valid.one", map[string]any{"n": 1})) {
			t.Errorf("%s: the validity (1 hour) is not shown in the singular", lang)
		}
		code := findAll(doc, byAttr("name", "code"))
		if len(code) != 1 {
			t.Fatalf("%s: want one code input", lang)
		}
		for key, want := range map[string]string{
			"inputmode": "numeric", "autocomplete": "one-time-code", "pattern": "[0-9]{6}", "aria-invalid": "true",
		} {
			if got := attrOr(code[0], key); got != want {
				t.Errorf("%s: code input %s=%q, want %q", lang, key, got, want)
			}
		}
		alert := findAll(doc, byAttr("role", "alert"))
		if len(alert) != 1 || text(alert[0]) != T(lang, "page.error_prefix", nil)+" "+data.Error {
			t.Errorf("%s: the error is not shown as an alert", lang)
		}
		var actions []string
		for _, f := range findAll(doc, byTag("form")) {
			actions = append(actions, attrOr(f, "action"))
		}
		if !slices.Equal(actions, []string{data.Action, data.Resend}) {
			t.Errorf("%s: forms post to %v, want %v", lang, actions, []string{data.Action, data.Resend})
		}

		notice := pageCases["check_email"][2].data(lang).(CheckEmailPage)
		doc = parse(t, render(t, "check_email", notice))
		if st := findAll(doc, byAttr("role", "status")); len(st) != 1 || text(st[0]) != notice.Notice {
			t.Errorf("%s: the notice is not shown with role=status", lang)
		}
		if len(findAll(doc, byAttr("role", "alert"))) != 0 {
			t.Errorf("%s: an alert is shown without an error", lang)
		}
	}
}

func TestPageStatus(t *testing.T) {
	for _, lang := range dsar.Languages {
		data := pageCases["status"][0].data(lang).(StatusPage)
		doc := parse(t, render(t, "status", data))
		body := text(doc)
		for _, want := range []string{
			data.Reference,
			T(lang, "type.access", nil),
			T(lang, "status.awaiting_subject", nil),
			T(lang, "page.status.about.awaiting_subject", nil),
			byLang(lang, "3. mars 2025", "3 March 2025"),
			byLang(lang, "3. juni 2025", "3 June 2025"),
			byLang(lang, "10. mars 2025 kl. 14.05", "10 March 2025, 14:05"),
			T(lang, "page.status.extended", nil),
			T(lang, "page.status.reply.document.deleted", nil),
		} {
			if !strings.Contains(body, want) {
				t.Errorf("%s: the status page does not say %q", lang, want)
			}
		}
		if times := findAll(doc, byAttr("datetime", "2025-06-03")); len(times) != 1 {
			t.Errorf("%s: the due date has no <time datetime>", lang)
		}
		ol := findAll(doc, func(n *html.Node) bool { return n.Data == "ol" && attrOr(n, "class") == "timeline" })
		if len(ol) != 1 || len(findAll(ol[0], byTag("li"))) != len(data.History) {
			t.Errorf("%s: the history is not an <ol> of %d items", lang, len(data.History))
		}

		forms := findAll(doc, byTag("form"))
		if len(forms) != 2 {
			t.Fatalf("%s: want a reply and a withdraw form, have %d forms", lang, len(forms))
		}
		reply, withdraw := forms[0], forms[1]
		if attrOr(reply, "action") != data.ReplyAction || attrOr(reply, "enctype") != "multipart/form-data" {
			t.Errorf("%s: the identity reply form must post multipart/form-data to %s", lang, data.ReplyAction)
		}
		if len(findAll(reply, func(n *html.Node) bool { return n.Data == "textarea" && attrOr(n, "name") == "body" })) != 1 {
			t.Errorf("%s: the reply form has no body textarea", lang)
		}
		if len(findAll(reply, func(n *html.Node) bool { return attrOr(n, "type") == "file" && attrOr(n, "name") == "document" })) != 1 {
			t.Errorf("%s: the identity reply form has no document file input", lang)
		}
		if attrOr(withdraw, "action") != data.WithdrawAction {
			t.Errorf("%s: the withdraw form posts to %s", lang, attrOr(withdraw, "action"))
		}
		confirm := findAll(withdraw, byAttr("name", "confirm"))
		if len(confirm) != 1 || attrOr(confirm[0], "type") != "checkbox" || len(findAll(withdraw, byTag("button"))) != 1 {
			t.Errorf("%s: the withdraw form needs a confirm checkbox and a button", lang)
		}

		// A clarification: a plain form with no file.
		clar := pageCases["status"][1].data(lang).(StatusPage)
		doc = parse(t, render(t, "status", clar))
		reply = findAll(doc, byTag("form"))[0]
		if _, ok := attr(reply, "enctype"); ok || len(findAll(reply, byAttr("type", "file"))) != 0 {
			t.Errorf("%s: the clarification form should not upload files", lang)
		}
		if msgs := findAll(doc, func(n *html.Node) bool { return strings.HasPrefix(attrOr(n, "class"), "message") && n.Data == "li" }); len(msgs) != 3 {
			t.Errorf("%s: %d messages shown, want 3", lang, len(msgs))
		}

		// A closed request: no forms at all.
		done := pageCases["status"][2].data(lang).(StatusPage)
		doc = parse(t, render(t, "status", done))
		if n := len(findAll(doc, byTag("form"))); n != 0 {
			t.Errorf("%s: a completed request shows %d forms", lang, n)
		}
	}
}

// hostile is a value that would break out of every HTML context if it were
// not escaped.
const hostile = `<script>alert("x")</script>' onmouseover='x' "><img src=x onerror=alert(1)>&amp;`

func TestPagesEscapeHostileValues(t *testing.T) {
	for _, lang := range dsar.Languages {
		p := Page{
			Lang:         lang,
			Path:         `/c/x"><script>alert(1)</script>`,
			Brand:        Brand{Name: hostile, Logo: "javascript:alert(1)", PrimaryColor: `#000;}</style><script>alert(1)</script>`, AccentColor: `red;background:url(x)`},
			ContactEmail: `a@b.no"><script>alert(1)</script>`,
			CSRF:         hostile,
			Title:        hostile,
		}
		pages := map[string]any{
			"index": IndexPage{Page: p, Controllers: []ControllerLink{{Key: hostile, Name: hostile, Jurisdiction: hostile}}},
			"form": FormPage{
				Page: p, ControllerKey: hostile, Types: dsar.RequestTypes, Identifiers: dsar.Identifiers,
				Values: FormValues{
					Type: hostile, Email: hostile, Name: hostile, Phone: hostile, CustomerID: hostile,
					Details: hostile, Language: hostile, TransmitTo: hostile, TransmitOrganisation: hostile, Inaccurate: hostile, Correct: hostile,
				},
				Recipients: []Choice{{Key: hostile, Name: hostile}},
				Errors:     map[string]string{"email": hostile, "type": hostile, hostile: hostile},
				Honeypot:   hostile,
			},
			"check_email":  CheckEmailPage{Page: p, Action: hostile, Resend: hostile, MaskedEmail: hostile, Error: hostile, Notice: hostile, ExpiresHours: 24},
			"confirm_link": ConfirmLinkPage{Page: p, Action: hostile, Reference: hostile},
			"vendor": VendorPage{Page: p, Action: hostile, Controller: hostile, Reference: hostile, System: hostile, TaskAction: dsar.ActionStopProcessing,
				Purposes: []string{hostile}, Categories: []string{hostile}, Details: hostile, Email: hostile, CustomerID: hostile, By: hostile,
				Outcome: hostile, Count: hostile, Evidence: hostile, Errors: map[string]string{"outcome": hostile, "count": hostile, "evidence": hostile}, Error: hostile},
			"status": StatusPage{
				Page: p, Reference: hostile, Type: dsar.TypeAccess, Status: dsar.StatusInProgress,
				ReceivedAt: time.Date(2025, 3, 3, 9, 0, 0, 0, oslo), DueDate: hostile,
				History:     []HistoryItem{{At: time.Date(2025, 3, 3, 9, 0, 0, 0, oslo), Text: hostile}},
				Messages:    []MessageItem{{At: time.Date(2025, 3, 4, 9, 0, 0, 0, oslo), Kind: hostile, Body: hostile}, {FromSubject: true, Body: hostile}},
				ReplyAction: hostile, ReplyKind: "identity", WithdrawAction: hostile, Error: hostile, Notice: hostile,
			},
			"error":    ErrorPage{Page: p, Message: hostile, Status: 500},
			"signin":   SignInPage{Page: p, Email: hostile, Next: hostile, Error: hostile},
			"password": PasswordPage{Page: p, MinLength: 12, Error: hostile},
			"case":     CasePage{Page: p, ID: hostile, Reference: hostile, Controller: hostile, Type: dsar.TypeAccess, Status: dsar.StatusInProgress, Regulation: dsar.RegulationGDPR, SubjectEmail: hostile, SubjectName: hostile, Details: hostile, DueDate: "2025-03-03", ExtensionNoticeBy: "2025-03-03", Timeline: []CaseEvent{{Actor: hostile, Kind: hostile, Reason: hostile}}, Actions: dsar.AllActions, Grounds: dsar.Grounds},
			"queue":    QueuePage{Page: p, NextPage: hostile, Rows: []QueueRow{{Reference: hostile, Controller: hostile, Type: dsar.TypeAccess, Status: dsar.StatusReceived, DueDate: "2025-03-03"}}},
			"dashboard": func() DashboardPage {
				f := dashboardFigures()
				f.Refusals = append(f.Refusals, dsar.RefusalCount{Ground: dsar.Ground(hostile), Whole: 2})
				f.Months[0].Month = hostile
				return DashboardPage{Page: p, Controllers: []string{hostile}, Controller: hostile,
					From: hostile, To: hostile, JSON: hostile, Error: hostile, Figures: f}
			}(),
			"mailbox": MailboxPage{Page: p, Entries: []MailboxEntry{{Name: hostile, To: hostile, From: hostile, Subject: hostile}}, Open: &MailboxEntry{Subject: hostile, From: hostile, To: hostile}, Text: hostile},
			"admin_users": AdminUsersPage{Page: p, Users: []AdminUser{{ID: hostile, Email: hostile, Role: dsar.Role(hostile), Controllers: []string{hostile}}},
				Roles: []AdminChoice{{Value: hostile, Label: hostile}}, Controllers: []AdminChoice{{Value: hostile, Label: hostile}}, Email: hostile, Errors: []string{hostile}, Notice: hostile, Password: hostile},
			"admin_user": AdminUserPage{Page: p, User: AdminUser{ID: hostile, Email: hostile, Role: dsar.Role(hostile), Controllers: []string{hostile}},
				Roles: []AdminChoice{{Value: hostile, Label: hostile}}, Controllers: []AdminChoice{{Value: hostile, Label: hostile}}, Errors: []string{hostile}, Notice: hostile, Password: hostile},
			"datamap": DataMapPage{Page: p, Controllers: []DataMapLink{{Key: hostile, Name: hostile}, {Key: "x", Name: "x"}}, Controller: &dsar.Controller{
				Key: hostile, LegalName: hostile,
				DataCategories: []dsar.DataCategory{{Key: hostile, Name: hostile, Purpose: hostile, Retention: hostile, Source: hostile, Hold: &dsar.LegalHold{Law: hostile}}},
				Recipients:     []dsar.Recipient{{Key: hostile, Name: hostile, Role: hostile, Country: hostile, Unreachable: hostile}},
				Systems: []dsar.System{{Key: hostile, Name: hostile, Owner: hostile, Vendor: hostile, Country: hostile, Role: dsar.RoleInternal,
					DataCategories: []string{hostile}, Recipients: []string{hostile, "unknown"}, Connector: dsar.Connector{Kind: dsar.ConnectorManual},
					AutomatedDecisions: []dsar.AutomatedDecision{{Name: hostile, Logic: hostile, Significance: hostile}}}},
			}},
			"admin_webhooks": AdminWebhooksPage{Page: p, Webhooks: []AdminWebhook{{ID: hostile, URL: hostile, Description: hostile, Events: []dsar.WebhookEventType{dsar.WebhookEventType(hostile)},
				Controllers: []string{hostile}, DisabledReason: dsar.WebhookDisabledByAdmin, Last: &dsar.WebhookAttempt{Outcome: dsar.WebhookFailed, Error: hostile}}},
				Form:   AdminWebhookForm{URL: hostile, Description: hostile, Events: []AdminChoice{{Value: hostile, Label: hostile}}, Controllers: []AdminChoice{{Value: hostile, Label: hostile}}},
				Errors: []string{hostile}, Notice: hostile},
			"admin_webhook": AdminWebhookPage{Page: p, Webhook: AdminWebhook{ID: hostile, URL: hostile, Description: hostile, Events: []dsar.WebhookEventType{dsar.WebhookEventType(hostile)}, Controllers: []string{hostile}, Enabled: true},
				Attempts:  []*dsar.WebhookAttempt{{EventID: hostile, EventType: dsar.WebhookEventType(hostile), Outcome: dsar.WebhookFailed, Error: hostile}},
				Form:      AdminWebhookForm{URL: hostile, Description: hostile, Events: []AdminChoice{{Value: hostile, Label: hostile}}, Controllers: []AdminChoice{{Value: hostile, Label: hostile}}},
				Redeliver: AdminWebhookRedeliver{EventID: hostile, From: hostile, To: hostile}, Errors: []string{hostile}, Notice: hostile, Secret: hostile},
			"admin_keys": AdminKeysPage{Page: p, Keys: []AdminKey{{ID: hostile, Name: hostile, Role: dsar.Role(hostile), Controllers: []string{hostile}, Scopes: []dsar.Scope{dsar.Scope(hostile)}}},
				Roles: []AdminChoice{{Value: hostile, Label: hostile}}, Scopes: []AdminChoice{{Value: hostile, Label: hostile}}, Controllers: []AdminChoice{{Value: hostile, Label: hostile}}, Name: hostile, Errors: []string{hostile}, Notice: hostile, Secret: hostile},
		}
		for name, data := range pages {
			page := render(t, name, data)
			if strings.Contains(page, "<script") || strings.Contains(page, "<img src=x") || strings.Contains(page, "javascript:") {
				t.Errorf("%s/%s: a hostile value reached the page unescaped", name, lang)
			}
			checkWellFormed(t, page)
			doc := parse(t, page)
			for _, n := range findAll(doc, func(*html.Node) bool { return true }) {
				if n.Data == "script" || (n.Data == "img" && attrOr(n, "src") == "x") {
					t.Errorf("%s/%s: a hostile value made a <%s>", name, lang, n.Data)
				}
				for _, a := range n.Attr {
					if strings.HasPrefix(a.Key, "on") {
						t.Errorf("%s/%s: a hostile value made an attribute %s", name, lang, a.Key)
					}
				}
			}
			// Escaped, the value still reads as it was written.
			if !strings.Contains(text(doc), strings.Join(strings.Fields(hostile), " ")) {
				t.Errorf("%s/%s: the hostile value is not shown as text", name, lang)
			}
			style := text(findAll(doc, byTag("style"))[0])
			if !strings.Contains(style, "--brand:"+DefaultPrimaryColor+";") || !strings.Contains(style, "--accent:"+DefaultAccentColor+"}") {
				t.Errorf("%s/%s: invalid brand colours did not fall back to the defaults", name, lang)
			}
		}
		// Values in attributes come back exactly.
		doc := parse(t, render(t, "form", pages["form"]))
		if email := findAll(doc, byAttr("name", "email")); len(email) != 1 || attrOr(email[0], "value") != hostile {
			t.Errorf("%s: the e-mail value does not round-trip through the attribute", lang)
		}
		if csrf := findAll(doc, byAttr("name", "_csrf")); len(csrf) != 1 || attrOr(csrf[0], "value") != hostile {
			t.Errorf("%s: the CSRF token does not round-trip through the attribute", lang)
		}
	}
}

func TestContrastRatio(t *testing.T) {
	for _, c := range []struct {
		a, b string
		want float64
	}{
		{"#000000", "#ffffff", 21},
		{"#ffffff", "#000000", 21},
		{"#ffffff", "#ffffff", 1},
		{"#777777", "#ffffff", 4.48},
		{"#767676", "#ffffff", 4.54},
		{"#FFFF00", "#ffffff", 1.07},
		{"#003a5d", "#ffffff", 11.91},
	} {
		got, ok := ContrastRatio(c.a, c.b)
		if !ok || math.Abs(got-c.want) > 0.01 {
			t.Errorf("ContrastRatio(%s, %s) = %.3f, %v; want %.2f", c.a, c.b, got, ok, c.want)
		}
	}
	for _, bad := range []string{"", "#fff", "003a5d", "#003a5g", "#003a5d0", "red"} {
		if _, ok := ContrastRatio(bad, "#ffffff"); ok {
			t.Errorf("ContrastRatio(%q) accepted", bad)
		}
	}
}

func TestContrastBrandFallback(t *testing.T) {
	for _, c := range []struct {
		brand        Brand
		primary, acc string
	}{
		{Brand{PrimaryColor: "#ffff00"}, DefaultPrimaryColor, DefaultAccentColor}, // yellow: 1.07:1
		{Brand{PrimaryColor: "#003a5d", AccentColor: "#f5a623"}, "#003a5d", "#f5a623"},
		{Brand{PrimaryColor: "#1E3A8A"}, "#1e3a8a", DefaultAccentColor},           // dark blue, upper case
		{Brand{PrimaryColor: "#777777"}, DefaultPrimaryColor, DefaultAccentColor}, // 4.48:1 is not 4.5:1
		{Brand{PrimaryColor: "#767676"}, "#767676", DefaultAccentColor},
		{Brand{}, DefaultPrimaryColor, DefaultAccentColor},
		{Brand{PrimaryColor: "navy", AccentColor: "#12345"}, DefaultPrimaryColor, DefaultAccentColor},
	} {
		primary, accent := brandColors(c.brand)
		if primary != c.primary || accent != c.acc {
			t.Errorf("brandColors(%+v) = %s, %s; want %s, %s", c.brand, primary, accent, c.primary, c.acc)
		}
		// The page uses the checked colours.
		data := ErrorPage{Page: Page{Lang: dsar.LanguageEN, Path: "/", Brand: c.brand}, Message: "x"}
		style := text(findAll(parse(t, render(t, "error", data)), byTag("style"))[0])
		if !strings.Contains(style, "--brand:"+c.primary+";") || !strings.Contains(style, "--accent:"+c.acc+"}") {
			t.Errorf("brand %+v: the style sheet does not use %s and %s", c.brand, c.primary, c.acc)
		}
		if c.primary == DefaultPrimaryColor && c.brand.PrimaryColor != "" && strings.Contains(strings.ToLower(style), strings.ToLower(c.brand.PrimaryColor)) {
			t.Errorf("brand %+v: the unreadable colour is still in the style sheet", c.brand)
		}
	}
	for _, def := range []string{DefaultPrimaryColor, DefaultAccentColor} {
		if r, ok := ContrastRatio(def, "#ffffff"); !ok || r < minTextContrast {
			t.Errorf("default colour %s has contrast %.2f against white", def, r)
		}
	}
	// The darker and lighter shades stay readable with the text on them.
	for _, primary := range []string{DefaultPrimaryColor, "#767676", "#003a5d", "#b3261e"} {
		p, _ := parseHexColor(primary)
		dark, tint := p.mix(rgb{}, 0.25), p.mix(white, 0.92)
		if r := contrast(dark, white); r < minTextContrast {
			t.Errorf("%s: --brand-dark %s has contrast %.2f with white text", primary, dark, r)
		}
		if r := contrast(tint, rgb{0x1b, 0x1f, 0x24}); r < minTextContrast {
			t.Errorf("%s: --brand-tint %s has contrast %.2f with the text colour", primary, tint, r)
		}
	}
}

// The fixed colours of the style sheet reach 4.5:1 with the backgrounds
// they are used on.
func TestContrastOfLayoutColours(t *testing.T) {
	b, err := fs.ReadFile(pageFiles, pageLayout)
	if err != nil {
		t.Fatal(err)
	}
	vars := map[string]string{}
	for _, m := range regexp.MustCompile(`--([a-z-]+):(#[0-9a-f]{6})`).FindAllStringSubmatch(string(b), -1) {
		vars[m[1]] = m[2]
	}
	for _, c := range []struct{ fg, bg string }{
		{"text", "bg"}, {"muted", "bg"}, {"error", "bg"},
		{"error", "error-tint"}, {"text", "error-tint"}, {"focus-text", "focus"},
	} {
		fg, bg := vars[c.fg], vars[c.bg]
		r, ok := ContrastRatio(fg, bg)
		if !ok || r < minTextContrast {
			t.Errorf("--%s (%s) on --%s (%s): contrast %.2f, want at least 4.5", c.fg, fg, c.bg, bg, r)
		}
	}
	for _, name := range []string{"text", "muted", "error", "field"} {
		if r, ok := ContrastRatio(vars[name], "#ffffff"); !ok || r < minTextContrast {
			t.Errorf("--%s (%s) on white: contrast %.2f", name, vars[name], r)
		}
	}
}

// pageCatalog reads messages/pages.<lang>.json as it is.
func pageCatalog(t *testing.T, lang dsar.Language) map[string]string {
	t.Helper()
	b, err := messageFiles.ReadFile("messages/pages." + string(lang) + ".json")
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]string
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// usedPageKeys returns the "page." and "right." keys named in the page
// templates and the module's Go code, the prefixes the templates complete at run time
// (label "page.language" .Lang, plural "page.check_email.valid" N), and the
// families of keys built at run time.
func usedPageKeys(t *testing.T) (static, prefixes map[string]bool, dynamic []string) {
	t.Helper()
	re := regexp.MustCompile(`(\b(?:label|plural) )?"((?:page|right)\.[a-z0-9_.]*[a-z0-9_])"`)
	static, prefixes = map[string]bool{}, map[string]bool{}
	files, err := fs.Glob(pageFiles, "pages/*.html")
	if err != nil || len(files) == 0 {
		t.Fatalf("no page templates: %v", err)
	}
	var sources []string
	for _, f := range files {
		b, err := fs.ReadFile(pageFiles, f)
		if err != nil {
			t.Fatal(err)
		}
		sources = append(sources, string(b))
	}
	// The Go code of the whole module names keys too (page titles, say).
	err = filepath.WalkDir("..", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && path != ".." && (d.Name() == "testdata" || strings.HasPrefix(d.Name(), ".")) {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		b, err := os.ReadFile(path)
		sources = append(sources, string(b))
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, src := range sources {
		for _, m := range re.FindAllStringSubmatch(src, -1) {
			if m[1] != "" {
				prefixes[m[2]] = true
			} else {
				static[m[2]] = true
			}
		}
	}
	// Keys built from a value: the rights, the statuses, the languages,
	// the jurisdictions, the kinds of message and the plural forms.
	for _, rt := range dsar.RequestTypes {
		dynamic = append(dynamic, "right."+string(rt)+".title", "right."+string(rt)+".explanation")
	}
	for _, s := range dsar.Statuses {
		dynamic = append(dynamic, "page.status.about."+string(s))
	}
	for _, l := range dsar.Languages {
		dynamic = append(dynamic, "page.language."+string(l), "page.language_native."+string(l))
	}
	for _, j := range dsar.Jurisdictions {
		dynamic = append(dynamic, "page.jurisdiction."+strings.ToLower(strings.ReplaceAll(string(j), "-", "_")))
	}
	for _, k := range messageKinds {
		dynamic = append(dynamic, "page.status.kind."+k)
	}
	for _, r := range dsar.Regulations {
		dynamic = append(dynamic, "page.form.regulation."+string(r))
	}
	dynamic = append(dynamic, "page.check_email.valid.one", "page.check_email.valid.other", "page.queue.count.one", "page.queue.count.other")
	for _, a := range []string{"assign_me", "approve", "note"} {
		dynamic = append(dynamic, "page.bulk.action."+a)
	}
	for _, r := range dsar.SystemRoles {
		dynamic = append(dynamic, "page.datamap.role."+string(r))
	}
	for _, st := range []dsar.TransmitState{dsar.TransmitPending, dsar.TransmitSent, dsar.TransmitFailed, dsar.TransmitNotFeasible} {
		dynamic = append(dynamic, "page.case.transmit.state."+string(st))
	}
	for _, b := range dsar.LegalBases {
		dynamic = append(dynamic, "page.datamap.basis."+string(b))
	}
	for _, g := range dsar.Safeguards {
		dynamic = append(dynamic, "page.datamap.safeguard."+string(g))
	}
	for _, t := range dsar.RequestTypes {
		for _, name := range dsar.ResultNames(t) {
			dynamic = append(dynamic, "page.status.download.file."+name)
		}
	}
	dynamic = append(dynamic, "page.status.download.left.one", "page.status.download.left.other")
	dynamic = append(dynamic, "page.datamap.years.one", "page.datamap.years.other", "page.datamap.months.one", "page.datamap.months.other")
	for _, name := range []string{dsar.ResultReportHTML, dsar.ResultReportJSON, dsar.ResultPackage} {
		dynamic = append(dynamic, "page.case.results.file."+name)
	}
	for _, et := range dsar.WebhookEventTypes {
		dynamic = append(dynamic, "page.admin.webhooks.event."+string(et))
	}
	for _, o := range []string{dsar.WebhookDelivered, dsar.WebhookRetrying, dsar.WebhookFailed, dsar.WebhookGone} {
		dynamic = append(dynamic, "page.admin.webhooks.outcome."+o)
	}
	for _, r := range []string{dsar.WebhookDisabledByAdmin, dsar.WebhookDisabledGone, dsar.WebhookDisabledFailing} {
		dynamic = append(dynamic, "page.admin.webhooks.disabled."+r)
	}
	return static, prefixes, dynamic
}

func TestPagesCatalogKeys(t *testing.T) {
	cats := map[dsar.Language]map[string]string{}
	for _, lang := range dsar.Languages {
		cats[lang] = pageCatalog(t, lang)
		for k, v := range cats[lang] {
			if !strings.HasPrefix(k, "page.") && !strings.HasPrefix(k, "right.") {
				t.Errorf("pages.%s.json: key %q does not start with page. or right.", lang, k)
			}
			if strings.TrimSpace(v) == "" {
				t.Errorf("pages.%s.json: %q is empty", lang, k)
			}
		}
	}
	en := cats[dsar.LanguageEN]
	for _, lang := range dsar.Languages {
		for k := range en {
			if _, ok := cats[lang][k]; !ok {
				t.Errorf("pages.%s.json lacks %q", lang, k)
			}
		}
		for k := range cats[lang] {
			if _, ok := en[k]; !ok {
				t.Errorf("pages.%s.json has %q, which pages.en.json lacks", lang, k)
			}
		}
	}

	static, prefixes, dynamic := usedPageKeys(t)
	if len(static) < 50 {
		t.Fatalf("found only %d keys in the templates: is the scan broken?", len(static))
	}
	// Every prefix the templates complete has its family of keys here.
	for p := range prefixes {
		if !slices.ContainsFunc(dynamic, func(k string) bool { return strings.HasPrefix(k, p+".") }) {
			t.Errorf("the templates complete the prefix %q, but the test knows no keys of it", p)
		}
	}
	used := map[string]bool{}
	for k := range static {
		used[k] = true
	}
	for _, k := range dynamic {
		used[k] = true
	}
	for k := range used {
		for _, lang := range dsar.Languages {
			if _, ok := cats[lang][k]; !ok {
				t.Errorf("key %q is used by the pages but missing in pages.%s.json", k, lang)
			}
		}
	}
	for k := range en {
		if !used[k] {
			t.Errorf("key %q of pages.en.json is used by no page", k)
		}
	}
}

func TestPageRightsExplained(t *testing.T) {
	for _, lang := range dsar.Languages {
		cat := pageCatalog(t, lang)
		for _, rt := range dsar.RequestTypes {
			for _, part := range []string{"title", "explanation"} {
				key := "right." + string(rt) + "." + part
				if strings.TrimSpace(cat[key]) == "" {
					t.Errorf("%s: %s is missing", lang, key)
				}
			}
		}
		for _, s := range dsar.Statuses {
			if cat["page.status.about."+string(s)] == "" {
				t.Errorf("%s: status %s has no explanation", lang, s)
			}
		}
	}
}

func TestPageDates(t *testing.T) {
	at := time.Date(2025, 4, 3, 9, 5, 0, 0, oslo)
	for _, c := range []struct {
		lang           dsar.Language
		date, dateTime string
	}{
		{dsar.LanguageEN, "3 April 2025", "3 April 2025, 09:05"},
		{dsar.LanguageNB, "3. april 2025", "3. april 2025 kl. 09.05"},
	} {
		f := pageFuncs(c.lang)
		for _, v := range []any{"2025-04-03", at} {
			got, err := f["date"].(func(any) (string, error))(v)
			if err != nil || got != c.date {
				t.Errorf("%s: date(%v) = %q, %v; want %q", c.lang, v, got, err, c.date)
			}
		}
		if got := f["dateTime"].(func(time.Time) string)(at); got != c.dateTime {
			t.Errorf("%s: dateTime = %q, want %q", c.lang, got, c.dateTime)
		}
	}
}

func TestRenderPageRejectsWrongInput(t *testing.T) {
	good := ErrorPage{Page: Page{Lang: dsar.LanguageEN, Path: "/"}, Message: "x"}
	for _, c := range []struct {
		desc string
		name string
		data any
	}{
		{"unknown page", "nope", good},
		{"wrong type", "index", good},
		{"no data", "error", nil},
		{"nil pointer", "error", (*ErrorPage)(nil)},
		{"unsupported language", "error", ErrorPage{Page: Page{Lang: "de"}}},
		{"no language", "error", ErrorPage{}},
		{"unknown status", "status", StatusPage{Page: Page{Lang: dsar.LanguageNB}, Type: dsar.TypeAccess, Status: "lost"}},
	} {
		var buf bytes.Buffer
		if err := RenderPage(&buf, c.name, c.data); err == nil {
			t.Errorf("%s: no error", c.desc)
		}
		if buf.Len() != 0 {
			t.Errorf("%s: %d bytes written despite the error", c.desc, buf.Len())
		}
	}
	// A pointer renders like the value.
	if a, b := render(t, "error", good), render(t, "error", &good); a != b {
		t.Error("a *ErrorPage renders differently from an ErrorPage")
	}
}

func ptr[T any](v T) *T { return &v }

// webhookEventChoices are the event types of the subscription form, the
// chosen ones checked.
func webhookEventChoices(lang dsar.Language, chosen ...dsar.WebhookEventType) []AdminChoice {
	var out []AdminChoice
	for _, t := range dsar.WebhookEventTypes {
		out = append(out, AdminChoice{Value: string(t), Label: WebhookEventDescription(lang, t), Checked: slices.Contains(chosen, t)})
	}
	return out
}

// adminRoles are the roles of an account, chosen one checked.
func adminRoles(lang dsar.Language, chosen dsar.Role) []AdminChoice {
	var out []AdminChoice
	for _, r := range []dsar.Role{dsar.RoleOfficer, dsar.RoleAuditor, dsar.RoleAdmin} {
		out = append(out, AdminChoice{Value: string(r), Label: RoleName(lang, r), Checked: r == chosen})
	}
	return out
}

// adminKeyRoles are the roles of a key, a system's chosen.
func adminKeyRoles(lang dsar.Language) []AdminChoice {
	var out []AdminChoice
	for _, r := range dsar.Roles {
		out = append(out, AdminChoice{Value: string(r), Label: RoleName(lang, r), Checked: r == dsar.RoleSystem})
	}
	return out
}

// The subject's pages promise only what exists: only the status page of a
// case with files (its download section) speaks of a download.
func TestSubjectPagesPromiseDownloadsOnlyWhereThereAreFiles(t *testing.T) {
	for _, name := range []string{"index", "form", "check_email", "confirm_link", "status", "error"} {
		for _, c := range pageCases[name] {
			for _, lang := range dsar.Languages {
				data := c.data(lang)
				if sp, ok := data.(StatusPage); ok && sp.Download != nil {
					continue
				}
				page := strings.ToLower(text(parse(t, render(t, name, data))))
				for _, word := range []string{"download", "laste ned", "lastes ned"} {
					if strings.Contains(page, word) {
						t.Errorf("%s/%s/%s promises a download (%q)", name, c.name, lang, word)
					}
				}
			}
		}
	}
}

func adminKeyScopes(lang dsar.Language, chosen ...dsar.Scope) []AdminChoice {
	var out []AdminChoice
	for _, s := range dsar.Scopes {
		out = append(out, AdminChoice{Value: string(s), Label: ScopeDescription(lang, s), Checked: slices.Contains(chosen, s)})
	}
	return out
}
