package dsar

import (
	"net"
	"net/url"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"time"
)

// The defaults of the connector settings a configuration leaves out.
const (
	// DefaultHTTPTimeout bounds one call to a system's HTTP endpoint.
	DefaultHTTPTimeout = 10 * time.Second
	// DefaultMaxExportBytes bounds the body of an HTTP system's export
	// data when its max_export_bytes is not set.
	DefaultMaxExportBytes = 256 << 20
	// DefaultDueDays is when an officer's manual task is due.
	DefaultDueDays = 14
	// DefaultRemindEveryDays is how often the officer or vendor of an open
	// task is reminded.
	DefaultRemindEveryDays = 7
	// DefaultAfterDays is when a task of a person is overdue and
	// DefaultOnOverdue (block) or the configured rule applies.
	DefaultAfterDays = 30
	// DefaultOnOverdue is what happens to an overdue task of a person.
	DefaultOnOverdue = OverdueBlock
)

// SQLDrivers lists the databases the sql connector reaches.
var SQLDrivers = []string{"postgres"}

// The limits of the connector settings.
const (
	ctrlMaxHTTPTimeout = 5 * time.Minute
	ctrlMaxAttempts    = 100
	ctrlMaxDays        = 365
	ctrlMaxRate        = 10_000
	// ctrlMaxExportBytes is the most max_export_bytes may be: 64 GiB.
	ctrlMaxExportBytes = 64 << 30
)

var (
	// ctrlEnvRE is the name of an environment variable.
	ctrlEnvRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
	// ctrlSQLNameRE is a table (optionally schema-qualified) or column
	// name the sql connector may put in a statement it writes.
	ctrlSQLNameRE  = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
	ctrlSQLTableRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)?$`)
	// ctrlShortPeriodRE is a hold period written short: 5y, 6m, 2w, 30d.
	ctrlShortPeriodRE = regexp.MustCompile(`^(\d+)([ymwdYMWD])$`)
)

// ctrlConnectorFields lists the fields of each connector kind besides kind.
var ctrlConnectorFields = map[ConnectorKind][]string{
	ConnectorHTTP:       {"url", "secret", "timeout", "rate_per_second", "max_attempts", "no_data", "max_export_bytes"},
	ConnectorSQL:        {"driver", "dsn", "statements", "tables", "export_category"},
	ConnectorManual:     {"instructions", "checklist", "due_days", "remind_every_days", "after_days", "on_overdue"},
	ConnectorVendorMail: {"email", "remind_every_days", "after_days", "on_overdue"},
	ConnectorOpenDSR:    {"url", "token", "certificate"},
}

// ctrlNotifyKinds are the connector kinds a recipient is told through.
var ctrlNotifyKinds = []ConnectorKind{ConnectorHTTP, ConnectorVendorMail, ConnectorManual}

// ctrlOverdue lists the values of on_overdue.
var ctrlOverdue = []OnOverdue{OverdueBlock, OverdueSkip}

// ctrlMasks lists the masks of a column besides fixed:TEXT.
var ctrlMasks = []string{"null", "hmac", "random"}

// dataCategories checks the controller's data categories.
func (p *ctrlParser) dataCategories(c *Controller, path string, raw []ctrlCategoryYAML) {
	firstLine := map[string]int{}
	for j, rd := range raw {
		dp := ctrlItem(path, j)
		d := DataCategory{
			Key:              p.key(dp+".key", rd.Key),
			Name:             p.required(dp+".name", rd.Name),
			Purpose:          strings.TrimSpace(rd.Purpose),
			Retention:        p.required(dp+".retention", rd.Retention),
			RetentionTrigger: strings.TrimSpace(rd.RetentionTrigger),
			LegalBases:       p.legalBases(dp+".legal_bases", rd.LegalBases),
			Source:           strings.TrimSpace(rd.Source),
		}
		if s := strings.TrimSpace(rd.RetentionPeriod); s != "" {
			period, err := ParseRetentionPeriod(s)
			if err != nil {
				p.bad(dp+".retention_period", "%v", err)
			}
			d.RetentionPeriod = period
		}
		if h := rd.Hold; h != nil {
			hp := dp + ".hold"
			d.Hold = &LegalHold{Law: p.required(hp+".law", h.Law), FromYearEnd: h.FromYearEnd}
			d.Hold.Period = p.holdPeriod(hp+".period", h.Period)
			if !d.HasBasis(LegalBasisLegalObligation) && len(d.LegalBases) > 0 {
				p.bad(hp, "a legal hold is retention the law requires: add legal_obligation to the category's legal_bases")
			}
		}
		if d.Key != "" {
			if l, dup := firstLine[d.Key]; dup {
				p.bad(dp+".key", "duplicate data category key %q (first at line %d)", d.Key, l)
				continue
			}
			firstLine[d.Key] = p.lineOf(dp + ".key")
		}
		c.DataCategories = append(c.DataCategories, d)
	}
}

// holdPeriod checks the period of a legal hold: 5y, 6m, 2w, 30d, or an ISO
// 8601 duration as retention_period takes.
func (p *ctrlParser) holdPeriod(path, v string) RetentionPeriod {
	v = strings.TrimSpace(v)
	if v == "" {
		p.bad(path, "is required: how long the law keeps the data, such as 5y")
		return RetentionPeriod{}
	}
	iso := v
	if m := ctrlShortPeriodRE.FindStringSubmatch(v); m != nil {
		iso = "P" + m[1] + strings.ToUpper(m[2])
	}
	period, err := ParseRetentionPeriod(iso)
	if err != nil {
		p.bad(path, "invalid period %q: want years, months, weeks or days such as 5y, 6m, 2w or 30d", v)
	}
	return period
}

// recipients checks the controller's recipients: each is told of a change
// through a connector, or the reason that is impossible is recorded.
func (p *ctrlParser) recipients(c *Controller, path string, raw []ctrlRecipientYAML) {
	firstLine := map[string]int{}
	for j, rr := range raw {
		rp := ctrlItem(path, j)
		r := Recipient{
			Key:         p.key(rp+".key", rr.Key),
			Name:        p.required(rp+".name", rr.Name),
			Role:        p.required(rp+".role", rr.Role),
			Country:     p.country(rp+".country", rr.Country),
			Unreachable: strings.TrimSpace(rr.Unreachable),
		}
		r.Safeguard = p.safeguard(rp+".safeguard", rr.Safeguard, r.Country)
		switch {
		case rr.Notify != nil && r.Unreachable != "":
			p.bad(rp+".unreachable", "give either notify or unreachable, not both")
		case rr.Notify == nil && r.Unreachable == "":
			p.badNear(rp+".notify", rp, "is required: how the recipient is told of a rectification, erasure or restriction (Art 19), "+
				"or unreachable: why that is impossible or disproportionate")
		case rr.Notify != nil:
			r.Notify = p.connector(rp+".notify", rr.Notify, ctrlNotifyKinds)
		}
		if r.Key != "" {
			if l, dup := firstLine[r.Key]; dup {
				p.bad(rp+".key", "duplicate recipient key %q (first at line %d)", r.Key, l)
				continue
			}
			firstLine[r.Key] = p.lineOf(rp + ".key")
		}
		c.Recipients = append(c.Recipients, r)
	}
}

// systems checks the controller's connected systems; its data categories
// and recipients must be checked first.
func (p *ctrlParser) systems(c *Controller, path string, raw []ctrlSystemYAML) {
	firstLine := map[string]int{}
	for j, rs := range raw {
		sp := ctrlItem(path, j)
		s := System{
			Key:        p.key(sp+".key", rs.Key),
			Name:       p.required(sp+".name", rs.Name),
			Owner:      strings.TrimSpace(rs.Owner),
			Vendor:     strings.TrimSpace(rs.Vendor),
			Country:    p.country(sp+".country", rs.Country),
			LegalBases: p.legalBases(sp+".legal_bases", rs.LegalBases),
			Marketing:  rs.Marketing,
		}
		s.Safeguard = p.safeguard(sp+".safeguard", rs.Safeguard, s.Country)
		switch s.Role = SystemRole(strings.TrimSpace(rs.Role)); {
		case s.Role == "":
			p.bad(sp+".role", "is required (want one of %s)", ctrlJoin(SystemRoles))
		case !slices.Contains(SystemRoles, s.Role):
			p.bad(sp+".role", "unknown role %q (want one of %s)", s.Role, ctrlJoin(SystemRoles))
		case s.Role == RoleProcessor && s.Vendor == "":
			p.badNear(sp+".vendor", sp+".role", "is required for a processor: who runs the system for the controller (Art 28)")
		}
		if len(rs.Purposes) == 0 {
			p.bad(sp+".purposes", "at least one purpose is required")
		}
		for k, v := range rs.Purposes {
			if v = strings.TrimSpace(v); v == "" {
				p.bad(ctrlItem(sp+".purposes", k), "is empty")
				continue
			}
			s.Purposes = append(s.Purposes, v)
		}
		if len(rs.DataCategories) == 0 {
			p.bad(sp+".data_categories", "at least one data category is required")
		}
		s.DataCategories = p.refs(sp+".data_categories", "data category", "data_categories", rs.DataCategories,
			func(k string) bool { _, ok := c.DataCategory(k); return ok })
		s.Recipients = p.refs(sp+".recipients", "recipient", "recipients", rs.Recipients,
			func(k string) bool { _, ok := c.Recipient(k); return ok })
		for k, rd := range rs.AutomatedDecisions {
			dp := ctrlItem(sp+".automated_decisions", k)
			d := AutomatedDecision{
				Name:         p.required(dp+".name", rd.Name),
				Logic:        p.required(dp+".logic", rd.Logic),
				Significance: p.required(dp+".significance", rd.Significance),
			}
			if d.Name != "" && slices.ContainsFunc(s.AutomatedDecisions, func(x AutomatedDecision) bool { return x.Name == d.Name }) {
				p.bad(dp+".name", "duplicate automated decision %q", d.Name)
				continue
			}
			s.AutomatedDecisions = append(s.AutomatedDecisions, d)
		}
		if rs.Connector == nil {
			p.badNear(sp+".connector", sp, "is required: how tasks reach the system, with kind one of %s", ctrlJoin(ConnectorKinds))
		} else if conn := p.connector(sp+".connector", rs.Connector, ConnectorKinds); conn != nil {
			s.Connector = *conn
			p.exportCategories(sp+".connector", rs.Connector, conn.SQL, s.DataCategories)
		}
		if s.Key != "" {
			if l, dup := firstLine[s.Key]; dup {
				p.bad(sp+".key", "duplicate system key %q (first at line %d)", s.Key, l)
				continue
			}
			firstLine[s.Key] = p.lineOf(sp + ".key")
		}
		c.Systems = append(c.Systems, s)
	}
}

// connector checks a connector block of one of the kinds allowed, with the
// defaults filled in; nil when its kind is missing or not allowed.
func (p *ctrlParser) connector(path string, rc *ctrlConnectorYAML, allowed []ConnectorKind) *Connector {
	kind := ConnectorKind(strings.TrimSpace(rc.Kind))
	switch {
	case kind == "":
		p.bad(path+".kind", "is required (want one of %s)", ctrlJoin(allowed))
		return nil
	case !slices.Contains(ConnectorKinds, kind):
		p.bad(path+".kind", "unknown connector kind %q (want one of %s)", kind, ctrlJoin(allowed))
		return nil
	case !slices.Contains(allowed, kind):
		p.bad(path+".kind", "a recipient is not told through %s (want one of %s)", kind, ctrlJoin(allowed))
		return nil
	}
	for _, name := range p.connectorFieldsSet(path) {
		if !slices.Contains(ctrlConnectorFields[kind], name) {
			p.bad(path+"."+name, "is not a field of kind %s (its fields: %s)", kind, strings.Join(ctrlConnectorFields[kind], ", "))
		}
	}
	f := func(name string) string { return path + "." + name }
	c := &Connector{Kind: kind}
	switch kind {
	case ConnectorHTTP:
		h := &HTTPConnector{
			URL:            p.requiredURL(f("url"), path, rc.URL),
			Secret:         p.secret(f("secret"), path, rc.Secret, true),
			Timeout:        DefaultHTTPTimeout,
			MaxAttempts:    DefaultMaxAttempts,
			MaxExportBytes: DefaultMaxExportBytes,
		}
		if t := strings.TrimSpace(rc.Timeout); t != "" {
			d, err := time.ParseDuration(t)
			switch {
			case err != nil:
				p.bad(f("timeout"), "invalid duration %q: want a number with a unit such as 10s or 2m", t)
			case d <= 0 || d > ctrlMaxHTTPTimeout:
				p.bad(f("timeout"), "must be more than 0s and at most %s, not %s", ctrlMaxHTTPTimeout, t)
			default:
				h.Timeout = d
			}
		}
		if r := rc.RatePerSecond; r != nil {
			if !(*r >= 0 && *r <= ctrlMaxRate) { // NaN too
				p.bad(f("rate_per_second"), "must be between 0 (no limit) and %d, not %g", ctrlMaxRate, *r)
			} else {
				h.RatePerSecond = *r
			}
		}
		h.MaxAttempts = p.count(f("max_attempts"), rc.MaxAttempts, DefaultMaxAttempts, 1, ctrlMaxAttempts)
		if m := rc.MaxExportBytes; m != nil {
			if *m < 1024 || *m > ctrlMaxExportBytes {
				p.bad(f("max_export_bytes"), "must be between 1024 and %d bytes, not %d", int64(ctrlMaxExportBytes), *m)
			} else {
				h.MaxExportBytes = *m
			}
		}
		for k, code := range rc.NoData {
			item := ctrlItem(f("no_data"), k)
			switch {
			case code < 400 || code > 499 || code == 429:
				p.bad(item, "invalid status %d: want a 4xx status by which the system says it holds nothing (404, 410), not 429", code)
			case slices.Contains(h.NoData, code):
				p.bad(item, "duplicate status %d", code)
			default:
				h.NoData = append(h.NoData, code)
			}
		}
		c.HTTP = h
	case ConnectorSQL:
		c.SQL = p.sqlConnector(path, rc)
	case ConnectorManual:
		m := &ManualConnector{Instructions: strings.TrimSpace(rc.Instructions)}
		if m.Instructions == "" {
			p.badNear(f("instructions"), path, "is required: what the officer does, step by step")
		}
		for k, item := range rc.Checklist {
			if item = strings.TrimSpace(item); item == "" {
				p.bad(ctrlItem(f("checklist"), k), "is empty")
				continue
			}
			m.Checklist = append(m.Checklist, item)
		}
		m.DueDays = p.count(f("due_days"), rc.DueDays, DefaultDueDays, 1, ctrlMaxDays)
		m.RemindEveryDays, m.AfterDays, m.OnOverdue = p.followUp(path, rc)
		if m.AfterDays < m.DueDays && rc.AfterDays != nil {
			p.bad(f("after_days"), "must be at least due_days (%d), not %d", m.DueDays, m.AfterDays)
		}
		c.Manual = m
	case ConnectorVendorMail:
		m := &VendorMailConnector{Email: p.email(f("email"), rc.Email, false)}
		if strings.TrimSpace(rc.Email) == "" {
			p.badNear(f("email"), path, "is required: the vendor's privacy address")
		}
		m.RemindEveryDays, m.AfterDays, m.OnOverdue = p.followUp(path, rc)
		c.VendorMail = m
	case ConnectorOpenDSR:
		c.OpenDSR = &OpenDSRConnector{
			URL:         p.requiredURL(f("url"), path, rc.URL),
			Token:       p.secret(f("token"), path, rc.Token, false),
			Certificate: strings.TrimSpace(rc.Certificate),
		}
	}
	return c
}

// connectorFieldsSet returns the names of the connector fields the file
// sets at path, kind left out, in the order of the file format.
func (p *ctrlParser) connectorFieldsSet(path string) []string {
	var out []string
	t := reflect.TypeOf(ctrlConnectorYAML{})
	for i := 0; i < t.NumField(); i++ {
		name := t.Field(i).Tag.Get("yaml")
		if _, set := p.lines[path+"."+name]; set && name != "kind" {
			out = append(out, name)
		}
	}
	return out
}

// followUp checks the follow-up of a task a person does: how often to
// remind, after how many days it is overdue, and what then.
func (p *ctrlParser) followUp(path string, rc *ctrlConnectorYAML) (remind, after int, then OnOverdue) {
	remind = p.count(path+".remind_every_days", rc.RemindEveryDays, DefaultRemindEveryDays, 0, ctrlMaxDays)
	after = p.count(path+".after_days", rc.AfterDays, DefaultAfterDays, 1, ctrlMaxDays)
	then = DefaultOnOverdue
	if v := OnOverdue(strings.TrimSpace(rc.OnOverdue)); v != "" {
		if !slices.Contains(ctrlOverdue, v) {
			p.bad(path+".on_overdue", "unknown rule %q (want one of %s)", v, ctrlJoin(ctrlOverdue))
		} else {
			then = v
		}
	}
	return remind, after, then
}

// count checks a whole number between lo and hi, def when left out.
func (p *ctrlParser) count(path string, v *int, def, lo, hi int) int {
	if v == nil {
		return def
	}
	if *v < lo || *v > hi {
		p.bad(path, "must be between %d and %d, not %d", lo, hi, *v)
		return def
	}
	return *v
}

// requiredURL checks the absolute http(s) URL a connector needs.
func (p *ctrlParser) requiredURL(path, near, v string) string {
	if strings.TrimSpace(v) == "" {
		p.badNear(path, near, "is required: an absolute http or https URL")
		return ""
	}
	return p.webURL(path, v)
}

// secret checks where a secret is kept: an environment variable or a file,
// never the secret itself. Messages never repeat what the file says, in case
// the secret was written where its name belongs.
func (p *ctrlParser) secret(path, near string, s *ctrlSecretYAML, required bool) Secret {
	if s == nil {
		if required {
			p.badNear(path, near, "is required: {env: NAME} or {file: PATH}, where the secret is kept")
		}
		return Secret{}
	}
	out := Secret{Env: strings.TrimSpace(s.Env), File: strings.TrimSpace(s.File)}
	switch {
	case out.Env != "" && out.File != "":
		p.bad(path, "name either env or file, not both")
		return Secret{}
	case out.Env == "" && out.File == "":
		p.bad(path, "name where the secret is kept: {env: NAME} or {file: PATH}")
		return Secret{}
	case out.Env != "" && !ctrlEnvRE.MatchString(out.Env):
		p.bad(path+".env", "must be the name of an environment variable (letters, digits and _), never the secret itself")
		return Secret{}
	}
	return out
}

// sqlConnector checks the settings of a database the controller runs.
func (p *ctrlParser) sqlConnector(path string, rc *ctrlConnectorYAML) *SQLConnector {
	f := func(name string) string { return path + "." + name }
	s := &SQLConnector{Driver: strings.TrimSpace(rc.Driver), DSN: p.secret(f("dsn"), path, rc.DSN, true)}
	switch {
	case s.Driver == "":
		p.badNear(f("driver"), path, "is required (want one of %s)", strings.Join(SQLDrivers, ", "))
	case !slices.Contains(SQLDrivers, s.Driver):
		p.bad(f("driver"), "unknown driver %q (want one of %s)", s.Driver, strings.Join(SQLDrivers, ", "))
	}
	if st := rc.Statements; st != nil {
		s.Statements = map[TaskAction][]string{}
		for _, a := range []struct {
			action TaskAction
			list   []string
		}{{ActionExport, st.Export}, {ActionErase, st.Erase}, {ActionRectify, st.Rectify}, {ActionRestrict, st.Restrict}} {
			for k, stmt := range a.list {
				if stmt = strings.TrimSpace(stmt); stmt == "" {
					p.bad(ctrlItem(f("statements."+string(a.action)), k), "is empty")
					continue
				}
				s.Statements[a.action] = append(s.Statements[a.action], stmt)
			}
		}
	}
	if len(s.Statements) == 0 && len(rc.Tables) == 0 {
		p.badNear(f("tables"), path, "statements or tables are required: what the connector runs")
	}
	for k, rt := range rc.Tables {
		tp := ctrlItem(f("tables"), k)
		t := SQLTable{Name: strings.TrimSpace(rt.Name), Match: map[string]string{}}
		switch {
		case t.Name == "":
			p.bad(tp+".name", "is required")
		case !ctrlSQLTableRE.MatchString(t.Name):
			p.bad(tp+".name", "invalid table name %q: want letters, digits and _ (schema.table allowed)", t.Name)
		}
		if m := rt.Match; m != nil {
			for _, id := range []struct{ name, col string }{{"email", m.Email}, {IdentifierCustomerID, m.CustomerID}, {IdentifierPhone, m.Phone}} {
				if col := p.column(tp+".match."+id.name, id.col); col != "" {
					t.Match[id.name] = col
				}
			}
		}
		if len(t.Match) == 0 {
			p.badNear(tp+".match", tp, "is required: the column of at least one identity (email, customer_id, phone)")
		}
		t.Export = p.columns(tp+".export", rt.Export)
		t.Rectify = p.columns(tp+".rectify", rt.Rectify)
		t.Restrict = p.column(tp+".restrict", rt.Restrict)
		if rt.Mask != nil {
			t.Mask = map[string]string{}
			cols := make([]string, 0, len(rt.Mask))
			for col := range rt.Mask {
				cols = append(cols, col)
			}
			slices.Sort(cols)
			for _, col := range cols {
				mp, mask := tp+".mask."+col, strings.TrimSpace(rt.Mask[col])
				switch {
				case !ctrlSQLNameRE.MatchString(col):
					p.bad(mp, "invalid column name %q: want letters, digits and _", col)
				case !slices.Contains(ctrlMasks, mask) && !strings.HasPrefix(mask, "fixed:"):
					p.bad(mp, "unknown mask %q (want null, fixed:TEXT, hmac or random)", mask)
				default:
					t.Mask[col] = mask
				}
			}
		}
		s.Tables = append(s.Tables, t)
	}
	return s
}

// exportCategories checks the data categories an sql connector gives the
// rows of an export: each one of the system's own.
func (p *ctrlParser) exportCategories(path string, rc *ctrlConnectorYAML, s *SQLConnector, categories []string) {
	if s == nil {
		return
	}
	check := func(at, v string) string {
		v = strings.TrimSpace(v)
		if v != "" && !slices.Contains(categories, v) {
			p.bad(at, "unknown data category %q: want one of the system's data_categories (%s)", v, strings.Join(categories, ", "))
			return ""
		}
		return v
	}
	s.ExportCategory = check(path+".export_category", rc.ExportCategory)
	if s.ExportCategory != "" && len(s.Statements[ActionExport]) == 0 {
		p.bad(path+".export_category", "is the category of the export statements: there are none (a table's category is its own category)")
	}
	for k := range s.Tables {
		if k < len(rc.Tables) {
			s.Tables[k].Category = check(ctrlItem(path+".tables", k)+".category", rc.Tables[k].Category)
		}
	}
}

// refs checks a list of keys of what the controller defines under its
// section (data categories, recipients): each known, none twice.
func (p *ctrlParser) refs(path, what, section string, vs []string, known func(string) bool) []string {
	var out []string
	for k, v := range vs {
		v = strings.TrimSpace(v)
		item := ctrlItem(path, k)
		switch {
		case !known(v):
			p.bad(item, "unknown %s %q (define it under %s)", what, v, section)
		case slices.Contains(out, v):
			p.bad(item, "duplicate %s %q", what, v)
		default:
			out = append(out, v)
		}
	}
	return out
}

// column checks a column name the connector writes into a statement.
func (p *ctrlParser) column(path, v string) string {
	v = strings.TrimSpace(v)
	if v != "" && !ctrlSQLNameRE.MatchString(v) {
		p.bad(path, "invalid column name %q: want letters, digits and _", v)
		return ""
	}
	return v
}

func (p *ctrlParser) columns(path string, vs []string) []string {
	var out []string
	for k, v := range vs {
		item := ctrlItem(path, k)
		switch col := p.column(item, v); {
		case strings.TrimSpace(v) == "":
			p.bad(item, "is empty")
		case col == "":
		case slices.Contains(out, col):
			p.bad(item, "duplicate column %q", col)
		default:
			out = append(out, col)
		}
	}
	return out
}

// portabilityRecipients checks the organisations the controller can send a
// portable package to directly: each with its endpoint (https, or http to
// a loopback address) and the secret its uploads are signed with.
func (p *ctrlParser) portabilityRecipients(c *Controller, path string, raw []ctrlPortabilityYAML) {
	firstLine := map[string]int{}
	for j, rr := range raw {
		rp := ctrlItem(path, j)
		r := PortabilityRecipient{
			Key:         p.key(rp+".key", rr.Key),
			Name:        p.required(rp+".name", rr.Name),
			URL:         p.transmitURL(rp+".url", rp, rr.URL),
			Secret:      p.secret(rp+".secret", rp, rr.Secret, true),
			Timeout:     DefaultTransmitTimeout,
			MaxAttempts: p.count(rp+".max_attempts", rr.MaxAttempts, DefaultMaxAttempts, 1, ctrlMaxAttempts),
		}
		if t := strings.TrimSpace(rr.Timeout); t != "" {
			d, err := time.ParseDuration(t)
			switch {
			case err != nil:
				p.bad(rp+".timeout", "invalid duration %q: want a number with a unit such as 30s or 2m", t)
			case d <= 0 || d > maxTransmitTimeout:
				p.bad(rp+".timeout", "must be more than 0s and at most %s, not %s", maxTransmitTimeout, t)
			default:
				r.Timeout = d
			}
		}
		switch {
		case r.Key == "":
		case r.Key == TransmitOther:
			p.bad(rp+".key", "%q is what a subject chooses for an organisation that is not set up: use another key", TransmitOther)
			continue
		default:
			if l, dup := firstLine[r.Key]; dup {
				p.bad(rp+".key", "duplicate portability recipient key %q (first at line %d)", r.Key, l)
				continue
			}
			firstLine[r.Key] = p.lineOf(rp + ".key")
		}
		c.PortabilityRecipients = append(c.PortabilityRecipients, r)
	}
}

// transmitURL checks the endpoint of a portability recipient: an absolute
// https URL, or http to a loopback address (a receiver on the same
// machine, for tests and development); the package is personal data and
// never travels in clear text over a network.
func (p *ctrlParser) transmitURL(path, near, v string) string {
	v = strings.TrimSpace(v)
	if v == "" {
		p.badNear(path, near, "is required: the https URL the package is posted to")
		return ""
	}
	u, err := url.Parse(v)
	switch {
	case err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http"):
		p.bad(path, "invalid URL %q: want an absolute https URL", v)
	case u.User != nil:
		p.bad(path, "must not hold credentials: the uploads are signed with the secret")
	case u.Scheme == "http" && !loopbackHost(u.Hostname()):
		p.bad(path, "must be https: http only reaches a receiver on this machine (localhost, 127.0.0.1, ::1)")
	default:
		return v
	}
	return ""
}

// loopbackHost reports whether host names this machine.
func loopbackHost(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
