package api

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/dsar-project/dsar"
	"github.com/dsar-project/dsar/templates"
)

// dataMapJSON is a controller's data map as its officers, auditors and
// admins read it: the connected systems, the data categories and the
// recipients, as the controllers file describes them. A secret is only
// ever named by where it is kept ("env:NAME", "file:PATH").
type dataMapJSON struct {
	Controller     string          `json:"controller"`
	Systems        []systemJSON    `json:"systems"`
	DataCategories []categoryJSON  `json:"data_categories"`
	Recipients     []recipientJSON `json:"recipients"`
	// PortabilityRecipients are the organisations a portable package can
	// be sent to directly.
	PortabilityRecipients []portabilityJSON `json:"portability_recipients"`
}

// portabilityJSON is a portability recipient; its secret by where it is
// kept.
type portabilityJSON struct {
	Key         string `json:"key"`
	Name        string `json:"name"`
	URL         string `json:"url"`
	Secret      string `json:"secret"`
	Timeout     string `json:"timeout"`
	MaxAttempts int    `json:"max_attempts"`
}

type systemJSON struct {
	Key                string          `json:"key"`
	Name               string          `json:"name"`
	Owner              string          `json:"owner,omitempty"`
	Role               string          `json:"role"`
	Vendor             string          `json:"vendor,omitempty"`
	Country            string          `json:"country,omitempty"`
	Safeguard          string          `json:"safeguard,omitempty"`
	Transfer           bool            `json:"transfer"`
	LegalBases         []string        `json:"legal_bases"`
	Purposes           []string        `json:"purposes"`
	DataCategories     []string        `json:"data_categories"`
	Marketing          bool            `json:"marketing"`
	Recipients         []string        `json:"recipients"`
	AutomatedDecisions []automatedJSON `json:"automated_decisions"`
	Connector          connectorJSON   `json:"connector"`
}

type automatedJSON struct {
	Name         string `json:"name"`
	Logic        string `json:"logic"`
	Significance string `json:"significance"`
}

// connectorJSON is how a system or recipient is reached: the kind and the
// settings of the kind that are set. Secret says where the HTTP signing
// key, the database's DSN or the OpenDSR token is kept, never what it is.
type connectorJSON struct {
	Kind            string              `json:"kind"`
	URL             string              `json:"url,omitempty"`
	Secret          string              `json:"secret,omitempty"`
	Timeout         string              `json:"timeout,omitempty"`
	RatePerSecond   float64             `json:"rate_per_second,omitempty"`
	MaxAttempts     int                 `json:"max_attempts,omitempty"`
	NoData          []int               `json:"no_data,omitempty"`
	Driver          string              `json:"driver,omitempty"`
	Statements      map[string][]string `json:"statements,omitempty"`
	Tables          []sqlTableJSON      `json:"tables,omitempty"`
	Certificate     string              `json:"certificate,omitempty"`
	Email           string              `json:"email,omitempty"`
	Instructions    string              `json:"instructions,omitempty"`
	Checklist       []string            `json:"checklist,omitempty"`
	DueDays         int                 `json:"due_days,omitempty"`
	RemindEveryDays int                 `json:"remind_every_days,omitempty"`
	AfterDays       int                 `json:"after_days,omitempty"`
	OnOverdue       string              `json:"on_overdue,omitempty"`
}

type sqlTableJSON struct {
	Name     string            `json:"name"`
	Match    map[string]string `json:"match"`
	Export   []string          `json:"export,omitempty"`
	Mask     map[string]string `json:"mask,omitempty"`
	Rectify  []string          `json:"rectify,omitempty"`
	Restrict string            `json:"restrict,omitempty"`
}

type categoryJSON struct {
	Key              string    `json:"key"`
	Name             string    `json:"name"`
	Purpose          string    `json:"purpose"`
	Retention        string    `json:"retention"`
	RetentionPeriod  string    `json:"retention_period,omitempty"`
	RetentionTrigger string    `json:"retention_trigger,omitempty"`
	LegalBases       []string  `json:"legal_bases"`
	Hold             *holdJSON `json:"hold,omitempty"`
	Source           string    `json:"source,omitempty"`
}

type holdJSON struct {
	Law         string `json:"law"`
	Period      string `json:"period"`
	FromYearEnd bool   `json:"from_year_end"`
}

type recipientJSON struct {
	Key         string         `json:"key"`
	Name        string         `json:"name"`
	Role        string         `json:"role,omitempty"`
	Country     string         `json:"country,omitempty"`
	Safeguard   string         `json:"safeguard,omitempty"`
	Transfer    bool           `json:"transfer"`
	Notify      *connectorJSON `json:"notify,omitempty"`
	Unreachable string         `json:"unreachable,omitempty"`
}

// getDataMap answers a controller's data map to its admins, officers and
// auditors. A controller the key does not cover is not found, like one
// that does not exist; a system's key may not read it.
func (s *Server) getDataMap(c echo.Context) error {
	a := actorOf(c)
	ctrl, ok := s.cfg.Controllers.Get(c.Param("key"))
	if !ok || !a.CanSee(ctrl.Key) {
		return &dsar.Error{Code: dsar.ENOTFOUND, Message: "error.not_found"}
	}
	if a.Role != dsar.RoleAdmin && a.Role != dsar.RoleOfficer && a.Role != dsar.RoleAuditor {
		return &dsar.Error{Code: dsar.EFORBIDDEN, Message: "error.forbidden"}
	}
	return c.JSON(http.StatusOK, toDataMapJSON(ctrl))
}

func toDataMapJSON(ctrl *dsar.Controller) dataMapJSON {
	out := dataMapJSON{Controller: ctrl.Key, Systems: []systemJSON{}, DataCategories: []categoryJSON{}, Recipients: []recipientJSON{}}
	for i := range ctrl.Systems {
		sys := &ctrl.Systems[i]
		j := systemJSON{Key: sys.Key, Name: sys.Name, Owner: sys.Owner, Role: string(sys.Role), Vendor: sys.Vendor,
			Country: sys.Country, Safeguard: string(sys.Safeguard), Transfer: sys.Transfer(), LegalBases: strs(sys.LegalBases),
			Purposes: list(sys.Purposes), DataCategories: list(sys.DataCategories), Marketing: sys.Marketing,
			Recipients: list(sys.Recipients), AutomatedDecisions: []automatedJSON{}, Connector: toConnectorJSON(&sys.Connector)}
		for _, d := range sys.AutomatedDecisions {
			j.AutomatedDecisions = append(j.AutomatedDecisions, automatedJSON{Name: d.Name, Logic: d.Logic, Significance: d.Significance})
		}
		out.Systems = append(out.Systems, j)
	}
	for _, d := range ctrl.DataCategories {
		j := categoryJSON{Key: d.Key, Name: d.Name, Purpose: d.Purpose, Retention: d.Retention,
			RetentionPeriod: d.RetentionPeriod.String(), RetentionTrigger: d.RetentionTrigger, LegalBases: strs(d.LegalBases), Source: d.Source}
		if h := d.Hold; h != nil {
			j.Hold = &holdJSON{Law: h.Law, Period: h.Period.String(), FromYearEnd: h.FromYearEnd}
		}
		out.DataCategories = append(out.DataCategories, j)
	}
	for _, r := range ctrl.Recipients {
		j := recipientJSON{Key: r.Key, Name: r.Name, Role: r.Role, Country: r.Country, Safeguard: string(r.Safeguard),
			Transfer: r.Transfer(), Unreachable: r.Unreachable}
		if r.Notify != nil {
			n := toConnectorJSON(r.Notify)
			j.Notify = &n
		}
		out.Recipients = append(out.Recipients, j)
	}
	out.PortabilityRecipients = []portabilityJSON{}
	for _, p := range ctrl.PortabilityRecipients {
		out.PortabilityRecipients = append(out.PortabilityRecipients, portabilityJSON{Key: p.Key, Name: p.Name, URL: p.URL,
			Secret: p.Secret.String(), Timeout: p.Timeout.String(), MaxAttempts: p.MaxAttempts})
	}
	return out
}

// toConnectorJSON presents a connector's settings; its secrets by where
// they are kept (Secret.String), never by their value.
func toConnectorJSON(k *dsar.Connector) connectorJSON {
	out := connectorJSON{Kind: string(k.Kind)}
	switch {
	case k.HTTP != nil:
		h := k.HTTP
		out.URL, out.Secret, out.RatePerSecond, out.MaxAttempts, out.NoData = h.URL, h.Secret.String(), h.RatePerSecond, h.MaxAttempts, h.NoData
		if h.Timeout > 0 {
			out.Timeout = h.Timeout.String()
		}
	case k.SQL != nil:
		q := k.SQL
		out.Driver, out.Secret = q.Driver, q.DSN.String()
		for action, stmts := range q.Statements {
			if out.Statements == nil {
				out.Statements = map[string][]string{}
			}
			out.Statements[string(action)] = stmts
		}
		for _, t := range q.Tables {
			out.Tables = append(out.Tables, sqlTableJSON{Name: t.Name, Match: t.Match, Export: t.Export, Mask: t.Mask, Rectify: t.Rectify, Restrict: t.Restrict})
		}
	case k.Manual != nil:
		m := k.Manual
		out.Instructions, out.Checklist, out.DueDays = m.Instructions, m.Checklist, m.DueDays
		out.RemindEveryDays, out.AfterDays, out.OnOverdue = m.RemindEveryDays, m.AfterDays, string(m.OnOverdue)
	case k.VendorMail != nil:
		v := k.VendorMail
		out.Email, out.RemindEveryDays, out.AfterDays, out.OnOverdue = v.Email, v.RemindEveryDays, v.AfterDays, string(v.OnOverdue)
	case k.OpenDSR != nil:
		o := k.OpenDSR
		out.URL, out.Secret, out.Certificate = o.URL, o.Token.String(), o.Certificate
	}
	return out
}

// strs returns the values as strings, an empty list for none.
func strs[T ~string](vs []T) []string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = string(v)
	}
	return out
}

// list returns vs, or an empty list for nil (JSON [] rather than null).
func list(vs []string) []string {
	if vs == nil {
		return []string{}
	}
	return vs
}

// dataMapPage shows the data map of one of the controllers the signed-in
// user works for (officers, auditors and admins alike): the one asked for
// (?controller=), else the first. A controller the user does not cover is
// not found, like one that does not exist.
func (s *Server) dataMapPage(c echo.Context) error {
	a := c.Get(userKey).(*dsar.User).Actor()
	want := c.QueryParam("controller")
	var (
		links []templates.DataMapLink
		shown *dsar.Controller
	)
	for _, ct := range s.cfg.Controllers.All() {
		if !a.CanSee(ct.Key) {
			continue
		}
		if shown == nil && (want == "" || want == ct.Key) {
			shown = ct
		}
		links = append(links, templates.DataMapLink{Key: ct.Key, Name: ct.LegalName, Current: shown == ct})
	}
	if shown == nil {
		return s.errorPage(c, http.StatusNotFound, "error.not_found")
	}
	p := s.page(c, nil, "page.datamap.title")
	return s.render(c, http.StatusOK, "datamap", templates.DataMapPage{Page: p, Controllers: links, Controller: shown})
}
