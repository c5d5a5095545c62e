package dsar

import "slices"

// Plan is what approving a case will do in the connected systems: one task
// per system the request concerns, what a legal hold keeps instead, and the
// recipients to tell afterwards (Art 19).
type Plan struct {
	// Tasks are the systems' tasks, in the order of the data map.
	Tasks []*Task
	// Held lists the categories an erasure keeps, why and until when.
	Held []Held
	// Notify lists the recipients' notice tasks, sent once every system
	// task has ended; Unreachable the recipients that cannot be told, with
	// the recorded reason.
	Notify      []*Task
	Unreachable []Recipient
}

// PlanFor returns the plan of the request from the controller's data map,
// by request type, data categories and legal basis:
//
//   - access: an export from every system; portability: from those
//     processing on consent or contract (Art 20(1)(a));
//   - erasure: an erasure in every system, except the categories under a
//     legal hold, which are kept until the hold ends (Art 17(3)(b));
//   - rectification and restriction: the systems holding the categories
//     concerned (all of them when the request names none);
//   - withdrawal of consent: the consent-based systems, for their purposes;
//   - an objection to direct marketing: the marketing systems (and the
//     suppression list); an Art 21(1) objection: the systems processing on
//     legitimate interest or public task, for their purposes;
//   - an automated decision: the systems that take automated decisions stop
//     applying them to the subject until a person has reviewed the case.
//
// An action the system's connector cannot carry out (ConnectorKind.Does)
// becomes a manual task for that system: an officer does it by hand.
// Recipients are told after rectification, erasure and restriction (Art 19).
// today is the controller-local date the hold periods count from.
func PlanFor(c *Controller, r *Request, today Date) *Plan {
	p := &Plan{}
	for i := range c.Systems {
		s := &c.Systems[i]
		t := &Task{System: s.Key, Connector: s.Connector.Kind, Categories: slices.Clone(s.DataCategories)}
		switch r.Type {
		case TypeAccess:
			t.Action = ActionExport
		case TypePortability:
			if !s.HasBasis(LegalBasisConsent) && !s.HasBasis(LegalBasisContract) {
				continue
			}
			t.Action = ActionExport
		case TypeErasure:
			held, free := c.CategoriesOf(s)
			for _, d := range held {
				p.Held = append(p.Held, Held{System: s.Key, Category: d.Key, Law: d.Hold.Law, Until: d.Hold.Until(today)})
			}
			if len(free) == 0 {
				continue
			}
			t.Action, t.Categories = ActionErase, keys(free)
		case TypeRectification, TypeRestriction:
			t.Action = ActionRectify
			if r.Type == TypeRestriction {
				t.Action = ActionRestrict
			}
		case TypeWithdrawConsent:
			if !s.HasBasis(LegalBasisConsent) {
				continue
			}
			t.Action, t.Purposes = ActionWithdrawConsent, slices.Clone(s.Purposes)
		case TypeObjection:
			switch r.Objection {
			case ObjectionDirectMarketing:
				if !s.Marketing {
					continue
				}
				t.Action = ActionSuppressMarketing
			case ObjectionLegitimate:
				if !s.HasBasis(LegalBasisLegitimateInterest) && !s.HasBasis(LegalBasisPublicTask) {
					continue
				}
				t.Action, t.Purposes = ActionStopProcessing, slices.Clone(s.Purposes)
			default:
				continue // an officer says which objection it is first
			}
		case TypeAutomatedDecision:
			if len(s.AutomatedDecisions) == 0 {
				continue
			}
			t.Action = ActionStopProcessing
			for _, d := range s.AutomatedDecisions {
				t.Purposes = append(t.Purposes, d.Name)
			}
		default:
			continue
		}
		if !s.Connector.Kind.Does(t.Action) {
			t.Connector = ConnectorManual // an officer does it in the system
		}
		p.Tasks = append(p.Tasks, t)
	}
	if r.Type.NotifiesRecipients() {
		for _, rc := range c.Recipients {
			if rc.Notify == nil {
				p.Unreachable = append(p.Unreachable, rc)
				continue
			}
			p.Notify = append(p.Notify, &Task{Recipient: rc.Key, Connector: rc.Notify.Kind, Action: ActionNotifyRecipient})
		}
	}
	return p
}

// NotifiesRecipients reports whether carrying out a request of the type is
// told to the recipients of the data (Art 19).
func (t RequestType) NotifiesRecipients() bool {
	return t == TypeRectification || t == TypeErasure || t == TypeRestriction
}

// Suppresses reports whether the request ends with the subject on the
// suppression list: an erasure, or an objection to direct marketing, so
// that an address imported again is not mailed.
func (r *Request) Suppresses() bool {
	return r.Type == TypeErasure || (r.Type == TypeObjection && r.Objection == ObjectionDirectMarketing)
}

// planReady reports whether the plan of the request can be made: an
// objection must say which kind it is first.
func (r *Request) planReady() error {
	if r.Type == TypeObjection && r.Objection == "" {
		return &Error{Code: ECONFLICT, Message: "error.plan.objection_kind"}
	}
	return nil
}

func keys(ds []*DataCategory) []string {
	out := make([]string, len(ds))
	for i, d := range ds {
		out[i] = d.Key
	}
	return out
}
