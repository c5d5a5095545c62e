package dsar

import (
	"slices"
	"sort"
	"time"
)

// AccessReport is what an answer to an access request tells the subject
// besides the data itself (GDPR Art 15(1)(a)-(h), 15(2)): whether data
// about them is processed, where, for what, on what ground, for how long,
// who receives it, where it comes from, which decisions are automated, and
// how it is protected outside the EEA. It is built from the controller's
// data map, the case and the outcome of the case's export tasks; the data
// collected by those tasks is streamed beside it (workflows/export).
type AccessReport struct {
	Reference  string
	Language   Language
	ReceivedAt time.Time
	CreatedAt  time.Time
	// Controller is who answers: its name, registry number and privacy
	// contact.
	Controller ReportController
	// Authority is where the subject may complain (Art 15(1)(f), Art 77):
	// the supervisory authority of the controller's jurisdiction.
	Authority SupervisoryAuthority
	// Processed confirms that data about the subject is processed: false
	// only when every system searched said it holds nothing.
	Processed bool
	// Refusal is the part of the request refused (Art 12(4), 15(4)), nil
	// when nothing was.
	Refusal *ReportRefusal
	// Withheld counts the records left out because giving them would harm
	// the rights of others (Art 15(4)): officers' redactions.
	Withheld int
	// Systems are the systems searched, in data-map order, with what the
	// search found.
	Systems []ReportSystem
	// Categories, Recipients, Transfers and Decisions describe the
	// processing in the systems that hold or may hold data about the
	// subject (every system but those that found nothing).
	Categories []ReportCategory
	Recipients []ReportRecipient
	Transfers  []ReportTransfer
	Decisions  []ReportDecision
	// Rights are the other rights the subject has over the data
	// (Art 15(1)(e)): rectification, erasure, restriction and objection.
	Rights []RequestType
}

// ReportController is the controller as an access answer names it.
type ReportController struct {
	Name      string
	OrgNumber string
	Contact   Contact
}

// ReportRefusal is a part of the request refused, with its ground.
type ReportRefusal struct {
	Ground Ground
	Text   string
	Part   string
}

// ReportSystem is one system searched for the subject's data and the
// outcome of its export task: done (with the records it gave), no_data, or
// skipped with the reason.
type ReportSystem struct {
	// Task is the ID of the export task; a done task's data is at
	// ExportBlobKey(case, Task).
	Task       string
	Key        string
	Name       string
	Vendor     string // who runs it for the controller, when not the controller
	Country    string
	Status     TaskStatus
	Reason     string
	Records    int
	Purposes   []string
	LegalBases []LegalBasis
	Categories []string // keys of ReportCategory
	Recipients []string // keys of ReportRecipient
}

// Holds reports whether the system holds, or may hold, data about the
// subject: it was not found to hold nothing.
func (s ReportSystem) Holds() bool { return s.Status != TaskNoData }

// ReportCategory is a category of data held about the subject with its
// purpose (Art 15(1)(a)-(b)), legal bases, retention or its criteria (d)
// and its source when not the subject (g).
type ReportCategory struct {
	Key        string
	Name       string
	Purpose    string
	LegalBases []LegalBasis
	Retention  string
	Source     string
}

// ReportRecipient is a recipient the data is disclosed to, named as the
// data map names it (CJEU C-154/21: the recipients themselves, not
// categories of them, wherever they are known).
type ReportRecipient struct {
	Key       string
	Name      string
	Role      string
	Country   string
	Safeguard Safeguard
}

// ReportTransfer is a transfer of the data outside the EEA and the
// safeguard that makes it lawful (Art 15(2)): to a system run there or to
// a recipient there.
type ReportTransfer struct {
	To        string // the system's or the recipient's name
	Country   string
	Safeguard Safeguard
}

// ReportDecision is an automated decision about the subject with its logic
// and its significance and envisaged consequences (Art 15(1)(h)).
type ReportDecision struct {
	System       string // the system's name
	Name         string
	Logic        string
	Significance string
}

// accessRights are the rights an access answer reminds the subject of
// (Art 15(1)(e)).
var accessRights = []RequestType{TypeRectification, TypeErasure, TypeRestriction, TypeObjection}

// NewAccessReport builds the answer to the access request r of controller
// c from the case's tasks at now. Only the export tasks to systems count;
// each must have ended (the report is written once the systems are done),
// else ECONFLICT. A cancelled task is left out: the system was not
// searched, and a refusal says why.
func NewAccessReport(c *Controller, r *Request, tasks []*Task, now time.Time) (*AccessReport, error) {
	if r.Type != TypeAccess {
		return nil, Errorf(ECONFLICT, "an access report answers an access request, not %s", r.Type)
	}
	rep := &AccessReport{
		Reference:  r.Reference,
		Language:   r.Language,
		ReceivedAt: r.ReceivedAt,
		CreatedAt:  now,
		Controller: ReportController{Name: c.LegalName, OrgNumber: c.OrgNumber, Contact: c.PrivacyContact},
		Authority:  c.SupervisoryAuthority,
		Rights:     slices.Clone(accessRights),
	}
	if d := r.Decision; d.Partial || d.Ground != "" {
		rep.Refusal = &ReportRefusal{Ground: d.Ground, Text: d.Text, Part: d.Part}
	}
	systems, err := ExportSystems(c, tasks)
	if err != nil {
		return nil, err
	}
	rep.Systems = systems
	cats, recips := map[string]bool{}, map[string]bool{}
	for _, s := range systems {
		if !s.Holds() {
			continue
		}
		rep.Processed = true
		for _, k := range s.Categories {
			cats[k] = true
		}
		for _, k := range s.Recipients {
			recips[k] = true
		}
		sys, _ := c.System(s.Key)
		if sys.Transfer() {
			rep.Transfers = append(rep.Transfers, ReportTransfer{To: sys.Name, Country: sys.Country, Safeguard: sys.Safeguard})
		}
		for _, d := range sys.AutomatedDecisions {
			rep.Decisions = append(rep.Decisions, ReportDecision{System: sys.Name, Name: d.Name, Logic: d.Logic, Significance: d.Significance})
		}
	}
	for _, d := range c.DataCategories {
		if cats[d.Key] {
			rep.Categories = append(rep.Categories, ReportCategory{Key: d.Key, Name: d.Name, Purpose: d.Purpose,
				LegalBases: slices.Clone(d.LegalBases), Retention: d.Retention, Source: d.Source})
		}
	}
	for _, x := range c.Recipients {
		if !recips[x.Key] {
			continue
		}
		rep.Recipients = append(rep.Recipients, ReportRecipient{Key: x.Key, Name: x.Name, Role: x.Role, Country: x.Country, Safeguard: x.Safeguard})
		if x.Transfer() {
			rep.Transfers = append(rep.Transfers, ReportTransfer{To: x.Name, Country: x.Country, Safeguard: x.Safeguard})
		}
	}
	return rep, nil
}

// ExportSystems returns the systems the case's export tasks searched, in
// the order of the data map, each with its task's outcome. Every export
// task to a system must have ended (ECONFLICT otherwise); cancelled tasks
// and tasks to systems the data map no longer has are left out.
func ExportSystems(c *Controller, tasks []*Task) ([]ReportSystem, error) {
	byKey := map[string]*Task{}
	for _, t := range tasks {
		if t.Action != ActionExport || t.System == "" {
			continue
		}
		if !t.Status.Ended() {
			return nil, Errorf(ECONFLICT, "export task %s has not ended (%s)", t.ID, t.Status)
		}
		if t.Status != TaskCancelled {
			byKey[t.System] = t
		}
	}
	var out []ReportSystem
	for i := range c.Systems {
		s := &c.Systems[i]
		t, ok := byKey[s.Key]
		if !ok {
			continue
		}
		out = append(out, ReportSystem{
			Task: t.ID, Key: s.Key, Name: s.Name, Vendor: s.Vendor, Country: s.Country,
			Status: t.Status, Reason: t.Reason, Records: t.Count,
			Purposes: slices.Clone(s.Purposes), LegalBases: slices.Clone(s.LegalBases),
			Categories: slices.Clone(s.DataCategories), Recipients: slices.Clone(s.Recipients),
		})
	}
	return out, nil
}

// portableBases are the legal bases on which data is portable (Art 20(1)(a)).
var portableBases = []LegalBasis{LegalBasisConsent, LegalBasisContract}

// Portable reports whether the data of a category, as a system processes
// it, falls under the right to data portability (Art 20(1)): the subject
// provided it, or it was observed from their use of a service, and not
// derived or received from elsewhere (the category names no Source), and
// both the category and the system process it on consent or contract. The
// data map only holds systems, so the processing is by automated means.
// A category the data map does not know is not portable.
func (c *Controller) Portable(system, category string) bool {
	s, ok := c.System(system)
	if !ok || !slices.Contains(s.DataCategories, category) {
		return false
	}
	d, ok := c.DataCategory(category)
	if !ok || d.Source != "" {
		return false
	}
	for _, b := range portableBases {
		if d.HasBasis(b) && s.HasBasis(b) {
			return true
		}
	}
	return false
}

// CategoryOrder sorts category keys of a system's export: those of the
// system in data-map order first, then any others in lexical order ("",
// the records whose category the system did not say, sorts first of
// those).
func (s *System) CategoryOrder(keys []string) {
	rank := func(k string) int {
		if i := slices.Index(s.DataCategories, k); i >= 0 {
			return i
		}
		return len(s.DataCategories)
	}
	sort.SliceStable(keys, func(i, j int) bool {
		ri, rj := rank(keys[i]), rank(keys[j])
		if ri != rj {
			return ri < rj
		}
		return keys[i] < keys[j]
	})
}
