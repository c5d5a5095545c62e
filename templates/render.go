package templates

import (
	"bytes"
	"embed"
	"fmt"
	htmltemplate "html/template"
	"io"
	"reflect"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/dsar-project/dsar"
)

//go:embed pages
var pageFiles embed.FS

// base returns the part every page type shares; RenderPage takes the page's
// language from it.
func (p Page) base() Page { return p }

// pageData is satisfied by every page type (and a pointer to one), through
// the embedded Page.
type pageData interface{ base() Page }

// pageTypes maps each page template to the type of data it renders.
var pageTypes = map[string]reflect.Type{
	"index":          reflect.TypeFor[IndexPage](),
	"form":           reflect.TypeFor[FormPage](),
	"check_email":    reflect.TypeFor[CheckEmailPage](),
	"status":         reflect.TypeFor[StatusPage](),
	"error":          reflect.TypeFor[ErrorPage](),
	"mailbox":        reflect.TypeFor[MailboxPage](),
	"signin":         reflect.TypeFor[SignInPage](),
	"password":       reflect.TypeFor[PasswordPage](),
	"queue":          reflect.TypeFor[QueuePage](),
	"case":           reflect.TypeFor[CasePage](),
	"dashboard":      reflect.TypeFor[DashboardPage](),
	"bulk":           reflect.TypeFor[BulkPage](),
	"admin_users":    reflect.TypeFor[AdminUsersPage](),
	"admin_user":     reflect.TypeFor[AdminUserPage](),
	"admin_keys":     reflect.TypeFor[AdminKeysPage](),
	"admin_webhooks": reflect.TypeFor[AdminWebhooksPage](),
	"admin_webhook":  reflect.TypeFor[AdminWebhookPage](),
	"confirm_link":   reflect.TypeFor[ConfirmLinkPage](),
	"vendor":         reflect.TypeFor[VendorPage](),
	"datamap":        reflect.TypeFor[DataMapPage](),
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
//	fileSize N              a size in bytes written out ("1.4 MB", "1,4 MB")
//	tb KEY [NAME VALUE]...  t with the values in <strong>, as HTML
//	plural KEY N            KEY.one or KEY.other with {n} filled in
//	right TYPE PART         right.<TYPE>.<PART> (title, explanation)
//	jurisdiction CODE       the name of a jurisdiction ("NO" -> "Norway")
//	messageKind KIND        the label of a kind of message, "" for an unknown kind
//	eventKind KIND          what an audit event of the kind records, in words; the kind itself when unknown
//	brandStyle BRAND        the CSS custom properties of a brand (checked colours)
//	errorSummary FORMPAGE   the form's errors in field order, with their anchors
//	role ROLE               the name of a role ("Officer")
//	hasType TYPES TYPE      whether TYPES holds TYPE
//	languages               the supported languages
//	objectionKinds          the kinds of objection (Art 21)
//	feeBases                the bases of a fee (Art 15(3), 12(5))
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
	f["fileSize"] = func(n int64) string { return fileSize(lang, n) }
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
	f["eventKind"] = func(kind string) string {
		if msg, ok := catalogs[lang]["event."+kind]; ok {
			return msg
		}
		return kind
	}
	f["brandStyle"] = brandStyle
	f["errorSummary"] = func(p FormPage) ([]errorItem, error) { return errorSummary(lang, p) }
	f["role"] = func(r dsar.Role) string { return RoleName(lang, r) }
	f["hasType"] = func(types []dsar.RequestType, t dsar.RequestType) bool { return slices.Contains(types, t) }
	f["languages"] = func() []dsar.Language { return dsar.Languages }
	f["objectionKinds"] = func() []dsar.ObjectionKind { return dsar.ObjectionKinds }
	f["feeBases"] = func() []dsar.FeeBasis { return []dsar.FeeBasis{dsar.FeeFurtherCopy, dsar.FeeExcessive} }
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
var messageKinds = []string{string(dsar.MessageClarification), string(dsar.MessageIdentity), string(dsar.MessageReply),
	string(dsar.MessageFee), string(dsar.MessageReopened)}

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
	{"transmit_to", "page.form.transmit.short"},
	{"transmit_organisation", "page.form.recipient.label"},
	{"objection", "page.form.objection.legend"},
	{"regulation", "page.form.regulation.legend"},
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

// fileSize writes a size in bytes as people read it, in decimal units
// with one decimal below ten ("820 kB", "1.4 MB"; "1,4 MB" in bokmål).
func fileSize(lang dsar.Language, n int64) string {
	if n < 1000 {
		return fmt.Sprintf("%d\u00a0B", n)
	}
	v, unit := float64(n), ""
	for _, u := range []string{"kB", "MB", "GB", "TB"} {
		v, unit = v/1000, u
		if v < 999.95 {
			break
		}
	}
	s := fmt.Sprintf("%.0f", v)
	if v < 9.95 {
		s = fmt.Sprintf("%.1f", v)
		if lang == dsar.LanguageNB {
			s = strings.Replace(s, ".", ",", 1)
		}
	}
	return s + "\u00a0" + unit
}
