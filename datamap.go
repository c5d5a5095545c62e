package dsar

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"slices"
	"strings"
	"time"
)

// SystemRole says whose system a connected system is: the controller's own,
// or a processor's or vendor's that handles the data on the controller's
// behalf (GDPR Art 28), which the controller must instruct.
type SystemRole string

// The system roles.
const (
	RoleInternal  SystemRole = "internal"  // run by the controller itself
	RoleProcessor SystemRole = "processor" // a processor or vendor acting for the controller
)

// SystemRoles lists every system role.
var SystemRoles = []SystemRole{RoleInternal, RoleProcessor}

// ConnectorKind names how the service reaches a connected system or a
// recipient to carry out a task there.
type ConnectorKind string

// The connector kinds; each has its package under workflows/.
const (
	// ConnectorHTTP sends a signed JSON action to the system's endpoint.
	ConnectorHTTP ConnectorKind = "http"
	// ConnectorSQL runs statements in a database the controller runs.
	ConnectorSQL ConnectorKind = "sql"
	// ConnectorManual gives an officer a task with instructions.
	ConnectorManual ConnectorKind = "manual"
	// ConnectorVendorMail mails an instruction to a vendor's privacy address.
	ConnectorVendorMail ConnectorKind = "vendor_mail"
	// ConnectorOpenDSR sends an OpenDSR 2.0 request to a processor.
	ConnectorOpenDSR ConnectorKind = "opendsr"
)

// ConnectorKinds lists every connector kind.
var ConnectorKinds = []ConnectorKind{ConnectorHTTP, ConnectorSQL, ConnectorManual, ConnectorVendorMail, ConnectorOpenDSR}

// Secret names where a secret is kept: an environment variable or a file.
// The configuration never holds the secret itself.
type Secret struct {
	Env  string // the name of an environment variable
	File string // the path of a file whose content (trimmed) is the secret
}

// IsZero reports whether no secret is named.
func (s Secret) IsZero() bool { return s.Env == "" && s.File == "" }

// String says where the secret is kept, never what it is.
func (s Secret) String() string {
	switch {
	case s.Env != "":
		return "env:" + s.Env
	case s.File != "":
		return "file:" + s.File
	}
	return ""
}

// Value reads the secret now: a rotated secret takes effect without a
// restart.
func (s Secret) Value() (string, error) {
	switch {
	case s.Env != "":
		v, ok := os.LookupEnv(s.Env)
		if !ok || strings.TrimSpace(v) == "" {
			return "", fmt.Errorf("secret: environment variable %s is not set", s.Env)
		}
		return strings.TrimSpace(v), nil
	case s.File != "":
		b, err := os.ReadFile(s.File)
		if err != nil {
			return "", fmt.Errorf("secret: %v", err)
		}
		if v := strings.TrimSpace(string(b)); v != "" {
			return v, nil
		}
		return "", fmt.Errorf("secret: file %s is empty", s.File)
	}
	return "", fmt.Errorf("secret: none configured")
}

// OnOverdue says what happens to a task done by a person (an officer or a
// vendor) that is still not done after its grace period.
type OnOverdue string

// The ways of dealing with an overdue task of a person.
const (
	// OverdueBlock keeps the case waiting for the task: it fails, officers
	// are told, and the case cannot finish until someone ends it.
	OverdueBlock OnOverdue = "block"
	// OverdueSkip skips the task with a recorded reason; the case goes on.
	OverdueSkip OnOverdue = "skip"
)

// Connector is how a system or a recipient is reached: its kind and the
// settings of that kind (exactly one of the pointers is set).
type Connector struct {
	Kind       ConnectorKind
	HTTP       *HTTPConnector
	SQL        *SQLConnector
	Manual     *ManualConnector
	VendorMail *VendorMailConnector
	OpenDSR    *OpenDSRConnector
}

// Person returns the follow-up settings of a connector whose tasks a person
// does (manual, vendor mail): how often to remind, after how many days the
// task is overdue and what then; ok is false for the machine connectors.
func (c *Connector) Person() (remindDays, afterDays int, then OnOverdue, ok bool) {
	switch c.Kind {
	case ConnectorManual:
		return c.Manual.RemindEveryDays, c.Manual.AfterDays, c.Manual.OnOverdue, true
	case ConnectorVendorMail:
		return c.VendorMail.RemindEveryDays, c.VendorMail.AfterDays, c.VendorMail.OnOverdue, true
	}
	return 0, 0, "", false
}

// HTTPConnector reaches a system through signed JSON actions (docs/connectors.md).
type HTTPConnector struct {
	URL string
	// Secret holds the system's whsec_ signing key (Standard Webhooks).
	Secret Secret
	// Timeout bounds one call; RatePerSecond the calls a second to the
	// system (0: no limit); MaxAttempts the tries before the task fails.
	Timeout       time.Duration
	RatePerSecond float64
	MaxAttempts   int
	// NoData lists the HTTP status codes that mean the system holds nothing
	// about the subject (404, say).
	NoData []int
	// MaxExportBytes bounds the body an export's data is read from (the
	// answer with its records, or its data_url's answer).
	MaxExportBytes int64
}

// Resolve resolves a URL the system gave (a status_url, a data_url),
// absolute or relative to its endpoint, and checks that it is on the
// endpoint's scheme and host: the service calls no host the data map does
// not name.
func (h *HTTPConnector) Resolve(raw string) (string, error) {
	base, err := url.Parse(h.URL)
	if err != nil {
		return "", errors.New("cannot be resolved: the system's url is not usable")
	}
	u, err := base.Parse(raw)
	if err != nil || u.Scheme != base.Scheme || u.Host != base.Host {
		return "", errors.New("must be on the system's own scheme and host")
	}
	return u.String(), nil
}

// SQLConnector carries out tasks in a database the controller runs.
type SQLConnector struct {
	Driver string // postgres
	DSN    Secret
	// Statements are parameterised statements per action, run in one
	// transaction: $1 is the subject's e-mail, $2 the customer ID, $3 the
	// phone number. A table mapping is used for the actions without one.
	Statements map[TaskAction][]string
	Tables     []SQLTable
	// ExportCategory is the data category (a key of the system's) of the
	// rows the export statements read; "" when not said.
	ExportCategory string
}

// SQLTable maps one table: how a subject's rows are found, what an export
// reads, how an erasure masks or deletes, what a rectification may change
// and how a restriction is marked.
type SQLTable struct {
	Name string
	// Match maps an identity (email, customer_id, phone) to the column that
	// holds it.
	Match map[string]string
	// Export lists the columns an export reads (all when empty).
	Export []string
	// Category is the data category (a key of the system's) of the rows an
	// export reads; "" when not said.
	Category string
	// Mask, when set, makes an erasure an UPDATE that masks each column
	// (null, fixed:<text>, hmac, random); a DELETE otherwise.
	Mask map[string]string
	// Rectify lists the columns a rectification may change.
	Rectify []string
	// Restrict names a boolean column set to true by a restriction.
	Restrict string
}

// ManualConnector gives an officer a task for a system without an API.
type ManualConnector struct {
	Instructions    string
	Checklist       []string
	DueDays         int // the task is due this many days after it was given
	RemindEveryDays int
	AfterDays       int
	OnOverdue       OnOverdue
}

// VendorMailConnector mails an instruction to a vendor's privacy address,
// with a link the vendor confirms with.
type VendorMailConnector struct {
	Email           string
	RemindEveryDays int
	AfterDays       int
	OnOverdue       OnOverdue
}

// OpenDSRConnector reaches a processor that speaks OpenDSR 2.0.
type OpenDSRConnector struct {
	URL   string // the processor's OpenDSR endpoint (POST {URL}/requests)
	Token Secret // the bearer token the processor gave, when it wants one
	// Certificate is the PEM file of the certificate whose key signs the
	// processor's callbacks (X-OpenDSR-Signature).
	Certificate string
}

// LegalHold is retention the law requires of a data category (GDPR Art
// 17(3)(b)): an erasure keeps the data until the period has run.
type LegalHold struct {
	Law    string // the law that requires it, as the subject is told
	Period RetentionPeriod
	// FromYearEnd counts the period from the end of the calendar year
	// (bookkeeping); from the day of the request otherwise.
	FromYearEnd bool
}

// Until returns the date on which data held today is erased at the latest.
func (h *LegalHold) Until(today Date) Date {
	if h.FromYearEnd {
		today = NewDate(today.Year, time.December, 31)
	}
	return h.Period.EndsOn(today)
}

// AutomatedDecision is a decision a system takes about subjects without a
// person (GDPR Art 22), with its logic as the subject is told (Art 15(1)(h)).
type AutomatedDecision struct {
	Name         string
	Logic        string
	Significance string
}

// Held is what an erasure keeps of a system's category, why and until when.
type Held struct {
	System   string
	Category string
	Law      string
	Until    Date
}

// Kept returns the hold as the subject's completion mail states it.
func (h Held) Kept(c *Controller) Kept {
	what := h.Category
	if d, ok := c.DataCategory(h.Category); ok {
		what = d.Name
	}
	if s, ok := c.System(h.System); ok {
		what += " (" + s.Name + ")"
	}
	return Kept{What: what, Why: h.Law, Until: h.Until.String()}
}

// CategoriesOf returns the categories of the system that a legal hold keeps
// and those it does not.
func (c *Controller) CategoriesOf(s *System) (held, free []*DataCategory) {
	for _, k := range s.DataCategories {
		d, ok := c.DataCategory(k)
		if !ok {
			continue
		}
		if d.Hold != nil {
			held = append(held, d)
		} else {
			free = append(free, d)
		}
	}
	return held, free
}

// Recipient returns the controller's recipient with the key.
func (c *Controller) Recipient(key string) (*Recipient, bool) {
	i := slices.IndexFunc(c.Recipients, func(r Recipient) bool { return r.Key == key })
	if i < 0 {
		return nil, false
	}
	return &c.Recipients[i], true
}

// TargetName names what a task goes to, as people read it: the system's or
// the recipient's name, or the key when the data map no longer has it.
func (c *Controller) TargetName(t *Task) string {
	if t.Recipient != "" {
		if r, ok := c.Recipient(t.Recipient); ok {
			return r.Name
		}
		return t.Recipient
	}
	if s, ok := c.System(t.System); ok {
		return s.Name
	}
	return t.System
}

// ConnectorOf returns the connector that reaches what a task goes to: the
// system's, or the recipient's notice connector; for a system's task its
// connector cannot carry out (the plan gave it to an officer, see Does), a
// manual task saying so; a connector of the task's kind with no settings
// when the data map no longer has the target.
func (c *Controller) ConnectorOf(t *Task) *Connector {
	if t.Recipient != "" {
		if r, ok := c.Recipient(t.Recipient); ok && r.Notify != nil {
			return r.Notify
		}
	} else if s, ok := c.System(t.System); ok {
		if t.Connector == ConnectorManual && s.Connector.Kind != ConnectorManual {
			return byHand(s)
		}
		return &s.Connector
	}
	return &Connector{Kind: t.Connector}
}

// connectorActions lists the actions of the connector kinds that cannot
// carry out every action: the SQL connector changes rows, an OpenDSR
// processor takes access, portability and erasure requests only.
var connectorActions = map[ConnectorKind][]TaskAction{
	ConnectorSQL:     {ActionExport, ActionErase, ActionRectify, ActionRestrict},
	ConnectorOpenDSR: {ActionExport, ActionErase},
}

// Does reports whether a connector of the kind carries out the action; the
// plan gives an action its system's connector cannot carry out to an
// officer, as a manual task, so that the system is never left out.
func (k ConnectorKind) Does(a TaskAction) bool {
	actions, limited := connectorActions[k]
	return !limited || slices.Contains(actions, a)
}

// byHand is the manual task of a system whose connector cannot carry out a
// task's action: the officer does it in the system, with the defaults of a
// manual connector.
func byHand(s *System) *Connector {
	return &Connector{Kind: ConnectorManual, Manual: &ManualConnector{
		Instructions:    fmt.Sprintf("The %s connector of %s cannot carry out this task: do it in the system by hand and record what was done.", s.Connector.Kind, s.Name),
		DueDays:         DefaultDueDays,
		RemindEveryDays: DefaultRemindEveryDays,
		AfterDays:       DefaultAfterDays,
		OnOverdue:       DefaultOnOverdue,
	}}
}
