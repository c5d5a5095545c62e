package templates

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	htmltemplate "html/template"
	"io/fs"
	"net/url"
	"slices"
	"strings"
	texttemplate "text/template"
	"time"
	"unicode"

	"github.com/dsar-project/dsar"
)

//go:embed mail
var mailFiles embed.FS

// Mail is one rendered e-mail: the subject line, the plain-text body and the
// HTML body. The two bodies say the same thing.
type Mail struct {
	Subject string
	Text    string
	HTML    string
}

// MailData is what the e-mail templates may show. Dates are controller-local
// calendar dates as YYYY-MM-DD; the templates write them out in the language
// of the mail. Everything here may come from users and is escaped in the HTML
// part.
type MailData struct {
	// Language is the language of the mail; it selects the template.
	Language dsar.Language
	// ControllerName is the name of the organisation responsible, used as
	// the signature.
	ControllerName string
	// ContactEmail is the controller's privacy contact.
	ContactEmail string
	// Reference is the reference of the request that the subject quotes.
	Reference string
	// Type is the right the subject invokes.
	Type dsar.RequestType
	// Regulation is the law the request is handled under; it decides which
	// periods the acknowledgement explains.
	Regulation dsar.Regulation
	// ReceivedDate is the date the request reached the controller.
	ReceivedDate string
	// DueDate is the date by which the request must be answered.
	DueDate string
	// AcknowledgeBy is the date by which receipt must be confirmed (CCPA),
	// or "" where the regulation sets none.
	AcknowledgeBy string
	// SubjectName is the data subject's name; it may be empty.
	SubjectName string
	// Reminder is the kind of reminder: "7d", "2d" or "overdue" (only for
	// the reminder mail).
	Reminder string
	// DaysLeft is the number of days until DueDate; negative once it has
	// passed.
	DaysLeft int
	// StatusURL is where the reader can follow the request; it may be empty,
	// except in the mails that ask the subject to answer there.
	StatusURL string

	// VerifyURL is the one-click verification link and Code the 6-digit code
	// of the verification mail; both expire after ExpiresHours.
	VerifyURL    string
	Code         string
	ExpiresHours int
	// ExpiresMinutes is how long a download code is valid (Code carries
	// it); DownloadUntil (YYYY-MM-DD) the last day the subject's files
	// can be downloaded, at most MaxDownloads times (completion and
	// download code mails of access and portability requests).
	ExpiresMinutes int
	DownloadUntil  string
	MaxDownloads   int
	// Message is the controller's own words: the question to the subject
	// (clarification or identity mails), the reasons of an extension, or the
	// explanation of a refusal.
	Message string
	// OriginalDueDate is the due date before an extension (YYYY-MM-DD).
	OriginalDueDate string
	// Summary says what was done (completion mail; also shown in a partial
	// refusal when given).
	Summary string
	// Kept lists what was kept after an erasure, why, and until when.
	Kept []KeptData
	// Systems says what was done in each connected system (completion
	// mail); Told names the recipients told of the change and Untold those
	// that could not be, with why (GDPR Art 19).
	Systems []SystemData
	Told    []string
	Untold  []UntoldData
	// Ground is the legal ground of a refusal; Partial says the refusal is
	// only of part of the request, RefusedPart which part and Granted what
	// was carried out all the same.
	Ground      dsar.Ground
	Partial     bool
	RefusedPart string
	Granted     string
	// FeeBasis says why a fee notice's fee may be charged: a further copy
	// or a manifestly unfounded or excessive request.
	FeeBasis dsar.FeeBasis
	// The controller's supervisory authority (refusal and completion mails:
	// the right to complain). The website may be empty.
	AuthorityName, AuthorityAddress, AuthorityWebsite string
	// ClockPaused says the deadline is paused while the controller waits for
	// the subject.
	ClockPaused bool
	// Document says the subject's answer came with an identity document
	// (subject_replied mail only).
	Document bool
	// Task is the system task an officers' task mail is about (task_failed,
	// task_reminder only).
	Task *TaskData
	// Cases are the cases of an officer's daily digest (digest mail only);
	// QueueURL links the queue.
	Cases    []DigestCase
	QueueURL string
	// Vendor is the instruction of a vendor_instruction mail.
	Vendor *VendorData
	// Transmission is the direct transmission of a portability case's
	// package the subject asked for (completion, transmitted,
	// transmission_failed, transmission_alert); nil when none.
	Transmission *TransmissionData
	// Webhook is the subscription a webhook_disabled mail is about.
	Webhook *WebhookData
}

// TransmissionData is a direct transmission of the portable package as the
// mails show it.
type TransmissionData struct {
	// Organisation is whom the package is for.
	Organisation string
	State        dsar.TransmitState
	// Attempts counts the uploads tried.
	Attempts int
	// Date (YYYY-MM-DD) and Time (HH:MM), controller-local, are when the
	// package was received or failed for good.
	Date, Time string
	// Receipt is the recipient's receipt (may be empty); SHA256 and Bytes
	// what was sent.
	Receipt string
	SHA256  string
	Bytes   int64
	// Reason is why it failed, for the officers (transmission_alert).
	Reason string
}

// WebhookData is what a webhook_disabled mail tells the administrators of
// the subscription the service disabled.
type WebhookData struct {
	ID string
	// Endpoint is the subscription's URL without its query (which may hold
	// a token of the receiver's).
	Endpoint    string
	Description string
	// Reason is why: "gone" (the endpoint answered 410) or "failing" (every
	// attempt failed for days).
	Reason string
}

// VendorData is what a vendor_instruction mail asks a processor or a
// recipient to do about one data subject, with only the identities the
// vendor needs to find the person.
type VendorData struct {
	Action dsar.TaskAction
	// System names the controller's system (or recipient) the vendor runs.
	System string
	// Purposes are those a stop_processing or withdraw_consent instruction
	// concerns; Categories the data categories concerned.
	Purposes   []string
	Categories []string
	// Email and CustomerID identify the subject; at least one is set.
	Email      string
	CustomerID string
	// Details is what to correct (rectify only), as the case says.
	Details string
	// By is the date (YYYY-MM-DD) by which the vendor should act.
	By string
	// ConfirmURL is where the vendor confirms it did it.
	ConfirmURL string
	// Reminder makes the mail a reminder of an instruction sent before.
	Reminder bool
}

// TaskData is the system task of an officers' task mail: what it asks of
// which system or recipient, and how it stands; never the subject's data.
type TaskData struct {
	// Name is the system's or the recipient's name in the data map.
	Name   string
	Action dsar.TaskAction
	// Answer is the system's last answer in short (a failed task), and
	// Reason why it failed, in the mail's language; either may be empty.
	Answer, Reason string
	// DueDate is when a person's task is due (YYYY-MM-DD), or "".
	DueDate string
}

// DigestCase is one case of the daily digest.
type DigestCase struct {
	Reference, Controller string
	Type                  dsar.RequestType
	DueDate               string // YYYY-MM-DD
	DaysLeft              int
	URL                   string
}

// KeptData is one kind of data kept after an erasure.
type KeptData struct {
	What, Why string
	// Until is YYYY-MM-DD, or "" when the period is given by criteria (in Why).
	Until string
}

// SystemData is what a case's task did in one connected system.
type SystemData struct {
	Name   string
	Status dsar.TaskStatus // done, no_data or skipped
	Count  int             // the records concerned, when done and known
	Reason string          // why it was skipped
}

// UntoldData is a recipient that was not told of a change, and why.
type UntoldData struct {
	Name, Why string
}

// mailView is what the templates execute on: the data and the rendered
// subject (the HTML part uses it as its title).
type mailView struct {
	MailData
	Subject string
}

// mailSet is the three parsed parts of one mail in one language.
type mailSet struct {
	subject *texttemplate.Template
	text    *texttemplate.Template
	html    *htmltemplate.Template
}

// mailTemplates maps name -> language -> parsed templates; it is built once
// at start-up from the embedded files and only read afterwards.
var mailTemplates = loadMailTemplates()

// mailLayout is the shared HTML frame that every body.html fills in.
const mailLayout = "mail/layout.html"

// loadMailTemplates parses every mail/<name>/<lang>/ directory. The files are
// embedded at compile time, so a template that does not parse is a
// programming error that the tests catch; it panics rather than starting
// without a mail.
func loadMailTemplates() map[string]map[dsar.Language]*mailSet {
	entries, err := fs.ReadDir(mailFiles, "mail")
	if err != nil {
		panic(fmt.Sprintf("templates: read mail templates: %v", err))
	}
	out := make(map[string]map[dsar.Language]*mailSet)
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		name := e.Name()
		out[name] = make(map[dsar.Language]*mailSet)
		for _, lang := range dsar.Languages {
			dir := "mail/" + name + "/" + string(lang)
			if _, err := fs.Stat(mailFiles, dir); err != nil {
				continue // the completeness test reports the gap
			}
			set, err := parseMailSet(dir, lang)
			if err != nil {
				panic(fmt.Sprintf("templates: %v", err))
			}
			out[name][lang] = set
		}
	}
	return out
}

// parseMailSet parses the three parts in dir with the functions of lang.
func parseMailSet(dir string, lang dsar.Language) (*mailSet, error) {
	funcs := templateFuncs(lang)
	subject, err := texttemplate.New("subject.txt").Funcs(funcs).ParseFS(mailFiles, dir+"/subject.txt")
	if err != nil {
		return nil, fmt.Errorf("parse %s/subject.txt: %w", dir, err)
	}
	text, err := texttemplate.New("body.txt").Funcs(funcs).ParseFS(mailFiles, dir+"/body.txt")
	if err != nil {
		return nil, fmt.Errorf("parse %s/body.txt: %w", dir, err)
	}
	html, err := htmltemplate.New("body.html").Funcs(funcs).ParseFS(mailFiles, mailLayout, dir+"/body.html")
	if err != nil {
		return nil, fmt.Errorf("parse %s/body.html: %w", dir, err)
	}
	return &mailSet{subject: subject, text: text, html: html}, nil
}

// MailNames returns the names of the e-mail templates, sorted.
func MailNames() []string {
	names := make([]string, 0, len(mailTemplates))
	for name := range mailTemplates {
		names = append(names, name)
	}
	slices.Sort(names)
	return names
}

// RenderMail renders the e-mail template name in data.Language. It returns an
// error for an unknown template name or language, for an unknown request type
// or regulation, when data lacks something the template needs (see
// validateMailData: the code and link of a verification mail, the reasons of
// an extension, the ground and supervisory authority of a refusal, ...), and
// when a template fails to execute. The subject is a single line with runs of
// white space collapsed; the text body ends with exactly one newline.
func RenderMail(name string, data MailData) (*Mail, error) {
	byLang, ok := mailTemplates[name]
	if !ok {
		return nil, fmt.Errorf("templates: unknown mail template %q", name)
	}
	set, ok := byLang[data.Language]
	if !ok {
		return nil, fmt.Errorf("templates: mail template %q has no language %q", name, data.Language)
	}
	if err := validateMailData(name, data); err != nil {
		return nil, fmt.Errorf("templates: %s mail: %w", name, err)
	}

	view := mailView{MailData: data}
	var buf bytes.Buffer
	if err := set.subject.Execute(&buf, view); err != nil {
		return nil, fmt.Errorf("templates: render %s/%s subject: %w", name, data.Language, err)
	}
	view.Subject = strings.Join(strings.Fields(buf.String()), " ")

	buf.Reset()
	if err := set.text.Execute(&buf, view); err != nil {
		return nil, fmt.Errorf("templates: render %s/%s text: %w", name, data.Language, err)
	}
	text := strings.TrimSpace(buf.String()) + "\n"

	buf.Reset()
	if err := set.html.Execute(&buf, view); err != nil {
		return nil, fmt.Errorf("templates: render %s/%s html: %w", name, data.Language, err)
	}
	html := strings.TrimSpace(buf.String()) + "\n"

	return &Mail{Subject: view.Subject, Text: text, HTML: html}, nil
}

// validateMailData checks what a template relies on and cannot check by
// itself: the type and regulation pick texts, the reminder kind picks a
// wording, and every mail needs the fields it shows. A wrong or missing value
// would otherwise silently render a wrong or empty text. All the problems
// found are reported together.
func validateMailData(name string, data MailData) error {
	var problems []string
	need := func(ok bool, format string, args ...any) {
		if !ok {
			problems = append(problems, fmt.Sprintf(format, args...))
		}
	}
	needDate := func(field, value string) {
		need(isDate(value), "%s %q is not a date (YYYY-MM-DD)", field, value)
	}
	if name == "digest" {
		// About an officer's cases, not one request.
		need(len(data.Cases) > 0, "Cases is empty")
		need(isWebURL(data.QueueURL), "QueueURL %q is not an http(s) link", data.QueueURL)
		for _, c := range data.Cases {
			need(c.Type.Valid(), "unknown request type %q", c.Type)
			need(isDate(c.DueDate), "DueDate %q is not a date (YYYY-MM-DD)", c.DueDate)
		}
		if len(problems) > 0 {
			return errors.New(strings.Join(problems, "; "))
		}
		return nil
	}
	if name == "webhook_disabled" {
		// About a subscription, not a request.
		need(data.Webhook != nil && data.Webhook.ID != "" && isWebURL(data.Webhook.Endpoint), "Webhook needs an ID and an http(s) Endpoint")
		need(data.Webhook != nil && (data.Webhook.Reason == dsar.WebhookDisabledGone || data.Webhook.Reason == dsar.WebhookDisabledFailing),
			"Webhook.Reason must be gone or failing")
		need(strings.TrimSpace(data.ControllerName) != "", "ControllerName is empty")
		if len(problems) > 0 {
			return errors.New(strings.Join(problems, "; "))
		}
		return nil
	}
	if name == "vendor_instruction" {
		validateVendor(data.Vendor, need)
	}
	need(data.Type.Valid(), "unknown request type %q", data.Type)
	need(data.Regulation.Valid(), "unknown regulation %q", data.Regulation)
	need(strings.TrimSpace(data.Reference) != "", "Reference is empty")
	need(strings.TrimSpace(data.ControllerName) != "", "ControllerName is empty")
	officerMail := name == "reminder" || name == "subject_replied" || name == "case_assigned" || name == "task_failed" || name == "task_reminder" || name == "transmission_alert"
	if !officerMail {
		// Every mail to the subject names the privacy contact.
		need(strings.TrimSpace(data.ContactEmail) != "", "ContactEmail is empty")
	}
	needText := func(field, value string) {
		need(strings.TrimSpace(value) != "", "%s is empty", field)
	}
	needGround := func() {
		need(slices.Contains(dsar.GroundsFor(data.Type, dsar.ObjectionLegitimate), data.Ground),
			"refusal ground %q cannot refuse a request of type %s", data.Ground, data.Type)
	}
	needAuthority := func() {
		needText("AuthorityName", data.AuthorityName)
		needText("AuthorityAddress", data.AuthorityAddress)
	}

	switch name {
	case "reminder":
		switch data.Reminder {
		case dsar.Reminder7Days, dsar.Reminder2Days, dsar.ReminderOverdue:
		default:
			need(false, "unknown reminder kind %q", data.Reminder)
		}
		needDate("ReceivedDate", data.ReceivedDate)
		needDate("DueDate", data.DueDate)
	case "acknowledgement":
		needDate("ReceivedDate", data.ReceivedDate)
		needDate("DueDate", data.DueDate)
	case "verification":
		switch data.Reminder {
		case "", dsar.VerifyReminder24h, dsar.VerifyReminder72h:
		default:
			need(false, "unknown verification reminder kind %q", data.Reminder)
		}
		need(isCode(data.Code), "Code %q is not 6 digits", data.Code)
		need(isWebURL(data.VerifyURL), "VerifyURL %q is not an http(s) link", data.VerifyURL)
		need(data.ExpiresHours > 0, "ExpiresHours %d is not positive", data.ExpiresHours)
	case "forwarded":
		needText("Message", data.Message)
	case "fee_notice":
		needText("Message", data.Message)
		need(data.Type == dsar.TypeAccess, "a fee is announced only for an access request, not %s", data.Type)
		need(data.FeeBasis.Valid(), "unknown fee basis %q", data.FeeBasis)
	case "reopened":
		needText("Message", data.Message)
		needDate("DueDate", data.DueDate)
	case "extension":
		needText("Message", data.Message)
		needDate("OriginalDueDate", data.OriginalDueDate)
		needDate("DueDate", data.DueDate)
		if isDate(data.OriginalDueDate) && isDate(data.DueDate) {
			need(data.DueDate > data.OriginalDueDate, "DueDate %s is not after OriginalDueDate %s", data.DueDate, data.OriginalDueDate)
		}
	case "clarification_request", "identity_request":
		needText("Message", data.Message)
		// The subject answers on the status page: identity proof must not
		// travel by e-mail, and an answer by mail could not be matched.
		needText("StatusURL", data.StatusURL)
		if !data.ClockPaused {
			needDate("DueDate", data.DueDate)
		}
	case "reply_received":
		needDate("DueDate", data.DueDate)
	case "subject_replied":
		// The officers read the answer on the case page, never in the mail.
		needText("StatusURL", data.StatusURL)
		needDate("DueDate", data.DueDate)
	case "case_assigned":
		needText("StatusURL", data.StatusURL)
		needDate("ReceivedDate", data.ReceivedDate)
		needDate("DueDate", data.DueDate)
	case "task_failed", "task_reminder":
		// The officers read the case on its page; the mail names the
		// system and what it asked, never the subject.
		needText("StatusURL", data.StatusURL)
		need(data.Task != nil, "Task is missing")
		if data.Task != nil {
			needText("Task.Name", data.Task.Name)
			need(slices.Contains(dsar.TaskActions, data.Task.Action), "unknown task action %q", data.Task.Action)
			if data.Task.DueDate != "" {
				needDate("Task.DueDate", data.Task.DueDate)
			}
		}
	case "completion":
		// An officer's summary, or what the systems did, says what was done.
		need(strings.TrimSpace(data.Summary) != "" || len(data.Systems) > 0, "Summary is empty and no system has done anything")
		for _, sys := range data.Systems {
			need(sys.Status == dsar.TaskDone || sys.Status == dsar.TaskNoData || sys.Status == dsar.TaskSkipped,
				"system %q has not ended well (%s)", sys.Name, sys.Status)
		}
		needAuthority()
		if data.Partial {
			needGround()
			needText("Message", data.Message)
			needText("RefusedPart", data.RefusedPart)
			needText("Granted", data.Granted)
		}
		for i, k := range data.Kept {
			needText(fmt.Sprintf("Kept[%d].What", i), k.What)
			needText(fmt.Sprintf("Kept[%d].Why", i), k.Why)
			if k.Until != "" {
				needDate(fmt.Sprintf("Kept[%d].Until", i), k.Until)
			}
		}
	case "transmitted", "transmission_failed", "transmission_alert":
		need(data.Type == dsar.TypePortability, "a package is sent only for a portability request, not %s", data.Type)
		need(data.Transmission != nil, "Transmission is missing")
		if t := data.Transmission; t != nil {
			needText("Transmission.Organisation", t.Organisation)
			if name == "transmitted" {
				need(t.State == dsar.TransmitSent, "Transmission.State %q is not sent", t.State)
				needDate("Transmission.Date", t.Date)
				needText("Transmission.Time", t.Time)
				need(len(t.SHA256) == 64, "Transmission.SHA256 %q is not a SHA-256", t.SHA256)
			} else {
				need(t.State == dsar.TransmitFailed, "Transmission.State %q is not failed", t.State)
			}
		}
		if name == "transmission_alert" {
			needText("StatusURL", data.StatusURL)
		}
	case "refusal":
		need(!data.Partial, "a partial refusal is told in the completion mail")
		needGround()
		needText("Message", data.Message)
		needAuthority()
	}
	if len(problems) > 0 {
		return errors.New(strings.Join(problems, "; "))
	}
	return nil
}

// validateVendor checks the instruction of a vendor_instruction mail: a
// known action, someone to find, a date, a confirmation link, and what
// the action needs (the purposes to stop, the correction to make).
func validateVendor(v *VendorData, need func(bool, string, ...any)) {
	if v == nil {
		need(false, "Vendor is missing")
		return
	}
	need(slices.Contains(dsar.TaskActions, v.Action), "unknown task action %q", v.Action)
	need(strings.TrimSpace(v.System) != "", "Vendor.System is empty")
	need(strings.TrimSpace(v.Email) != "" || strings.TrimSpace(v.CustomerID) != "", "Vendor.Email and Vendor.CustomerID are both empty")
	need(isDate(v.By), "Vendor.By %q is not a date (YYYY-MM-DD)", v.By)
	need(isWebURL(v.ConfirmURL), "Vendor.ConfirmURL %q is not an http(s) link", v.ConfirmURL)
	switch v.Action {
	case dsar.ActionStopProcessing, dsar.ActionWithdrawConsent:
		need(len(v.Purposes) > 0, "Vendor.Purposes is empty for %s", v.Action)
	case dsar.ActionRectify:
		need(strings.TrimSpace(v.Details) != "", "Vendor.Details is empty for rectify")
	}
}

// isDate reports whether s is a YYYY-MM-DD calendar date.
func isDate(s string) bool {
	_, err := time.Parse(time.DateOnly, s)
	return err == nil
}

// isCode reports whether s is a 6-digit verification code.
func isCode(s string) bool {
	if len(s) != 6 {
		return false
	}
	for _, c := range []byte(s) {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// isWebURL reports whether s is an absolute http or https URL with a host.
func isWebURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Host != "" &&
		!strings.ContainsAny(s, " \t\r\n")
}

// templateFuncs returns the functions available inside the templates of
// lang. Their results are plain strings, so html/template escapes them.
func templateFuncs(lang dsar.Language) map[string]any {
	return map[string]any{
		"t": func(key string, pairs ...any) (string, error) {
			return strictT(lang, key, pairs...)
		},
		"label": func(prefix string, value any) (string, error) {
			return strictT(lang, fmt.Sprintf("%s.%v", prefix, value))
		},
		"date": func(s string) string { return longDate(lang, s) },
		"days": func(n int) (string, error) {
			key := "unit.days.other"
			if n == 1 || n == -1 {
				key = "unit.days.one"
			}
			return strictT(lang, key, "n", n)
		},
		"hours": func(n int) (string, error) {
			key := "unit.hours.other"
			if n == 1 || n == -1 {
				key = "unit.hours.one"
			}
			return strictT(lang, key, "n", n)
		},
		"minutes": func(n int) (string, error) {
			key := "unit.minutes.other"
			if n == 1 || n == -1 {
				key = "unit.minutes.one"
			}
			return strictT(lang, key, "n", n)
		},
		"abs": func(n int) int {
			if n < 0 {
				return -n
			}
			return n
		},
		"plain":   plainText,
		"lines":   func(s string) []string { return strings.Split(plainText(s), "\n") },
		"oneline": func(s string) string { return strings.Join(strings.Fields(s), " ") },
	}
}

// plainText tidies a text someone typed (a message, a summary) for a mail:
// line breaks become "\n" whatever they were, trailing white space goes, runs
// of blank lines become one blank line, and the text is trimmed. In
// templates: plain TEXT for the text part, lines TEXT (the lines of plain
// TEXT) for the HTML part, and oneline TEXT (white space collapsed) for short
// values that must stay on one line.
func plainText(s string) string {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	s = strings.ReplaceAll(s, "\r", "\n")
	lines := strings.Split(s, "\n")
	out := lines[:0]
	blank := true // drops leading blank lines
	for _, l := range lines {
		l = strings.TrimRightFunc(l, unicode.IsSpace)
		if l == "" {
			if blank {
				continue
			}
			blank = true
		} else {
			blank = false
		}
		out = append(out, l)
	}
	return strings.TrimSpace(strings.Join(out, "\n"))
}

// strictT is T for templates: the key must exist in lang itself (no silent
// fallback to English in a Norwegian mail), and the parameters come as
// name/value pairs.
func strictT(lang dsar.Language, key string, pairs ...any) (string, error) {
	msg, ok := catalogs[lang][key]
	if !ok {
		return "", fmt.Errorf("message %q missing in catalog %s", key, lang)
	}
	if len(pairs)%2 != 0 {
		return "", fmt.Errorf("message %q: odd number of parameter arguments", key)
	}
	params := make(map[string]any, len(pairs)/2)
	for i := 0; i < len(pairs); i += 2 {
		name, ok := pairs[i].(string)
		if !ok {
			return "", fmt.Errorf("message %q: parameter name %v is not a string", key, pairs[i])
		}
		params[name] = pairs[i+1]
	}
	return fill(msg, params), nil
}

// monthNames are the month names of each language, January first.
var monthNames = map[dsar.Language][12]string{
	dsar.LanguageEN: {"January", "February", "March", "April", "May", "June",
		"July", "August", "September", "October", "November", "December"},
	dsar.LanguageNB: {"januar", "februar", "mars", "april", "mai", "juni",
		"juli", "august", "september", "oktober", "november", "desember"},
}

// longDate writes a YYYY-MM-DD date out in lang: "3 April 2025" in English,
// "3. april 2025" in bokmål. Anything that is not such a date is returned as
// it is.
func longDate(lang dsar.Language, s string) string {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return s
	}
	month := monthNames[lang][t.Month()-1]
	if lang == dsar.LanguageNB {
		return fmt.Sprintf("%d. %s %d", t.Day(), month, t.Year())
	}
	return fmt.Sprintf("%d %s %d", t.Day(), month, t.Year())
}
