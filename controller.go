package dsar

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// DefaultRetentionMonths is how long case records are kept when a controller
// sets no retention_months.
const DefaultRetentionMonths = 36

// MinCCPARetentionMonths is the shortest case-record retention allowed for a
// controller that accepts CCPA requests (11 CCR §7101: records of requests
// are kept for at least 24 months).
const MinCCPARetentionMonths = 24

// The extra identifiers a request form may ask for, besides the subject's
// e-mail address, so that the controller can find the subject's data.
const (
	IdentifierCustomerID = "customer_id" // a customer, account or order number
	IdentifierPhone      = "phone"       // a telephone number
)

// Identifiers lists every identifier a controller may ask for.
var Identifiers = []string{IdentifierCustomerID, IdentifierPhone}

// LegalBasis is the ground of GDPR Art 6(1) a processing rests on. It decides
// which rights reach it: withdrawing consent reaches consent, an objection
// reaches legitimate interest and public task, portability reaches consent
// and contract.
type LegalBasis string

// The legal bases of GDPR Art 6(1).
const (
	LegalBasisConsent            LegalBasis = "consent"             // (a); explicit consent under Art 9(2)(a) too
	LegalBasisContract           LegalBasis = "contract"            // (b)
	LegalBasisLegalObligation    LegalBasis = "legal_obligation"    // (c): bookkeeping, for example
	LegalBasisVitalInterests     LegalBasis = "vital_interests"     // (d)
	LegalBasisPublicTask         LegalBasis = "public_task"         // (e)
	LegalBasisLegitimateInterest LegalBasis = "legitimate_interest" // (f)
)

// LegalBases lists every legal basis.
var LegalBases = []LegalBasis{
	LegalBasisConsent, LegalBasisContract, LegalBasisLegalObligation,
	LegalBasisVitalInterests, LegalBasisPublicTask, LegalBasisLegitimateInterest,
}

// Valid reports whether b is a known legal basis.
func (b LegalBasis) Valid() bool { return slices.Contains(LegalBases, b) }

// Safeguard is what makes a transfer of personal data outside the EEA lawful
// (GDPR Chapter V). An access answer names it for every such transfer.
type Safeguard string

// The transfer safeguards.
const (
	SafeguardAdequacy   Safeguard = "adequacy"   // an adequacy decision, Art 45 (the EU-US Data Privacy Framework, for example)
	SafeguardSCC        Safeguard = "scc"        // the Commission's standard contractual clauses, Art 46(2)(c)
	SafeguardBCR        Safeguard = "bcr"        // binding corporate rules, Art 47
	SafeguardDerogation Safeguard = "derogation" // a derogation for a specific situation, Art 49
)

// Safeguards lists every transfer safeguard.
var Safeguards = []Safeguard{SafeguardAdequacy, SafeguardSCC, SafeguardBCR, SafeguardDerogation}

// Valid reports whether s is a known safeguard.
func (s Safeguard) Valid() bool { return slices.Contains(Safeguards, s) }

// eeaCountries are the ISO 3166-1 alpha-2 codes of the EU member states and
// of Iceland, Liechtenstein and Norway.
var eeaCountries = []string{
	"AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU", "IE",
	"IT", "LT", "LU", "LV", "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK",
	"IS", "LI", "NO",
}

// InEEA reports whether the ISO 3166-1 alpha-2 country code names a country
// of the European Economic Area; a transfer anywhere else needs a Safeguard.
func InEEA(country string) bool { return slices.Contains(eeaCountries, country) }

// Contact is how to reach a person or a team.
type Contact struct {
	Name    string
	Email   string
	Phone   string
	Address string // postal address
}

// SupervisoryAuthority is the data protection authority a subject may
// complain to (GDPR Art 77); every refusal names it (Art 12(4)).
type SupervisoryAuthority struct {
	Name    string
	Address string
	Website string
	Email   string
}

// Branding is how the subject-facing pages and mails of a controller look.
// Every field is optional; the service's own look applies otherwise.
type Branding struct {
	Logo         string // an http(s) URL or a path served by the service
	PrimaryColor string // #rrggbb, lowercase
	AccentColor  string // #rrggbb, lowercase
}

// System is a connected system that holds personal data of subjects: the
// places a request must reach, and what an access answer says about them.
type System struct {
	Key    string // unique within the controller
	Name   string
	Owner  string // the team or person inside the controller answerable for it
	Vendor string // who runs it, when not the controller itself
	Role   SystemRole
	// Country is the ISO 3166-1 alpha-2 code of where the data is stored or
	// received, when known; outside the EEA, Safeguard says why the transfer
	// is lawful.
	Country        string
	LegalBases     []LegalBasis
	Purposes       []string
	DataCategories []string // keys of the controller's DataCategories
	Safeguard      Safeguard
	// Marketing says the system is used for direct marketing: an objection
	// to direct marketing (Art 21(2)) reaches it.
	Marketing bool
	// Recipients are the keys of the controller's recipients that receive
	// data from the system (Art 19 tells them of a change).
	Recipients         []string
	AutomatedDecisions []AutomatedDecision
	// Connector is how tasks reach the system.
	Connector Connector
}

// HasBasis reports whether the system processes data on the legal basis.
func (s *System) HasBasis(b LegalBasis) bool { return slices.Contains(s.LegalBases, b) }

// Transfer reports whether the system moves data outside the EEA.
func (s *System) Transfer() bool { return s.Country != "" && !InEEA(s.Country) }

// DataCategory is a kind of personal data the controller processes, with
// why, on what ground and how long it is kept (GDPR Art 15(1)(b) and (d)).
type DataCategory struct {
	Key     string // unique within the controller
	Name    string
	Purpose string // why it is processed, as the subject is told
	// Retention says in words how long the data is kept or by what criteria,
	// as the subject is told ("5 years after the last account update").
	Retention string
	// RetentionPeriod is the length of Retention, when it has one; the zero
	// RetentionPeriod when the period depends on criteria only.
	RetentionPeriod RetentionPeriod
	// RetentionTrigger is the event the period counts from ("the last
	// account update", "the end of the service").
	RetentionTrigger string
	LegalBases       []LegalBasis
	// Hold is the retention the law requires, when it does: an erasure
	// keeps the category until then (Art 17(3)(b)).
	Hold *LegalHold
	// Source is where the data comes from when not from the subject
	// (Art 14(2)(f), Art 15(1)(g)).
	Source string
}

// HasBasis reports whether the category is processed on the legal basis.
func (d *DataCategory) HasBasis(b LegalBasis) bool { return slices.Contains(d.LegalBases, b) }

// Recipient is someone personal data is disclosed to (GDPR Art 15(1)(c));
// each is told of rectification, erasure and restriction (Art 19).
type Recipient struct {
	Key  string // unique within the controller
	Name string // a named recipient, or a category of recipients
	Role string // what the recipient does with the data
	// Country is the ISO 3166-1 alpha-2 code of where the recipient receives
	// the data, when known; outside the EEA, Safeguard is set.
	Country   string
	Safeguard Safeguard
	// Notify is how the recipient is told of a rectification, erasure or
	// restriction (http, vendor_mail or manual); nil when that is impossible
	// or disproportionate, and Unreachable records why (Art 19).
	Notify      *Connector
	Unreachable string
}

// Transfer reports whether disclosure to the recipient moves data outside
// the EEA.
func (r *Recipient) Transfer() bool { return r.Country != "" && !InEEA(r.Country) }

// Controller is an organisation whose privacy team runs the service: who it
// is, where it is established, how subjects and the service reach it, which
// laws requests may be made under, and what it holds about subjects, so that
// every right can be carried out and every access request answered in full.
type Controller struct {
	// Key names the controller in URLs, API calls and stored requests:
	// lowercase letters, digits and '-'.
	Key       string
	LegalName string
	OrgNumber string // the registry number, when given
	// Jurisdiction is where the controller is established; it selects the
	// holiday calendar of its deadlines.
	Jurisdiction Jurisdiction
	// TimeZone is the IANA name of the controller's zone, in which its due
	// dates are counted; Location is that zone, loaded.
	TimeZone string
	Location *time.Location
	// Languages the controller answers in; the first is the default, used
	// for mails to the controller and when a subject names none.
	Languages            []Language
	PrivacyContact       Contact
	SupervisoryAuthority SupervisoryAuthority
	// DefaultRegulation applies when a request names none; Regulations are
	// all those a request may be made under, DefaultRegulation included.
	DefaultRegulation Regulation
	Regulations       []Regulation
	// PauseClock, when set, says for every regulation whether a pause while
	// waiting for the subject stops the clock; nil leaves the regulation's
	// default. Use PausesClock.
	PauseClock *bool
	// RetentionMonths is how long case records are kept after a request is
	// closed, before their personal data is removed.
	RetentionMonths int
	// Identifiers lists the extra identifiers the request form asks for
	// (IdentifierCustomerID, IdentifierPhone).
	Identifiers []string
	// ProcessorFor describes the subjects for whom the organisation is only
	// a processor (its customers' users, for example); a request about them
	// is forwarded to the customer, the controller responsible, and the
	// subject is told so. Empty when the organisation processes for no one.
	ProcessorFor   string
	Branding       Branding
	Systems        []System
	DataCategories []DataCategory
	Recipients     []Recipient
	// PortabilityRecipients are the organisations a portable package can
	// be sent to directly (Art 20(2)).
	PortabilityRecipients []PortabilityRecipient
	// Related lists the keys of controllers a request may have to be routed
	// to as well, such as two companies of one group behind one service.
	Related []string
}

// Allows reports whether requests may be made to the controller under r.
func (c *Controller) Allows(r Regulation) bool { return slices.Contains(c.Regulations, r) }

// PausesClock reports whether waiting for the subject (identity proof,
// clarification) stops the clock of a request under r. The controller's
// pause_clock setting decides when given; otherwise the clock stops under
// the GDPR (EDPB Guidelines 01/2022 §159) and runs on under the CCPA.
func (c *Controller) PausesClock(r Regulation) bool {
	if c.PauseClock != nil {
		return *c.PauseClock
	}
	return r == RegulationGDPR
}

// System returns the controller's connected system with the key.
func (c *Controller) System(key string) (*System, bool) {
	for i := range c.Systems {
		if c.Systems[i].Key == key {
			return &c.Systems[i], true
		}
	}
	return nil, false
}

// DataCategory returns the controller's data category with the key.
func (c *Controller) DataCategory(key string) (*DataCategory, bool) {
	for i := range c.DataCategories {
		if c.DataCategories[i].Key == key {
			return &c.DataCategories[i], true
		}
	}
	return nil, false
}

// Controllers is the validated set of controllers one deployment serves.
type Controllers struct {
	list  []*Controller
	byKey map[string]*Controller
}

// Get returns the controller with the key.
func (cs *Controllers) Get(key string) (*Controller, bool) {
	if cs == nil {
		return nil, false
	}
	c, ok := cs.byKey[key]
	return c, ok
}

// All returns every controller in the order of the configuration file.
func (cs *Controllers) All() []*Controller {
	if cs == nil {
		return nil
	}
	return slices.Clone(cs.list)
}

// RetentionPeriod is a storage period in calendar units. The configuration
// writes it as an ISO 8601 duration of years, months, weeks and days: P5Y,
// P6M, P2W, P30D, P1Y6M.
type RetentionPeriod struct {
	Years, Months, Days int
}

var ctrlPeriodRE = regexp.MustCompile(`^P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?$`)

// ParseRetentionPeriod parses an ISO 8601 duration of whole years, months,
// weeks and days (no time part). Weeks are counted as seven days.
func ParseRetentionPeriod(s string) (RetentionPeriod, error) {
	m := ctrlPeriodRE.FindStringSubmatch(s)
	if m == nil || s == "P" {
		return RetentionPeriod{}, fmt.Errorf("invalid retention period %q: want an ISO 8601 duration such as P5Y, P6M, P2W or P30D", s)
	}
	n := make([]int, 4)
	for i, v := range m[1:] {
		if v == "" {
			continue
		}
		x, err := strconv.Atoi(v)
		if err != nil || x > 1000 {
			return RetentionPeriod{}, fmt.Errorf("invalid retention period %q: number too large", s)
		}
		n[i] = x
	}
	p := RetentionPeriod{Years: n[0], Months: n[1], Days: 7*n[2] + n[3]}
	if p.IsZero() {
		return RetentionPeriod{}, fmt.Errorf("invalid retention period %q: the period is empty", s)
	}
	return p, nil
}

// IsZero reports whether p is the zero period (none given).
func (p RetentionPeriod) IsZero() bool { return p == RetentionPeriod{} }

// String returns the period as an ISO 8601 duration, or "" for the zero
// period.
func (p RetentionPeriod) String() string {
	if p.IsZero() {
		return ""
	}
	var b strings.Builder
	b.WriteByte('P')
	for _, part := range []struct {
		n    int
		unit byte
	}{{p.Years, 'Y'}, {p.Months, 'M'}, {p.Days, 'D'}} {
		if part.n != 0 {
			b.WriteString(strconv.Itoa(part.n))
			b.WriteByte(part.unit)
		}
	}
	return b.String()
}

// EndsOn returns the date on which a period that starts on d ends: months
// counted as Date.AddMonths does, then days.
func (p RetentionPeriod) EndsOn(d Date) Date {
	return d.AddMonths(12*p.Years + p.Months).AddDays(p.Days)
}
