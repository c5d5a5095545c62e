package templates

import (
	"bytes"
	"embed"
	"fmt"
	htmltemplate "html/template"
	"io"
	"math"
	"reflect"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/dsar-project/dsar"
)

//go:embed pages
var pageFiles embed.FS

// Brand is how a controller's pages look: its name, logo and colours, with
// the service's own defaults where the controller configures none (and
// where its colours would not reach WCAG 2.1 AA contrast).
type Brand struct {
	Name         string
	Logo         string
	PrimaryColor string // #rrggbb
	AccentColor  string // #rrggbb
}

// Page is what every page shows: its language, the links to the same page
// in the other languages, the controller's brand and contact (on pages of one
// controller), and the CSRF token of its forms.
type Page struct {
	Lang dsar.Language
	// Path is the page's path without a query, for the language switch
	// (Path?lang=nb, Path?lang=en).
	Path string
	// Brand is the controller's brand; the zero Brand on pages of no
	// controller.
	Brand Brand
	// ContactEmail is the controller's privacy contact, when there is one.
	ContactEmail string
	// CSRF is the token every form of the page sends back as "_csrf".
	CSRF string
	// Title is the page's own title (a catalog key's text), shown in the
	// <title> and as the first heading.
	Title string
}

// ControllerLink is one controller on the index page.
type ControllerLink struct {
	Key, Name, Jurisdiction string
}

// IndexPage lists the controllers a subject can send a request to.
type IndexPage struct {
	Page
	Controllers []ControllerLink
}

// FormValues holds the values of the request form as the subject typed
// them, kept when the form comes back with errors.
type FormValues struct {
	Type, Email, Name, Phone, CustomerID, Details, Language string
	// Recipient is the organisation a portability request asks to send the
	// data to directly (optional).
	Recipient string
	// Inaccurate and Correct are what is wrong and what is right, for a
	// rectification request.
	Inaccurate, Correct string
}

// FormPage is a controller's request form.
type FormPage struct {
	Page
	ControllerKey string
	// Types lists the rights the form offers, in order; each is explained by
	// the catalog keys right.<type>.title and right.<type>.explanation.
	Types []dsar.RequestType
	// Identifiers are the extra identifiers the controller asks for
	// ("customer_id", "phone").
	Identifiers []string
	Values      FormValues
	// Errors maps a field name (as in FormValues, lower-case: "email",
	// "type", "details", …) to its message, already in the page's language.
	Errors map[string]string
	// Honeypot is the name of the hidden field that people leave empty.
	Honeypot string
}

// CheckEmailPage tells the subject to look for the verification mail and
// takes the 6-digit code.
type CheckEmailPage struct {
	Page
	// Action is where the code form posts, and Resend where the resend
	// form posts.
	Action, Resend string
	// MaskedEmail is the address the mail went to, partly hidden (k***@example.no).
	MaskedEmail string
	// Error is the message for a wrong, expired or used-up code, if any;
	// Notice a neutral message (a new code was sent).
	Error, Notice string
	// ExpiresHours is how long a code is valid.
	ExpiresHours int
}

// HistoryItem is one step of a request as its subject sees it.
type HistoryItem struct {
	At   time.Time
	Text string
}

// MessageItem is one message between the controller and the subject.
type MessageItem struct {
	At          time.Time
	FromSubject bool
	Kind        string // "clarification", "identity", "reply"
	Body        string
}

// StatusPage is the subject's page of one request.
type StatusPage struct {
	Page
	Reference  string
	Type       dsar.RequestType
	Status     dsar.Status
	ReceivedAt time.Time
	DueDate    string // YYYY-MM-DD
	Extended   bool
	History    []HistoryItem
	Messages   []MessageItem
	// ReplyAction is where the answer form posts; empty when the controller
	// is not waiting for the subject. ReplyKind says what it waits for
	// ("clarification" or "identity").
	ReplyAction, ReplyKind string
	// WithdrawAction is where the withdraw button posts; empty once the
	// request is closed.
	WithdrawAction string
	// Error and Notice are messages about the last form sent.
	Error, Notice string
}

// MailboxEntry is one message of the local mailbox.
type MailboxEntry struct {
	Name    string // the file name, for the link
	Date    time.Time
	From    string
	To      string
	Subject string
}

// MailboxPage shows the local mailbox of the embedded default to an
// administrator: the list, and one message's text when Open is set.
type MailboxPage struct {
	Page
	Entries []MailboxEntry
	Open    *MailboxEntry
	Text    string
}

// SignInPage is the officers' sign-in form.
type SignInPage struct {
	Page
	Email string
	// Next is where to go after signing in (a local path).
	Next string
	// SSOName, when set, offers single sign-on with this provider.
	SSOName       string
	Error, Notice string
}

// PasswordPage is the form to change one's password.
type PasswordPage struct {
	Page
	MinLength     int
	Error, Notice string
}

// QueueRow is one case in the officers' queue.
type QueueRow struct {
	ID, Reference, Controller string
	Type                      dsar.RequestType
	Status                    dsar.Status
	DueDate                   string // YYYY-MM-DD
	DaysLeft                  int
	Overdue                   bool
	// Assigned says somebody works the case; Duplicate that it repeats an
	// open request of the same subject; Approved that it is approved for
	// execution.
	Assigned, Duplicate, Approved bool
}

// CaseEvent is one line of a case's full timeline.
type CaseEvent struct {
	At     time.Time
	Actor  string
	Kind   string
	From   dsar.Status
	To     dsar.Status
	Reason string
}

// CasePage is an officer's view of one case: the subject, the request, its
// deadlines, the full timeline, the messages, and the actions the officer
// may take (when CanChange).
type CasePage struct {
	Page
	ID, Reference, Controller  string
	Type                       dsar.RequestType
	Status                     dsar.Status
	Regulation                 dsar.Regulation
	SubjectEmail, SubjectName  string
	Details                    string
	ReceivedAt                 time.Time
	DueDate, ExtensionNoticeBy string // YYYY-MM-DD
	DaysLeft                   int
	Overdue, Extended, Paused  bool
	Verification               string // "by whom, how" or ""
	Timeline                   []CaseEvent
	Messages                   []MessageItem
	CanChange                  bool
	// DuplicateOf is the ID of the open request this one likely repeats.
	DuplicateOf string
	// CanReopen offers to take a completed or refused case back into work.
	CanReopen bool
	// Assignee names who works the case; AssignedToMe says it is the viewer.
	Assignee     string
	AssigneeID   string
	AssignedToMe bool
	// Workers are the people the case may be assigned to.
	Workers []Worker
	// ApprovedBy and ApprovedAt say who approved the case for execution and
	// when (empty when not approved); CanApprove offers to approve it.
	ApprovedBy string
	ApprovedAt time.Time
	CanApprove bool
	Grounds    []dsar.Ground
	Error      string
	Notice     string
}

// Worker is an officer or admin a case may be assigned to.
type Worker struct{ ID, Email string }

// QueueFilter is the queue's filter form as the officer set it.
type QueueFilter struct {
	Controller, Type, Status, Search string
	// Assignee is a user's ID, dsar.Unassigned or "" for anyone; Approval
	// is "pending" (in progress, not approved), "approved" or "".
	Assignee, Approval string
	// Notice selects cases whose extension must be announced within a week.
	Overdue, Mine, Notice bool
}

// QueuePage is the officers' queue of open cases, most urgent first.
type QueuePage struct {
	Page
	UserEmail string
	// Controllers are those the officer may filter by.
	Controllers []string
	Types       []dsar.RequestType
	Statuses    []dsar.Status
	Workers     []Worker
	Filter      QueueFilter
	// CSV is the link to the current filter as CSV; Bulk where the bulk
	// actions on the filter post.
	CSV, Bulk string
	// Notice reports the last bulk action.
	Notice string
	Rows   []QueueRow
	// NextPage is the link to the following page, empty on the last.
	NextPage string
}

// ErrorPage explains that something went wrong (a link that expired, a page
// that does not exist, too many attempts).
type ErrorPage struct {
	Page
	Message string
	Status  int
}

// base returns the part every page type shares; RenderPage takes the page's
// language from it.
func (p Page) base() Page { return p }

// pageData is satisfied by every page type (and a pointer to one), through
// the embedded Page.
type pageData interface{ base() Page }

// pageTypes maps each page template to the type of data it renders.
var pageTypes = map[string]reflect.Type{
	"index":       reflect.TypeFor[IndexPage](),
	"form":        reflect.TypeFor[FormPage](),
	"check_email": reflect.TypeFor[CheckEmailPage](),
	"status":      reflect.TypeFor[StatusPage](),
	"error":       reflect.TypeFor[ErrorPage](),
	"mailbox":     reflect.TypeFor[MailboxPage](),
	"signin":      reflect.TypeFor[SignInPage](),
	"password":    reflect.TypeFor[PasswordPage](),
	"queue":       reflect.TypeFor[QueuePage](),
	"case":        reflect.TypeFor[CasePage](),
	"dashboard":   reflect.TypeFor[DashboardPage](),
}

// PageNames returns the names of the page templates, sorted.
func PageNames() []string {
	names := make([]string, 0, len(pageTypes))
	for name := range pageTypes {
		names = append(names, name)
	}
	slices.Sort(names)
	return names
}

var (
	pagesOnce sync.Once
	pageSet   map[dsar.Language]map[string]*htmltemplate.Template
	pagesErr  error
)

// RenderPage renders the page template name ("index", "form", "check_email",
// "status", "error") with data, the matching page type above (IndexPage,
// FormPage, CheckEmailPage, StatusPage, ErrorPage) or a pointer to it, into
// w, in the language data.Lang. The page is rendered into a buffer first, so
// that nothing half-written reaches w. It returns an error for an unknown
// page, data of the wrong type, an unsupported language, and a template that
// fails (a catalog key missing in the language, say).
func RenderPage(w io.Writer, name string, data any) error {
	pagesOnce.Do(func() { pageSet, pagesErr = parsePages() })
	if pagesErr != nil {
		return pagesErr
	}
	want, ok := pageTypes[name]
	if !ok {
		return fmt.Errorf("templates: no page %q", name)
	}
	rv := reflect.ValueOf(data)
	if rv.Kind() == reflect.Pointer && rv.Type().Elem() == want && !rv.IsNil() {
		rv = rv.Elem()
	}
	if !rv.IsValid() || rv.Type() != want {
		return fmt.Errorf("templates: page %s needs a %s, not %T", name, want.Name(), data)
	}
	lang := rv.Interface().(pageData).base().Lang
	t, ok := pageSet[lang][name]
	if !ok {
		return fmt.Errorf("templates: page %s: unsupported language %q", name, lang)
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", rv.Interface()); err != nil {
		return fmt.Errorf("templates: render page %s: %w", name, err)
	}
	_, err := buf.WriteTo(w)
	return err
}

// pageLayout holds the shared frame of every page and the partials the pages
// share (the CSRF input, a form field, the messages of the last form sent).
const pageLayout = "pages/layout.html"

// parsePages parses every page template with the shared layout, once per
// language, so that the template functions (t, date, …) are bound to the
// language of the page, as in the mail templates.
func parsePages() (map[dsar.Language]map[string]*htmltemplate.Template, error) {
	out := make(map[dsar.Language]map[string]*htmltemplate.Template, len(dsar.Languages))
	for _, lang := range dsar.Languages {
		layout, err := htmltemplate.New("layout").Funcs(pageFuncs(lang)).ParseFS(pageFiles, pageLayout)
		if err != nil {
			return nil, fmt.Errorf("templates: parse %s: %w", pageLayout, err)
		}
		out[lang] = make(map[string]*htmltemplate.Template, len(pageTypes))
		for name := range pageTypes {
			t, err := layout.Clone()
			if err != nil {
				return nil, fmt.Errorf("templates: page %s: %w", name, err)
			}
			file := "pages/" + name + ".html"
			if _, err := t.ParseFS(pageFiles, file); err != nil {
				return nil, fmt.Errorf("templates: parse %s: %w", file, err)
			}
			out[lang][name] = t
		}
	}
	return out, nil
}

// pageFuncs returns the functions of the page templates of lang: those of
// the mail templates (t, label, days, abs) and
//
//	date D                  a YYYY-MM-DD string or a time.Time written out ("3 April 2025")
//	dateTime T              a time.Time with the time of day ("3 April 2025, 14:05")
//	isoDate D, isoTime T    the machine-readable forms for <time datetime>
//	tb KEY [NAME VALUE]...  t with the values in <strong>, as HTML
//	plural KEY N            KEY.one or KEY.other with {n} filled in
//	right TYPE PART         right.<TYPE>.<PART> (title, explanation)
//	jurisdiction CODE       the name of a jurisdiction ("NO" -> "Norway")
//	messageKind KIND        the label of a kind of message, "" for an unknown kind
//	brandStyle BRAND        the CSS custom properties of a brand (checked colours)
//	errorSummary FORMPAGE   the form's errors in field order, with their anchors
//	hasType TYPES TYPE      whether TYPES holds TYPE
//	languages               the supported languages
//	dict NAME VALUE...      a map, to pass several values to a partial
//	ids ID...               the non-empty IDs joined with spaces (aria-describedby)
func pageFuncs(lang dsar.Language) htmltemplate.FuncMap {
	f := htmltemplate.FuncMap(templateFuncs(lang))
	f["date"] = func(v any) (string, error) {
		s, err := isoDate(v)
		if err != nil || s == "" {
			return "", err
		}
		return longDate(lang, s), nil
	}
	f["dateTime"] = func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		d := longDate(lang, t.Format(time.DateOnly))
		if lang == dsar.LanguageNB {
			return d + " kl. " + t.Format("15.04")
		}
		return d + ", " + t.Format("15:04")
	}
	f["isoDate"] = isoDate
	f["isoTime"] = func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.Format(time.RFC3339)
	}
	f["tb"] = func(key string, pairs ...any) (htmltemplate.HTML, error) {
		if len(pairs)%2 != 0 {
			return "", fmt.Errorf("message %q: odd number of parameter arguments", key)
		}
		strong := make([]any, len(pairs))
		for i := 0; i < len(pairs); i += 2 {
			strong[i] = pairs[i]
			strong[i+1] = "<strong>" + htmltemplate.HTMLEscapeString(formatValue(pairs[i+1])) + "</strong>"
		}
		msg, ok := catalogs[lang][key]
		if !ok {
			return "", fmt.Errorf("message %q missing in catalog %s", key, lang)
		}
		// The catalog is ours, but escape its text all the same: only the
		// <strong> around the (escaped) values is markup.
		escaped := htmltemplate.HTMLEscapeString(msg)
		// The placeholders survive the escaping: names have no special
		// characters.
		params := make(map[string]any, len(strong)/2)
		for i := 0; i < len(strong); i += 2 {
			name, ok := strong[i].(string)
			if !ok {
				return "", fmt.Errorf("message %q: parameter name %v is not a string", key, strong[i])
			}
			params[name] = strong[i+1]
		}
		return htmltemplate.HTML(fill(escaped, params)), nil //nolint:gosec // escaped above
	}
	f["plural"] = func(key string, n int) (string, error) {
		form := ".other"
		if n == 1 || n == -1 {
			form = ".one"
		}
		return strictT(lang, key+form, "n", n)
	}
	f["right"] = func(t dsar.RequestType, part string) (string, error) {
		return strictT(lang, "right."+string(t)+"."+part)
	}
	f["jurisdiction"] = func(code string) string {
		key := "page.jurisdiction." + strings.ToLower(strings.ReplaceAll(code, "-", "_"))
		if msg, ok := catalogs[lang][key]; ok {
			return msg
		}
		return code
	}
	f["messageKind"] = func(kind string) (string, error) {
		if !slices.Contains(messageKinds, kind) {
			return "", nil
		}
		return strictT(lang, "page.status.kind."+kind)
	}
	f["brandStyle"] = brandStyle
	f["errorSummary"] = func(p FormPage) ([]errorItem, error) { return errorSummary(lang, p) }
	f["hasType"] = func(types []dsar.RequestType, t dsar.RequestType) bool { return slices.Contains(types, t) }
	f["languages"] = func() []dsar.Language { return dsar.Languages }
	f["dict"] = func(pairs ...any) (map[string]any, error) {
		if len(pairs)%2 != 0 {
			return nil, fmt.Errorf("dict: odd number of arguments")
		}
		m := make(map[string]any, len(pairs)/2)
		for i := 0; i < len(pairs); i += 2 {
			k, ok := pairs[i].(string)
			if !ok {
				return nil, fmt.Errorf("dict: key %v is not a string", pairs[i])
			}
			m[k] = pairs[i+1]
		}
		return m, nil
	}
	f["ids"] = func(ids ...any) string {
		var parts []string
		for _, id := range ids {
			if s, ok := id.(string); ok && s != "" {
				parts = append(parts, s)
			}
		}
		return strings.Join(parts, " ")
	}
	return f
}

// isoDate returns the YYYY-MM-DD form of a date given as such a string or as
// a time.Time (its calendar date where it is), "" for an empty one.
func isoDate(v any) (string, error) {
	switch d := v.(type) {
	case string:
		return d, nil
	case time.Time:
		if d.IsZero() {
			return "", nil
		}
		return d.Format(time.DateOnly), nil
	case *time.Time:
		if d == nil || d.IsZero() {
			return "", nil
		}
		return d.Format(time.DateOnly), nil
	}
	return "", fmt.Errorf("date: %T is not a date", v)
}

// messageKinds are the kinds of MessageItem the status page has a label for.
var messageKinds = []string{"clarification", "identity", "reply", "fee"}

// formFields lists the fields of the request form in the order they appear,
// with the catalog key of the name the error summary gives them (their label,
// or a short name where the label is a question).
var formFields = []struct{ name, label string }{
	{"type", "page.form.type.short"},
	{"email", "page.form.email.label"},
	{"name", "page.form.name.label"},
	{"customer_id", "page.form.customer_id.label"},
	{"phone", "page.form.phone.label"},
	{"details", "page.form.details.label"},
	{"inaccurate", "page.form.inaccurate.short"},
	{"correct", "page.form.correct.short"},
	{"recipient", "page.form.recipient.label"},
	{"language", "page.form.language.short"},
}

// errorItem is one line of the error summary of the request form: the label
// of the field, its message, and the anchor of the field ("" when the error
// belongs to no field on the page).
type errorItem struct {
	Href, Label, Message string
}

// errorSummary lists the errors of p in the order of the form's fields,
// followed by errors of fields the form does not show, sorted by name.
func errorSummary(lang dsar.Language, p FormPage) ([]errorItem, error) {
	var items []errorItem
	known := map[string]bool{}
	for _, f := range formFields {
		known[f.name] = true
		msg, ok := p.Errors[f.name]
		if !ok {
			continue
		}
		label, err := strictT(lang, f.label)
		if err != nil {
			return nil, err
		}
		href := "#" + f.name
		if f.name == "type" {
			href = ""
			if len(p.Types) > 0 {
				href = "#type-" + string(p.Types[0])
			}
		}
		items = append(items, errorItem{Href: href, Label: label, Message: msg})
	}
	var other []string
	for name := range p.Errors {
		if !known[name] {
			other = append(other, name)
		}
	}
	slices.Sort(other)
	for _, name := range other {
		items = append(items, errorItem{Message: p.Errors[name]})
	}
	return items, nil
}

// The service's own colours, used where a controller configures none or its
// primary colour would not be readable. Both reach over 4.5:1 against white.
const (
	DefaultPrimaryColor = "#0b5394"
	DefaultAccentColor  = "#0a2e57"
)

// minTextContrast is the contrast the primary brand colour must reach
// against white (WCAG 2.1 success criterion 1.4.3, level AA): it is the
// background of buttons and of the header, under white text, and the colour
// of links on white. The accent colour only draws the decorative band under
// the header, which conveys nothing, so it only has to be a colour.
const minTextContrast = 4.5

// rgb is a colour with 8-bit channels.
type rgb struct{ r, g, b uint8 }

// parseHexColor reads a #rrggbb colour (either case).
func parseHexColor(s string) (rgb, bool) {
	if len(s) != 7 || s[0] != '#' {
		return rgb{}, false
	}
	var c [3]uint8
	for i := range c {
		hi, ok1 := hexDigit(s[1+2*i])
		lo, ok2 := hexDigit(s[2+2*i])
		if !ok1 || !ok2 {
			return rgb{}, false
		}
		c[i] = hi<<4 | lo
	}
	return rgb{c[0], c[1], c[2]}, true
}

func hexDigit(c byte) (uint8, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

func (c rgb) String() string { return fmt.Sprintf("#%02x%02x%02x", c.r, c.g, c.b) }

// luminance is the relative luminance of c as WCAG 2.1 defines it.
func (c rgb) luminance() float64 {
	lin := func(v uint8) float64 {
		s := float64(v) / 255
		if s <= 0.04045 {
			return s / 12.92
		}
		return math.Pow((s+0.055)/1.055, 2.4)
	}
	return 0.2126*lin(c.r) + 0.7152*lin(c.g) + 0.0722*lin(c.b)
}

// mix returns c moved towards other by the fraction w (0 = c, 1 = other).
func (c rgb) mix(other rgb, w float64) rgb {
	m := func(a, b uint8) uint8 { return uint8(math.Round(float64(a)*(1-w) + float64(b)*w)) }
	return rgb{m(c.r, other.r), m(c.g, other.g), m(c.b, other.b)}
}

// contrast is the WCAG 2.1 contrast ratio of two colours, from 1 to 21.
func contrast(a, b rgb) float64 {
	la, lb := a.luminance(), b.luminance()
	if la < lb {
		la, lb = lb, la
	}
	return (la + 0.05) / (lb + 0.05)
}

// ContrastRatio returns the WCAG 2.1 contrast ratio, from 1 to 21, of two
// #rrggbb colours; ok is false when either is not such a colour. The ratio is
// not rounded: 4.49 does not pass 4.5.
func ContrastRatio(a, b string) (ratio float64, ok bool) {
	ca, ok1 := parseHexColor(a)
	cb, ok2 := parseHexColor(b)
	if !ok1 || !ok2 {
		return 0, false
	}
	return contrast(ca, cb), true
}

var white = rgb{255, 255, 255}

// accessibleColor returns c (lower-case) when it is a #rrggbb colour that
// reaches min contrast against white, and def otherwise.
func accessibleColor(c, def string, minRatio float64) string {
	if ratio, ok := ContrastRatio(c, "#ffffff"); ok && ratio >= minRatio {
		return strings.ToLower(c)
	}
	return def
}

// brandColors returns the colours a page of b uses: its primary colour when
// it reaches minTextContrast against white, its accent colour when it is a
// #rrggbb colour, and the defaults otherwise.
func brandColors(b Brand) (primary, accent string) {
	primary = accessibleColor(b.PrimaryColor, DefaultPrimaryColor, minTextContrast)
	accent = DefaultAccentColor
	if c, ok := parseHexColor(b.AccentColor); ok {
		accent = c.String()
	}
	return primary, accent
}

// brandStyle returns the CSS custom properties of b's colours for the
// layout's style sheet: --brand (buttons, links, header), --brand-dark (hover),
// --brand-tint (light backgrounds) and --accent (the band under the header).
// The colours are checked (#rrggbb, and contrast) before they reach the CSS.
func brandStyle(b Brand) htmltemplate.CSS {
	primary, accent := brandColors(b)
	p, _ := parseHexColor(primary)
	return htmltemplate.CSS(fmt.Sprintf( //nolint:gosec // only checked #rrggbb colours
		":root{--brand:%s;--brand-dark:%s;--brand-tint:%s;--accent:%s}",
		primary, p.mix(rgb{}, 0.25), p.mix(white, 0.92), accent))
}
