package dsar

import (
	"strconv"
	"strings"
	"time"
)

// Records retention (GDPR Art 5(1)(e) and Recital 64; 11 CCR §7101): a
// case's records are personal data too. They are kept for the controller's
// RetentionMonths after the case closed, then the personal data is removed
// and the figures stay: the case keeps its type, controller, regulation,
// channel, dates, deadline, status, decision ground and what an erasure kept
// and why, and its audit trail; it loses who the subject is, what they wrote
// and were written, their documents, verifications and files.

// RetentionMonthsOf returns how many months the controller keeps case
// records after a case closed: its RetentionMonths, DefaultRetentionMonths
// when unset.
func RetentionMonthsOf(ctrl *Controller) int {
	if ctrl.RetentionMonths > 0 {
		return ctrl.RetentionMonths
	}
	return DefaultRetentionMonths
}

// RetentionDue returns the first controller-local date on which the
// personal data of a closed case is due for removal: the day after its
// closing date plus the controller's retention months (a period of months
// as Date.AddMonths counts it), so that the records are kept for the whole
// last day of the period. ok is false for an open case, one never closed,
// and one whose personal data is already removed.
func RetentionDue(r *Request, ctrl *Controller) (closed, due Date, ok bool) {
	if r.Status.Open() || r.ClosedAt == nil || r.PersonalDataRemovedAt != nil {
		return Date{}, Date{}, false
	}
	closed = DateOf(r.ClosedAt.In(ctrl.Location))
	return closed, closed.AddMonths(RetentionMonthsOf(ctrl)).AddDays(1), true
}

// RetentionClosedBefore returns an instant such that every case of the
// controller whose personal data is due for removal at now closed before
// it: the store selects the candidates with it and RetentionDue decides.
// It reaches a week past the exact bound, which the shortening of months
// at their ends (at most three days) never exceeds.
func RetentionClosedBefore(ctrl *Controller, now time.Time) time.Time {
	today := DateOf(now.In(ctrl.Location))
	return today.AddMonths(-RetentionMonthsOf(ctrl)).AddDays(7).StartIn(ctrl.Location)
}

// PersonalDataKind names a kind of a case's personal data that the removal
// takes away; a dry run lists them, never the data.
type PersonalDataKind string

// The kinds of a case's personal data.
const (
	DataSubject       PersonalDataKind = "subject"        // the subject's name, e-mail address, phone and customer number
	DataDetails       PersonalDataKind = "details"        // what the subject wrote in the request
	DataTexts         PersonalDataKind = "texts"          // the officers' free texts: extension reason, summary, refusal text and parts, pause notes
	DataMessages      PersonalDataKind = "messages"       // the messages, replies and internal notes
	DataDocuments     PersonalDataKind = "documents"      // identity documents not yet checked
	DataVerifications PersonalDataKind = "verifications"  // the hashed link tokens and codes, and the status page token
	DataTasks         PersonalDataKind = "task_texts"     // the systems' answers, references and evidence of the case's tasks
	DataMail          PersonalDataKind = "mail"           // the copies of the case's mails in the local mailbox, and the outbox errors
	DataFiles         PersonalDataKind = "files"          // the case's files (collected exports, packages)
	DataAudit         PersonalDataKind = "audit_personal" // the client addresses and free texts of the audit trail
)

// PersonalDataHeld is what the store found of a case's personal data
// outside its request row, for the removal to say what it takes away.
type PersonalDataHeld struct {
	Messages      int
	Documents     int
	Verifications int
	// Pauses counts the pauses with a note.
	Pauses int
	// MailItems are the IDs of the case's outbox items that send a mail
	// (the local mailbox keeps a copy of each); OutboxErrors counts the
	// case's outbox items with an error text.
	MailItems    []string
	OutboxErrors int
	// Files reports that the case has files in the blob store.
	Files bool
	// Events is the case's audit trail, in order (IDs, seqs and hashes
	// included), for the removal to redact and seal.
	Events []*Event
}

// Removal is what the removal of a case's personal data takes away besides
// the rows the store clears: the files and the kept copies of its mails.
// The store carries it out in the transaction of the removal, before the
// commit, so that a failure leaves the case due and the next run tries
// again.
type Removal struct {
	CaseID    string
	Reference string
	// Controller, Closed and Due say whose case it is, when it closed and
	// from which controller-local date its personal data was due for
	// removal.
	Controller string
	Closed     Date
	Due        Date
	// Kinds lists the kinds of personal data the case holds and loses.
	Kinds []PersonalDataKind
	// BlobPrefix is the prefix of the case's files in the blob store.
	BlobPrefix string
	// MailItems and Tasks are the IDs of the case's mail outbox items and
	// of its tasks, after which the Message-IDs of the mails about it are
	// named: the kept copies of those mails go too.
	MailItems []string
	Tasks     []string
}

// PlanRemoval returns what removing the personal data of the case at now
// would take away, or an ECONFLICT error when the case is not due: still
// open, closed too recently, or already removed.
func PlanRemoval(c *Case, held PersonalDataHeld, now time.Time) (*Removal, error) {
	r := c.Request
	closed, due, ok := RetentionDue(r, c.Controller)
	if !ok || DateOf(now.In(c.Controller.Location)).Before(due) {
		return nil, &Error{Code: ECONFLICT, Message: "error.retention.not_due"}
	}
	rm := &Removal{CaseID: r.ID, Reference: r.Reference, Controller: r.Controller, Closed: closed, Due: due,
		BlobPrefix: CaseBlobPrefix(r.ID), MailItems: held.MailItems}
	for _, t := range c.Tasks {
		rm.Tasks = append(rm.Tasks, t.ID)
	}
	add := func(k PersonalDataKind, has bool) {
		if has {
			rm.Kinds = append(rm.Kinds, k)
		}
	}
	s, d := r.Subject, r.Decision
	add(DataSubject, s != Subject{})
	add(DataDetails, r.Details != "")
	add(DataTexts, r.ExtensionReason != "" || d.Summary != "" || d.Text != "" || d.Part != "" || d.Granted != "" || held.Pauses > 0 ||
		r.Transmit.Organisation != "" || r.Transmit.Receipt != "")
	add(DataMessages, held.Messages > 0)
	add(DataDocuments, held.Documents > 0)
	add(DataVerifications, held.Verifications > 0)
	tasks := false
	for _, t := range c.Tasks {
		tasks = tasks || t.Answer != "" || t.Reason != "" || t.Evidence != "" || t.External != ""
	}
	add(DataTasks, tasks)
	add(DataMail, len(held.MailItems) > 0 || held.OutboxErrors > 0)
	add(DataFiles, held.Files)
	audit := false
	for _, ev := range held.Events {
		_, red := RedactEvent(ev)
		audit = audit || red
	}
	add(DataAudit, audit)
	return rm, nil
}

// KindNames returns the kinds as a comma-separated list.
func (rm *Removal) KindNames() string {
	names := make([]string, len(rm.Kinds))
	for i, k := range rm.Kinds {
		names[i] = string(k)
	}
	return strings.Join(names, ",")
}

// RemovePersonalData is the removal of a closed case's personal data once
// its records retention has run out (RetentionDue): the request row loses
// the subject's identity, the request's details and every free text, and
// the effect tells the store to remove the rest (RemovePersonalData). The
// case keeps its type, controller, regulation, channel, status, dates,
// deadline, decision ground, partial flag and what an erasure kept, so
// the dashboard's figures do not change, and its audit trail records the
// removal. It is an ECONFLICT error for a case that is not due.
func RemovePersonalData(env Env, c *Case, held PersonalDataHeld) (*Effect, error) {
	rm, err := PlanRemoval(c, held, env.Now)
	if err != nil {
		return nil, err
	}
	// Sealing a trail that was tampered with would hide it: check every
	// chained event against its hash first.
	for _, ev := range held.Events {
		if ev.Seq != 0 && EventHash(ev.PrevHash, ev, ev.Seq) != ev.Hash {
			return nil, &Error{Code: ECONFLICT, Message: "error.retention.audit_changed"}
		}
	}
	ch := begin(env, c, ActorService)
	r, now := ch.r, env.Now
	r.Subject, r.Details, r.ExtensionReason, r.Results = Subject{}, "", "", nil // the files go with the case's blobs
	r.Agent = nil
	r.Decision.Summary, r.Decision.Text, r.Decision.Part, r.Decision.Granted = "", "", "", ""
	r.Transmit.Organisation, r.Transmit.Receipt = "", ""
	r.SubjectRepliedAt = nil
	r.PersonalDataRemovedAt = &now
	ch.eff.RemovePersonalData = rm
	ch.eff.CancelKinds = append(ch.eff.CancelKinds, OutboxKinds...)
	for _, t := range c.Tasks {
		if t.Answer != "" || t.Reason != "" || t.Evidence != "" || t.External != "" {
			cp := *t
			cp.Answer, cp.Reason, cp.Evidence, cp.External = "", "", "", ""
			ch.eff.Tasks = append(ch.eff.Tasks, &cp)
		}
	}
	for _, ev := range held.Events {
		if _, red := RedactEvent(ev); red {
			ch.eff.RedactEvents = append(ch.eff.RedactEvents, ev.ID)
		}
	}
	return ch.done(&Event{Kind: EventPersonalDataRemoved, Reason: "records retention", Data: map[string]string{
		"retention_months": strconv.Itoa(RetentionMonthsOf(c.Controller)),
		"closed_on":        rm.Closed.String(),
		"due_on":           rm.Due.String(),
		"removed":          rm.KindNames(),
		"audit_seal":       AuditSeal(held.Events),
	}})
}
