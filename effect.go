package dsar

import (
	"encoding/json"
	"slices"
	"time"
)

// Env is what a case operation needs of the world besides the case: the
// present moment, a source of new IDs (time-ordered and unique, for the rows
// an effect adds) and the subject-facing time limits.
type Env struct {
	Now    time.Time
	NewID  func() string
	Policy Policy
}

// policy returns the environment's policy, DefaultPolicy when unset.
func (e Env) policy() Policy { return e.Policy.OrDefault() }

// Case is what a case operation decides on: the request and the facts the
// store looked up for it. The operation never changes it; it returns an
// Effect.
type Case struct {
	Request    *Request
	Controller *Controller
	// Pause is the open pause while the request is paused, else nil.
	Pause *PausePeriod
	// CopiesGiven counts the earlier access requests of the same subject to
	// the same controller that were completed: copies already given, after
	// which a further copy may carry a fee (Art 15(3)). Loaded only for the
	// operations that need it (AnnounceFee and the actions list).
	CopiesGiven int
	// LastVerificationAt is when the newest verification of the request was
	// made (the resend limit counts from it); zero when none.
	LastVerificationAt time.Time
	// Tasks are the case's tasks in the connected systems, oldest first.
	Tasks []*Task
	// Redactions counts the records left out of the subject's files
	// (access and portability cases).
	Redactions int
}

// PausePeriod is one wait for the subject: why, whether it stops the clock, and,
// once it has ended, how many whole days it moved the deadline.
type PausePeriod struct {
	Reason       PauseReason
	Note         string
	ClockStopped bool
	StartedAt    time.Time
	EndedAt      *time.Time
	Days         int
}

// Effect is what a case operation decided must happen, for the store to
// write in one transaction: the case's new state, its audit events, the
// work for the outbox, and the rows that go with them. The store decides
// nothing of it.
type Effect struct {
	// Request is the case after the operation; nil when the case row does
	// not change.
	Request *Request
	// Events are appended to the case's audit chain, in order.
	Events []*Event
	// Outbox items are written for the workers.
	Outbox []*OutboxItem
	// Messages are added to the case (questions, replies, notes, fee
	// notices, reopening notices).
	Messages []*Message
	// Document is an identity document the subject sent, kept sealed until
	// an officer has checked it.
	Document *Document
	// OpenPause starts a pause; EndPause ends the open one with its days.
	OpenPause *PausePeriod
	EndPause  *PausePeriod
	// CancelKinds cancels the case's pending outbox items of these kinds;
	// CancelMails its pending mails made from these templates.
	CancelKinds []OutboxKind
	CancelMails []MailTemplate
	// UseVerification marks that verification used; EndVerifications
	// supersedes every active or locked verification of the case;
	// NewVerification makes a new verification with this ID (superseding the
	// others).
	UseVerification  string
	EndVerifications bool
	NewVerification  string
	// DeleteDocuments deletes the case's identity documents: the case keeps
	// who checked the identity, when and how, never the proof.
	DeleteDocuments bool
	// Tasks are the case's tasks the operation added or changed.
	Tasks []*Task
	// RemovePersonalData removes the case's personal data outside its
	// request row and its tasks (which the effect changes itself): the
	// store deletes its messages, documents and verifications and clears
	// its status page token, pause notes and outbox errors; the files and
	// the kept copies of its mails (Removal.BlobPrefix, MailItems, Tasks)
	// go through the blob store and the local mailbox before the commit.
	RemovePersonalData *Removal
	// RedactEvents names the audit events (by ID) whose client address,
	// reason and free-text data are cleared; the seal of the removal's
	// event keeps the trail verifiable (AuditSeal).
	RedactEvents []int64
	// Suppress puts the subject's address on the suppression list (as a
	// keyed hash, never the address).
	Suppress bool
	// Redactions are records of the systems' exports left out of what the
	// subject is given (Art 15(4)).
	Redactions []*Redaction
	// NewDownloadCode is a download code to create (the code is derived
	// from its ID); DownloadCodeAttempts records wrong tries of one.
	NewDownloadCode      *DownloadCode
	DownloadCodeAttempts *CodeAttempts
}

// mail adds an outbox item that sends one mail about the case now.
func (e *Effect) mail(env Env, requestID string, p MailPayload) {
	payload, _ := json.Marshal(p) // a struct of strings always marshals
	e.Outbox = append(e.Outbox, &OutboxItem{ID: env.NewID(), Kind: OutboxMail, RequestID: requestID, Payload: payload, RunAt: env.Now})
}

// message adds a message to the case and returns it.
func (e *Effect) message(env Env, requestID string, kind MessageKind, author, body string, fromSubject bool) *Message {
	m := &Message{ID: env.NewID(), RequestID: requestID, FromSubject: fromSubject, Kind: kind, Author: author, Body: body, CreatedAt: env.Now}
	e.Messages = append(e.Messages, m)
	return m
}

// Then adds next, an effect to be written right after e in the same
// transaction, to e, when writing the two as one comes to the same as
// writing them one after the other: when each holds no more than the case
// row, audit events, outbox items, cancellations of pending items, tasks
// and the suppression (the outcomes of a case's tasks, recorded together,
// and the closing of the case they complete), and next cancels none of
// the items e adds (written as one, the cancellations come before every
// new item). It reports whether it did; when not, e is to be written
// first and next after it.
func (e *Effect) Then(next *Effect) bool {
	if !e.plain() || !next.plain() || slices.ContainsFunc(e.Outbox, next.cancels) {
		return false
	}
	if next.Request != nil {
		e.Request = next.Request
	}
	e.Events = append(e.Events, next.Events...)
	e.Outbox = append(e.Outbox, next.Outbox...)
	for _, t := range next.Tasks {
		if i := slices.IndexFunc(e.Tasks, func(x *Task) bool { return x.ID == t.ID }); i >= 0 {
			e.Tasks[i] = t
		} else {
			e.Tasks = append(e.Tasks, t)
		}
	}
	for _, k := range next.CancelKinds {
		if !slices.Contains(e.CancelKinds, k) {
			e.CancelKinds = append(e.CancelKinds, k)
		}
	}
	for _, m := range next.CancelMails {
		if !slices.Contains(e.CancelMails, m) {
			e.CancelMails = append(e.CancelMails, m)
		}
	}
	e.Suppress = e.Suppress || next.Suppress
	return true
}

// cancels reports whether the effect's cancellations take the pending
// item (CancelKinds, CancelMails).
func (e *Effect) cancels(it *OutboxItem) bool {
	if slices.Contains(e.CancelKinds, it.Kind) {
		return true
	}
	if it.Kind != OutboxMail || len(e.CancelMails) == 0 {
		return false
	}
	var p MailPayload
	return json.Unmarshal(it.Payload, &p) == nil && slices.Contains(e.CancelMails, p.Template)
}

// plain reports whether the effect holds no more than the case row, audit
// events, outbox items, cancellations, tasks and the suppression.
func (e *Effect) plain() bool {
	return len(e.Messages) == 0 && e.Document == nil && e.OpenPause == nil && e.EndPause == nil &&
		e.UseVerification == "" && !e.EndVerifications && e.NewVerification == "" && !e.DeleteDocuments &&
		e.RemovePersonalData == nil && len(e.RedactEvents) == 0 && len(e.Redactions) == 0 &&
		e.NewDownloadCode == nil && e.DownloadCodeAttempts == nil
}

// Follow returns the case as it stands once eff is written, for the next
// operation on it in the same transaction (the worker records the outcomes
// of several of a case's tasks at once), and false when eff changes what
// the case holds beyond its request and its tasks (a pause): then the case
// must be read again.
func (c *Case) Follow(eff *Effect) (*Case, bool) {
	if eff.OpenPause != nil || eff.EndPause != nil {
		return nil, false
	}
	next := *c
	next.Redactions += len(eff.Redactions)
	if eff.Request != nil {
		next.Request = eff.Request
	}
	if len(eff.Tasks) > 0 {
		next.Tasks = slices.Clone(c.Tasks)
		for _, t := range eff.Tasks {
			if i := slices.IndexFunc(next.Tasks, func(x *Task) bool { return x.ID == t.ID }); i >= 0 {
				next.Tasks[i] = t
			} else {
				next.Tasks = append(next.Tasks, t)
			}
		}
	}
	return &next, true
}
