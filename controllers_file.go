package dsar

import (
	"bytes"
	_ "embed"
	"fmt"
	"io"
	"net/mail"
	"net/url"
	"os"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

//go:embed controllers.yaml
var defaultControllersYAML []byte

// DefaultControllers returns the controllers of the embedded example
// configuration, controllers.yaml.
func DefaultControllers() (*Controllers, error) {
	return ParseControllers("controllers.yaml", defaultControllersYAML)
}

// LoadControllers reads and parses the configuration file at path.
func LoadControllers(path string) (*Controllers, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, Errorf(EINVALID, "read controllers: %v", err)
	}
	return ParseControllers(path, data)
}

// ParseControllers parses and validates a controllers configuration; the
// filename is only used in messages. A bad configuration yields an EINVALID
// *Error whose Message lists every problem found, one a line, each as
// "file:line: field.path: what is wrong", and whose Fields hold the same
// problems with Params "file" and "line".
func ParseControllers(filename string, data []byte) (*Controllers, error) {
	p := &ctrlParser{file: filename, lines: map[string]int{}, typeBad: map[string]bool{}}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil && err != io.EOF {
		p.syntaxError(err)
		return nil, p.result()
	}
	if len(doc.Content) == 0 {
		p.problem(1, "", "the file is empty: want a mapping with a list of controllers")
		return nil, p.result()
	}
	var raw ctrlFileYAML
	p.lines[""] = doc.Content[0].Line
	p.decode(doc.Content[0], "", reflect.ValueOf(&raw).Elem())
	if p.values > ctrlMaxValues {
		return nil, p.result()
	}
	var next yaml.Node
	if err := dec.Decode(&next); err != io.EOF {
		line := next.Line
		if err != nil {
			line = 0
		}
		p.problem(line, "", "more than one YAML document: put every controller in the one controllers list")
	}
	cs := p.build(raw)
	if err := p.result(); err != nil {
		return nil, err
	}
	return cs, nil
}

// The shape of the configuration file. Decoding refuses unknown keys.
type ctrlFileYAML struct {
	Controllers []ctrlYAML `yaml:"controllers"`
}

type ctrlYAML struct {
	Key                  string              `yaml:"key"`
	LegalName            string              `yaml:"legal_name"`
	OrgNumber            string              `yaml:"org_number"`
	Jurisdiction         string              `yaml:"jurisdiction"`
	TimeZone             string              `yaml:"time_zone"`
	Languages            []string            `yaml:"languages"`
	PrivacyContact       *ctrlContactYAML    `yaml:"privacy_contact"`
	SupervisoryAuthority *ctrlAuthYAML       `yaml:"supervisory_authority"`
	DefaultRegulation    string              `yaml:"default_regulation"`
	Regulations          []string            `yaml:"regulations"`
	PauseClock           *bool               `yaml:"pause_clock"`
	RetentionMonths      *int                `yaml:"retention_months"`
	Identifiers          []string            `yaml:"identifiers"`
	ProcessorFor         string              `yaml:"processor_for"`
	Branding             *ctrlBrandingYAML   `yaml:"branding"`
	Systems              []ctrlSystemYAML    `yaml:"systems"`
	DataCategories       []ctrlCategoryYAML  `yaml:"data_categories"`
	Recipients           []ctrlRecipientYAML `yaml:"recipients"`
	Related              []string            `yaml:"related"`
	// PortabilityRecipients are the organisations set up for direct
	// transmission of a portable package (Art 20(2)).
	PortabilityRecipients []ctrlPortabilityYAML `yaml:"portability_recipients"`
}

type ctrlPortabilityYAML struct {
	Key         string          `yaml:"key"`
	Name        string          `yaml:"name"`
	URL         string          `yaml:"url"`
	Secret      *ctrlSecretYAML `yaml:"secret"`
	Timeout     string          `yaml:"timeout"`
	MaxAttempts *int            `yaml:"max_attempts"`
}

type ctrlContactYAML struct {
	Name    string `yaml:"name"`
	Email   string `yaml:"email"`
	Phone   string `yaml:"phone"`
	Address string `yaml:"address"`
}

type ctrlAuthYAML struct {
	Name    string `yaml:"name"`
	Address string `yaml:"address"`
	Website string `yaml:"website"`
	Email   string `yaml:"email"`
}

type ctrlBrandingYAML struct {
	Logo         string `yaml:"logo"`
	PrimaryColor string `yaml:"primary_color"`
	AccentColor  string `yaml:"accent_color"`
}

type ctrlSystemYAML struct {
	Key                string             `yaml:"key"`
	Name               string             `yaml:"name"`
	Owner              string             `yaml:"owner"`
	Role               string             `yaml:"role"`
	Vendor             string             `yaml:"vendor"`
	Country            string             `yaml:"country"`
	Safeguard          string             `yaml:"safeguard"`
	LegalBases         []string           `yaml:"legal_bases"`
	Purposes           []string           `yaml:"purposes"`
	DataCategories     []string           `yaml:"data_categories"`
	Marketing          bool               `yaml:"marketing"`
	Recipients         []string           `yaml:"recipients"`
	AutomatedDecisions []ctrlDecisionYAML `yaml:"automated_decisions"`
	Connector          *ctrlConnectorYAML `yaml:"connector"`
}

type ctrlDecisionYAML struct {
	Name         string `yaml:"name"`
	Logic        string `yaml:"logic"`
	Significance string `yaml:"significance"`
}

type ctrlCategoryYAML struct {
	Key              string        `yaml:"key"`
	Name             string        `yaml:"name"`
	Purpose          string        `yaml:"purpose"`
	Retention        string        `yaml:"retention"`
	RetentionPeriod  string        `yaml:"retention_period"`
	RetentionTrigger string        `yaml:"retention_trigger"`
	LegalBases       []string      `yaml:"legal_bases"`
	Hold             *ctrlHoldYAML `yaml:"hold"`
	Source           string        `yaml:"source"`
}

type ctrlHoldYAML struct {
	Law         string `yaml:"law"`
	Period      string `yaml:"period"`
	FromYearEnd bool   `yaml:"from_year_end"`
}

type ctrlRecipientYAML struct {
	Key         string             `yaml:"key"`
	Name        string             `yaml:"name"`
	Role        string             `yaml:"role"`
	Country     string             `yaml:"country"`
	Safeguard   string             `yaml:"safeguard"`
	Notify      *ctrlConnectorYAML `yaml:"notify"`
	Unreachable string             `yaml:"unreachable"`
}

// ctrlConnectorYAML holds the fields of every connector kind; those of
// another kind than the one named are refused (ctrlConnectorFields).
type ctrlConnectorYAML struct {
	Kind string `yaml:"kind"`
	// http and opendsr
	URL string `yaml:"url"`
	// http
	Secret         *ctrlSecretYAML `yaml:"secret"`
	Timeout        string          `yaml:"timeout"`
	RatePerSecond  *float64        `yaml:"rate_per_second"`
	MaxAttempts    *int            `yaml:"max_attempts"`
	NoData         []int           `yaml:"no_data"`
	MaxExportBytes *int64          `yaml:"max_export_bytes"`
	// sql
	Driver         string              `yaml:"driver"`
	DSN            *ctrlSecretYAML     `yaml:"dsn"`
	Statements     *ctrlStatementsYAML `yaml:"statements"`
	Tables         []ctrlTableYAML     `yaml:"tables"`
	ExportCategory string              `yaml:"export_category"`
	// manual
	Instructions string   `yaml:"instructions"`
	Checklist    []string `yaml:"checklist"`
	DueDays      *int     `yaml:"due_days"`
	// vendor_mail
	Email string `yaml:"email"`
	// manual and vendor_mail
	RemindEveryDays *int   `yaml:"remind_every_days"`
	AfterDays       *int   `yaml:"after_days"`
	OnOverdue       string `yaml:"on_overdue"`
	// opendsr
	Token       *ctrlSecretYAML `yaml:"token"`
	Certificate string          `yaml:"certificate"`
}

// ctrlSecretYAML names where a secret is kept. The decoder refuses a secret
// written as text without repeating it.
type ctrlSecretYAML struct {
	Env  string `yaml:"env"`
	File string `yaml:"file"`
}

type ctrlStatementsYAML struct {
	Export   []string `yaml:"export"`
	Erase    []string `yaml:"erase"`
	Rectify  []string `yaml:"rectify"`
	Restrict []string `yaml:"restrict"`
}

type ctrlTableYAML struct {
	Name     string            `yaml:"name"`
	Match    *ctrlMatchYAML    `yaml:"match"`
	Export   []string          `yaml:"export"`
	Category string            `yaml:"category"`
	Mask     map[string]string `yaml:"mask"`
	Rectify  []string          `yaml:"rectify"`
	Restrict string            `yaml:"restrict"`
}

type ctrlMatchYAML struct {
	Email      string `yaml:"email"`
	CustomerID string `yaml:"customer_id"`
	Phone      string `yaml:"phone"`
}

// ctrlProblem is one thing wrong with a configuration file.
type ctrlProblem struct {
	line int
	path string
	msg  string
}

// ctrlParser collects the problems of one configuration file, with the line
// of every field path taken from the YAML node tree.
type ctrlParser struct {
	file  string
	lines map[string]int // field path -> line of its key (or sequence item)
	// typeBad holds the paths of values of the wrong YAML type (and empty
	// list items): they decoded to nothing, and nothing under them is
	// reported again.
	typeBad map[string]bool
	// values counts the keys and values decoded, those an alias refers to
	// as often as it is used.
	values   int
	problems []ctrlProblem
}

// ctrlMaxValues bounds the keys and values of a configuration, so that a few
// aliases cannot make it huge: the shipped file has some 2,600.
const ctrlMaxValues = 100_000

// more counts the key or value n, and reports whether the file is still
// within ctrlMaxValues.
func (p *ctrlParser) more(n *yaml.Node, path string) bool {
	if p.values++; p.values == ctrlMaxValues+1 {
		p.problem(n.Line, path, fmt.Sprintf("more than %d keys and values with the aliases expanded", ctrlMaxValues))
	}
	return p.values <= ctrlMaxValues
}

// ctrlItem returns the path of the k-th item of the list at seq.
func ctrlItem(seq string, k int) string { return fmt.Sprintf("%s[%d]", seq, k) }

// decode sets v (a field of the file format) from the node n at path, as
// the YAML decoder would, and reports whether n fit. It records the line of
// every field it meets, and a problem, with the field's path and line, for
// every unknown or repeated key and every value of the wrong YAML type,
// which stays the zero value. A list keeps an item for every item in the
// file, the zero value for a bad one, so that the k-th item is the k-th in
// the file too. An alias is decoded as the value it refers to: as the file
// format has no recursive type, that value cannot lead back to the alias.
func (p *ctrlParser) decode(n *yaml.Node, path string, v reflect.Value) bool {
	if n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	if !p.more(n, path) {
		return false
	}
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null" {
		return true
	}
	if v.Type() == ctrlSecretType && n.Kind != yaml.MappingNode {
		// Never repeat what may be the secret itself.
		p.typeBad[path] = true
		p.problem(n.Line, path, "a secret is never written in the configuration: name where it is kept, {env: NAME} or {file: PATH}")
		return false
	}
	switch v.Kind() {
	case reflect.Pointer:
		e := reflect.New(v.Type().Elem())
		if !p.decode(n, path, e.Elem()) {
			return false
		}
		v.Set(e)
		return true
	case reflect.Struct:
		if n.Kind == yaml.MappingNode {
			p.mapping(n, path, v)
			return true
		}
	case reflect.Slice:
		if n.Kind == yaml.SequenceNode {
			for i, item := range n.Content {
				child := ctrlItem(path, i)
				p.lines[child] = item.Line
				e := reflect.New(v.Type().Elem()).Elem()
				if item.Kind == yaml.ScalarNode && item.ShortTag() == "!!null" {
					p.typeBad[child] = true
					p.problem(item.Line, child, "is empty")
				} else {
					p.decode(item, child, e)
				}
				v.Set(reflect.Append(v, e))
			}
			return true
		}
	case reflect.Map:
		if n.Kind == yaml.MappingNode {
			p.textMap(n, path, v)
			return true
		}
	default:
		if n.Kind == yaml.ScalarNode && n.Decode(v.Addr().Interface()) == nil {
			return true
		}
	}
	p.typeBad[path] = true
	got := ctrlDescribeTag(n.ShortTag())
	if s := ctrlScalar(n); s != "" {
		got += " " + strconv.Quote(s)
	}
	p.problem(n.Line, path, fmt.Sprintf("must be %s, not %s", ctrlDescribeType(v.Type()), got))
	return false
}

// mapping decodes the mapping n into the struct v key by key, refusing
// unknown and repeated keys, and then the mappings it merges in with "<<"
// (each once), whose keys count only where neither n nor a mapping merged
// in before sets them.
func (p *ctrlParser) mapping(n *yaml.Node, path string, v reflect.Value) {
	set, merged := map[string]bool{}, map[*yaml.Node]bool{}
	var merge func(n *yaml.Node)
	merge = func(n *yaml.Node) {
		if n.Kind == yaml.AliasNode {
			n = n.Alias
		}
		if merged[n] {
			return
		}
		merged[n] = true
		first := map[string]int{}
		var merges []*yaml.Node
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, val := n.Content[i], n.Content[i+1]
			if k.ShortTag() == "!!merge" {
				merges = append(merges, val)
				continue
			}
			child := k.Value
			if path != "" {
				child = path + "." + k.Value
			}
			if !p.more(k, child) {
				return
			}
			if l, dup := first[k.Value]; dup {
				p.problem(k.Line, child, fmt.Sprintf("key %q is set twice (first at line %d)", k.Value, l))
				continue
			}
			first[k.Value] = k.Line
			if set[k.Value] {
				continue
			}
			set[k.Value] = true
			f, known := ctrlField(v, k.Value)
			if !known {
				msg := fmt.Sprintf("unknown field %q", k.Value)
				if v.Type() == ctrlSystemType && (k.Value == "handling" || k.Value == "webhook_url") {
					msg += ": a connector block replaces handling and webhook_url (docs/connectors.md, \"The data map\")"
				}
				p.problem(k.Line, child, msg)
				continue
			}
			if _, seen := p.lines[child]; !seen {
				p.lines[child] = k.Line
			}
			p.decode(val, child, f)
		}
		for _, m := range merges {
			if m.Kind == yaml.AliasNode {
				m = m.Alias
			}
			items := []*yaml.Node{m}
			if m.Kind == yaml.SequenceNode {
				items = m.Content
			}
			for _, item := range items {
				if item.Kind == yaml.AliasNode {
					item = item.Alias
				}
				if item.Kind != yaml.MappingNode {
					p.problem(item.Line, path, "<< must merge in a mapping or a list of mappings")
					continue
				}
				merge(item)
			}
		}
	}
	merge(n)
}

// ctrlSecretType is the type of a named secret in the file format, and
// ctrlSystemType that of a system.
var (
	ctrlSecretType = reflect.TypeOf(ctrlSecretYAML{})
	ctrlSystemType = reflect.TypeOf(ctrlSystemYAML{})
)

// textMap decodes the mapping n of text to text (the masks of a table) into
// the map v, in which a null value is the text "null".
func (p *ctrlParser) textMap(n *yaml.Node, path string, v reflect.Value) {
	v.Set(reflect.MakeMap(v.Type()))
	first := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		if val.Kind == yaml.AliasNode {
			val = val.Alias
		}
		child := path + "." + k.Value
		if !p.more(k, child) {
			return
		}
		if k.Kind != yaml.ScalarNode || k.ShortTag() == "!!merge" {
			p.problem(k.Line, path, "keys must be text")
			continue
		}
		if l, dup := first[k.Value]; dup {
			p.problem(k.Line, child, fmt.Sprintf("key %q is set twice (first at line %d)", k.Value, l))
			continue
		}
		first[k.Value] = k.Line
		p.lines[child] = k.Line
		switch {
		case val.Kind == yaml.ScalarNode && val.ShortTag() == "!!null":
			v.SetMapIndex(reflect.ValueOf(k.Value), reflect.ValueOf("null"))
		case val.Kind == yaml.ScalarNode:
			v.SetMapIndex(reflect.ValueOf(k.Value), reflect.ValueOf(val.Value))
		default:
			p.typeBad[child] = true
			p.problem(val.Line, child, "must be text, not "+ctrlDescribeTag(val.ShortTag()))
		}
	}
}

// ctrlField returns the field of the struct v that the key names.
func ctrlField(v reflect.Value, key string) (reflect.Value, bool) {
	for i := 0; i < v.NumField(); i++ {
		if v.Type().Field(i).Tag.Get("yaml") == key {
			return v.Field(i), true
		}
	}
	return reflect.Value{}, false
}

// ctrlScalar returns the text of a scalar node, shortened for messages.
func ctrlScalar(n *yaml.Node) string {
	if n.Kind != yaml.ScalarNode {
		return ""
	}
	if r := []rune(n.Value); len(r) > 40 {
		return string(r[:37]) + "..."
	}
	return n.Value
}

// ctrlParent returns the path of the field that holds the field at path.
func ctrlParent(path string) string {
	if strings.HasSuffix(path, "]") {
		return path[:strings.LastIndexByte(path, '[')]
	}
	if i := strings.LastIndexByte(path, '.'); i >= 0 {
		return path[:i]
	}
	return ""
}

// lineOf returns the line of the field at path or, when the file leaves it
// out, of the nearest field that holds it.
func (p *ctrlParser) lineOf(path string) int {
	for {
		if l, ok := p.lines[path]; ok {
			return l
		}
		if path == "" {
			return 0
		}
		path = ctrlParent(path)
	}
}

func (p *ctrlParser) problem(line int, path, msg string) {
	p.problems = append(p.problems, ctrlProblem{line: line, path: path, msg: msg})
}

// bad records a problem with the field at path, unless the field or one that
// holds it already had the wrong YAML type.
func (p *ctrlParser) bad(path, format string, args ...any) {
	p.badNear(path, path, format, args...)
}

// badNear is bad for a field the file leaves out where another field, at
// near, is what makes it required.
func (p *ctrlParser) badNear(path, near, format string, args ...any) {
	for q := path; ; q = ctrlParent(q) {
		if p.typeBad[q] {
			return
		}
		if q == "" {
			break
		}
	}
	p.problem(p.lineOf(near), path, fmt.Sprintf(format, args...))
}

// syntaxError records an error of the YAML parser, which gives its line
// only in its text: "yaml: line 3: did not find expected key".
func (p *ctrlParser) syntaxError(err error) {
	msg, line := strings.TrimPrefix(err.Error(), "yaml: "), 0
	if rest, ok := strings.CutPrefix(msg, "line "); ok {
		if n, text, ok := strings.Cut(rest, ": "); ok {
			if l, err := strconv.Atoi(n); err == nil {
				msg, line = text, l
			}
		}
	}
	p.problem(line, "", "invalid YAML: "+msg)
}

func ctrlDescribeTag(tag string) string {
	switch tag {
	case "!!map":
		return "a mapping"
	case "!!seq":
		return "a list"
	case "!!str":
		return "text"
	case "!!int", "!!float":
		return "a number"
	case "!!bool":
		return "a boolean"
	case "!!null":
		return "null"
	}
	return tag
}

func ctrlDescribeType(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Slice:
		return "a list"
	case reflect.Struct, reflect.Map:
		return "a mapping"
	case reflect.Float64:
		return "a number"
	case reflect.String:
		return "text"
	case reflect.Bool:
		return "true or false"
	case reflect.Int:
		return "a whole number"
	}
	return t.String()
}

// result returns the problems found, in file order, as one EINVALID error.
func (p *ctrlParser) result() error {
	if len(p.problems) == 0 {
		return nil
	}
	sort.SliceStable(p.problems, func(i, j int) bool { return p.problems[i].line < p.problems[j].line })
	var lines []string
	var fields []FieldError
	seen := map[ctrlProblem]bool{}
	for _, pr := range p.problems {
		if seen[pr] {
			continue
		}
		seen[pr] = true
		var b strings.Builder
		b.WriteString(p.file)
		if pr.line > 0 {
			fmt.Fprintf(&b, ":%d", pr.line)
		}
		b.WriteString(": ")
		if pr.path != "" {
			b.WriteString(pr.path)
			b.WriteString(": ")
		}
		b.WriteString(pr.msg)
		lines = append(lines, b.String())
		fields = append(fields, FieldError{Field: pr.path, Message: pr.msg, Params: map[string]any{"file": p.file, "line": pr.line}})
	}
	return &Error{Code: EINVALID, Message: strings.Join(lines, "\n"), Fields: fields}
}

var (
	ctrlKeyRE     = regexp.MustCompile(`^[a-z0-9]+(?:-[a-z0-9]+)*$`)
	ctrlColorRE   = regexp.MustCompile(`^#[0-9A-Fa-f]{6}$`)
	ctrlCountryRE = regexp.MustCompile(`^[A-Z]{2}$`)
)

const ctrlMaxKeyLength = 63

// build validates the decoded file and turns it into Controllers.
func (p *ctrlParser) build(raw ctrlFileYAML) *Controllers {
	cs := &Controllers{byKey: map[string]*Controller{}}
	if len(raw.Controllers) == 0 {
		p.bad("controllers", "at least one controller is required")
		return cs
	}
	first := map[string]string{} // key -> path of the controller that has it
	paths := make([]string, len(raw.Controllers))
	for i, rc := range raw.Controllers {
		path := ctrlItem("controllers", i)
		paths[i] = path
		c := p.controller(path, rc)
		if c.Key == "" {
			continue
		}
		if prev, dup := first[c.Key]; dup {
			p.bad(path+".key", "duplicate controller key %q (first at line %d)", c.Key, p.lineOf(prev+".key"))
			continue
		}
		first[c.Key] = path
		cs.list = append(cs.list, c)
		cs.byKey[c.Key] = c
	}
	for i, rc := range raw.Controllers {
		for j, r := range rc.Related {
			r = strings.TrimSpace(r)
			if ctrlKeyRE.MatchString(r) && len(r) <= ctrlMaxKeyLength && first[r] == "" {
				p.bad(ctrlItem(paths[i]+".related", j), "unknown controller %q", r)
			}
		}
	}
	return cs
}

// key checks an identifier of the configuration and returns it, or "" when
// it is missing or malformed.
func (p *ctrlParser) key(path, v string) string {
	v = strings.TrimSpace(v)
	switch {
	case v == "":
		p.bad(path, "is required")
		return ""
	case len(v) > ctrlMaxKeyLength || !ctrlKeyRE.MatchString(v):
		p.bad(path, "invalid key %q: use at most %d lowercase letters, digits and single '-' between them", v, ctrlMaxKeyLength)
		return ""
	}
	return v
}

func (p *ctrlParser) required(path, v string) string {
	v = strings.TrimSpace(v)
	if v == "" {
		p.bad(path, "is required")
	}
	return v
}

func (p *ctrlParser) email(path, v string, required bool) string {
	v = strings.TrimSpace(v)
	if v == "" {
		if required {
			p.bad(path, "is required")
		}
		return ""
	}
	a, err := mail.ParseAddress(v)
	at := strings.LastIndexByte(v, '@')
	if err != nil || a.Name != "" || a.Address != v || at < 1 || !strings.Contains(v[at+1:], ".") {
		p.bad(path, "invalid e-mail address %q: want a bare address such as privacy@example.com", v)
		return ""
	}
	return v
}

// webURL checks an absolute http or https URL.
func (p *ctrlParser) webURL(path, v string) string {
	v = strings.TrimSpace(v)
	if v == "" {
		return ""
	}
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		p.bad(path, "invalid URL %q: want an absolute http or https URL", v)
		return ""
	}
	return v
}

func (p *ctrlParser) country(path, v string) string {
	v = strings.TrimSpace(v)
	if v != "" && !ctrlCountryRE.MatchString(v) {
		p.bad(path, "invalid country %q: want an ISO 3166-1 alpha-2 code such as NO or US", v)
		return ""
	}
	return v
}

func (p *ctrlParser) safeguard(path, v, country string) Safeguard {
	s := Safeguard(strings.TrimSpace(v))
	switch {
	case s == "" && country != "" && !InEEA(country):
		p.bad(path, "is required: %s is outside the EEA", country)
	case s != "" && !s.Valid():
		p.bad(path, "unknown safeguard %q (want one of %s)", s, ctrlJoin(Safeguards))
		return ""
	}
	return s
}

func (p *ctrlParser) legalBases(path string, vs []string) []LegalBasis {
	if len(vs) == 0 {
		p.bad(path, "at least one legal basis is required")
	}
	return ctrlEnumList(p, path, vs, LegalBases, "legal basis")
}

func ctrlJoin[T ~string](vs []T) string {
	s := make([]string, len(vs))
	for i, v := range vs {
		s[i] = string(v)
	}
	return strings.Join(s, ", ")
}

func (p *ctrlParser) controller(path string, rc ctrlYAML) *Controller {
	f := func(name string) string { return path + "." + name }
	c := &Controller{
		Key:          p.key(f("key"), rc.Key),
		LegalName:    p.required(f("legal_name"), rc.LegalName),
		OrgNumber:    strings.TrimSpace(rc.OrgNumber),
		ProcessorFor: strings.TrimSpace(rc.ProcessorFor),
		PauseClock:   rc.PauseClock,
	}

	c.Jurisdiction = Jurisdiction(strings.TrimSpace(rc.Jurisdiction))
	if c.Jurisdiction == "" {
		p.bad(f("jurisdiction"), "is required")
	} else if !c.Jurisdiction.Valid() {
		p.bad(f("jurisdiction"), "unknown jurisdiction %q (want one of %s)", c.Jurisdiction, ctrlJoin(Jurisdictions))
	}

	c.TimeZone = strings.TrimSpace(rc.TimeZone)
	if c.TimeZone == "" {
		p.bad(f("time_zone"), "is required")
	} else if loc, err := time.LoadLocation(c.TimeZone); err != nil || c.TimeZone == "Local" {
		p.bad(f("time_zone"), "unknown time zone %q", c.TimeZone)
	} else {
		c.Location = loc
	}

	if len(rc.Languages) == 0 {
		p.bad(f("languages"), "at least one language is required")
	}
	c.Languages = ctrlEnumList(p, f("languages"), rc.Languages, Languages, "language")

	pc := rc.PrivacyContact
	if pc == nil {
		pc = &ctrlContactYAML{}
	}
	c.PrivacyContact = Contact{
		Name:    strings.TrimSpace(pc.Name),
		Email:   p.email(f("privacy_contact.email"), pc.Email, true),
		Phone:   strings.TrimSpace(pc.Phone),
		Address: strings.TrimSpace(pc.Address),
	}

	sa := rc.SupervisoryAuthority
	if sa == nil {
		sa = &ctrlAuthYAML{}
	}
	c.SupervisoryAuthority = SupervisoryAuthority{
		Name:    p.required(f("supervisory_authority.name"), sa.Name),
		Address: p.required(f("supervisory_authority.address"), sa.Address),
		Website: p.webURL(f("supervisory_authority.website"), sa.Website),
		Email:   p.email(f("supervisory_authority.email"), sa.Email, false),
	}

	p.regulations(c, path, rc)

	c.RetentionMonths = DefaultRetentionMonths
	if rc.RetentionMonths != nil {
		c.RetentionMonths = *rc.RetentionMonths
	}
	switch {
	case c.RetentionMonths < 1:
		p.bad(f("retention_months"), "must be at least 1, not %d", c.RetentionMonths)
	case c.Allows(RegulationCCPA) && c.RetentionMonths < MinCCPARetentionMonths:
		p.bad(f("retention_months"), "must be at least %d when ccpa is allowed (11 CCR §7101), not %d",
			MinCCPARetentionMonths, c.RetentionMonths)
	}

	c.Identifiers = ctrlEnumList(p, f("identifiers"), rc.Identifiers, Identifiers, "identifier")

	if b := rc.Branding; b != nil {
		c.Branding.Logo = strings.TrimSpace(b.Logo)
		if strings.Contains(c.Branding.Logo, "://") {
			c.Branding.Logo = p.webURL(f("branding.logo"), c.Branding.Logo)
		}
		c.Branding.PrimaryColor = p.color(f("branding.primary_color"), b.PrimaryColor)
		c.Branding.AccentColor = p.color(f("branding.accent_color"), b.AccentColor)
	}

	p.dataCategories(c, f("data_categories"), rc.DataCategories)
	p.recipients(c, f("recipients"), rc.Recipients)
	p.systems(c, f("systems"), rc.Systems)
	p.portabilityRecipients(c, f("portability_recipients"), rc.PortabilityRecipients)

	for j, v := range rc.Related {
		item := ctrlItem(f("related"), j)
		k := p.key(item, v)
		switch {
		case k == "":
		case k == c.Key:
			p.bad(item, "a controller cannot be related to itself")
		case slices.Contains(c.Related, k):
			p.bad(item, "duplicate related controller %q", k)
		default:
			c.Related = append(c.Related, k)
		}
	}
	return c
}

// ctrlEnumList checks a list of enumerated values, refusing unknown and
// repeated ones, and returns the good ones.
func ctrlEnumList[T ~string](p *ctrlParser, path string, vs []string, allowed []T, what string) []T {
	var out []T
	for j, v := range vs {
		x := T(strings.TrimSpace(v))
		item := ctrlItem(path, j)
		switch {
		case !slices.Contains(allowed, x):
			p.bad(item, "unknown %s %q (want one of %s)", what, x, ctrlJoin(allowed))
		case slices.Contains(out, x):
			p.bad(item, "duplicate %s %q", what, x)
		default:
			out = append(out, x)
		}
	}
	return out
}

// regulations checks the default regulation and the allowed ones.
func (p *ctrlParser) regulations(c *Controller, path string, rc ctrlYAML) {
	c.DefaultRegulation = Regulation(strings.TrimSpace(rc.DefaultRegulation))
	def := path + ".default_regulation"
	switch {
	case c.DefaultRegulation == "":
		p.bad(def, "is required")
	case !c.DefaultRegulation.Valid():
		p.bad(def, "unknown regulation %q (want one of %s)", c.DefaultRegulation, ctrlJoin(Regulations))
	}
	c.Regulations = ctrlEnumList(p, path+".regulations", rc.Regulations, Regulations, "regulation")
	switch {
	case !c.DefaultRegulation.Valid():
	case len(rc.Regulations) == 0:
		c.Regulations = []Regulation{c.DefaultRegulation}
	case !c.Allows(c.DefaultRegulation):
		p.bad(path+".regulations", "must include the default regulation %q", c.DefaultRegulation)
	}
}

func (p *ctrlParser) color(path, v string) string {
	v = strings.TrimSpace(v)
	if v == "" {
		return ""
	}
	if !ctrlColorRE.MatchString(v) {
		p.bad(path, "invalid colour %q: want #rrggbb", v)
		return ""
	}
	return strings.ToLower(v)
}

// DefaultControllersYAML returns the shipped example configuration as it is
// embedded, for records of which configuration was in use.
func DefaultControllersYAML() []byte { return append([]byte(nil), defaultControllersYAML...) }
