package dsar

import (
	"context"
	"time"
)

// OutboxKind names what an outbox item asks the workers to do.
type OutboxKind string

// The outbox kinds.
const (
	// OutboxMail sends one e-mail (payload: MailPayload).
	OutboxMail OutboxKind = "mail"
	// OutboxReminder fires a deadline reminder (payload: ReminderPayload).
	OutboxReminder OutboxKind = "reminder"
	// OutboxVerifyReminder reminds a subject who has not confirmed yet,
	// with a new link and code (payload: VerifyPayload).
	OutboxVerifyReminder OutboxKind = "verify_reminder"
	// OutboxVerifyExpiry closes a request that was never confirmed.
	OutboxVerifyExpiry OutboxKind = "verify_expiry"
	// OutboxDigest sends an officer the day's overview of cases due soon
	// and overdue (payload: DigestPayload).
	OutboxDigest OutboxKind = "digest"
	// OutboxCheckpoint records in the administrators' audit chain which
	// cases exist (payload: CheckpointPayload), so that deleting a whole
	// case is found by the audit check.
	OutboxCheckpoint OutboxKind = "audit_checkpoint"
	// OutboxTask carries out one step of system tasks (payload:
	// TaskPayload): send them, poll one, remind, end its grace period,
	// cancel them.
	OutboxTask OutboxKind = "task"
	// OutboxRetention removes the personal data of the closed cases whose
	// records retention has run out (payload: RetentionPayload), once a
	// day.
	OutboxRetention OutboxKind = "retention"
	// OutboxAssemble assembles the files for the subject of an access or
	// portability case from what the systems returned.
	OutboxAssemble OutboxKind = "assemble"
	// OutboxResultsExpiry deletes a case's files at the end of the
	// download window.
	OutboxResultsExpiry OutboxKind = "results_expiry"
	// OutboxTransmit sends a portability case's package to the
	// organisation the subject named (payload: TransmitPayload).
	OutboxTransmit OutboxKind = "transmit"
	// OutboxWebhook makes one attempt to deliver one webhook event to one
	// subscription (payload: WebhookPayload).
	OutboxWebhook OutboxKind = "webhook"
	// OutboxWebhookDisabled tells the administrators the service disabled
	// a webhook subscription (payload: WebhookDisabledPayload).
	OutboxWebhookDisabled OutboxKind = "webhook_disabled"
	// OutboxOpenDSRCallback makes one attempt to post a status callback to
	// an OpenDSR client (payload: OpenDSRCallbackPayload).
	OutboxOpenDSRCallback OutboxKind = "opendsr_callback"
)

// OutboxKinds lists every outbox kind: the workers have one handler for
// each (a test fails for a kind without one), and the metrics count the
// rows of each.
var OutboxKinds = []OutboxKind{OutboxMail, OutboxReminder, OutboxVerifyReminder, OutboxVerifyExpiry, OutboxDigest, OutboxCheckpoint, OutboxTask,
	OutboxRetention, OutboxAssemble, OutboxResultsExpiry, OutboxTransmit, OutboxWebhook, OutboxWebhookDisabled, OutboxOpenDSRCallback}

// CheckpointPayload is the payload of an OutboxCheckpoint item: the
// checkpoint covers the cases created before Before.
type CheckpointPayload struct {
	Before time.Time `json:"before"`
}

// RetentionPayload is the payload of an OutboxRetention item: the day's
// run, and which part of it (a large backlog goes on in further parts,
// 1, 2, 3, …).
type RetentionPayload struct {
	Date Date `json:"date"`
	Part int  `json:"part"`
}

// DigestPayload is the payload of an OutboxDigest item.
type DigestPayload struct {
	UserID string `json:"user_id"`
	Date   Date   `json:"date"`
}

// DigestHour is the officer-local hour at which the daily digest goes out.
const DigestHour = 7

// VerifyPayload is the payload of an OutboxVerifyReminder item.
type VerifyPayload struct {
	Reminder string `json:"reminder"` // "24h", "72h"
}

// The states of an outbox item.
const (
	OutboxPending   = "pending"   // waits for its time, or queued
	OutboxRunning   = "running"   // a worker holds its lease
	OutboxDone      = "done"      // handled; never handled again
	OutboxCancelled = "cancelled" // no longer needed (the deadline moved, the case closed)
	OutboxFailed    = "failed"    // gave up after the last retry; needs an operator
)

// OutboxItem is one piece of work written in the same transaction as the
// change that caused it. The database is the truth; the queue only carries
// the item's ID, which is also the queue task's ID.
type OutboxItem struct {
	ID         string
	Kind       OutboxKind
	RequestID  string
	Payload    []byte
	RunAt      time.Time
	Status     string
	Attempts   int
	EnqueuedAt *time.Time
	LeaseUntil *time.Time
	LastError  string
	CreatedAt  time.Time
}

// MailRecipient says to whom a mail goes, without naming the address (the
// address is looked up when the mail is sent, so none is kept in the outbox).
type MailRecipient string

// The mail recipients.
const (
	RecipientSubject    MailRecipient = "subject"    // the data subject of the request
	RecipientController MailRecipient = "controller" // the case's officers (the assignee, or every officer of the controller), else the privacy contact
	RecipientAssignee   MailRecipient = "assignee"   // the officer the case was assigned to (MailPayload.UserID)
)

// MailTemplate names a mail's template (templates/mail/<name>).
type MailTemplate string

// The mail templates.
const (
	MailVerification       MailTemplate = "verification"          // the link and code that confirm a request
	MailAcknowledgement    MailTemplate = "acknowledgement"       // the request is confirmed and its deadline runs
	MailExpiredUnverified  MailTemplate = "expired_unverified"    // the request was never confirmed and is closed
	MailClarification      MailTemplate = "clarification_request" // the controller asks what exactly is requested
	MailIdentity           MailTemplate = "identity_request"      // the controller asks for more proof of identity
	MailReplyReceived      MailTemplate = "reply_received"        // the subject's answer arrived
	MailExtension          MailTemplate = "extension"             // the deadline was extended, with reasons
	MailWithdrawal         MailTemplate = "withdrawal"            // the subject withdrew the request
	MailCompletion         MailTemplate = "completion"            // what was done (and what was refused in part)
	MailRefusal            MailTemplate = "refusal"               // the request is refused, with grounds and remedies
	MailForwarded          MailTemplate = "forwarded"             // the request went to the controller responsible
	MailFeeNotice          MailTemplate = "fee_notice"            // a fee is announced before it is charged
	MailReopened           MailTemplate = "reopened"              // the closed case is open again, and why
	MailReminder           MailTemplate = "reminder"              // an officer's deadline reminder
	MailDigest             MailTemplate = "digest"                // an officer's daily overview
	MailSubjectReplied     MailTemplate = "subject_replied"       // tells the case's officers the subject answered
	MailCaseAssigned       MailTemplate = "case_assigned"         // tells an officer a case was given to them
	MailTaskFailed         MailTemplate = "task_failed"           // tells the case's officers a system task failed
	MailTaskReminder       MailTemplate = "task_reminder"         // reminds the case's officers of a manual task
	MailDownloadCode       MailTemplate = "download_code"         // the code that, with the status link, opens the subject's files
	MailTransmitted        MailTemplate = "transmitted"           // the portable package reached the organisation the subject named
	MailTransmissionFailed MailTemplate = "transmission_failed"   // it could not be sent; the download stays open
	MailTransmissionAlert  MailTemplate = "transmission_alert"    // tells the case's officers a transmission failed
	MailWebhookDisabled    MailTemplate = "webhook_disabled"      // tells the admins the service disabled a webhook subscription
)

// MailTemplates lists every mail template.
var MailTemplates = []MailTemplate{
	MailVerification, MailAcknowledgement, MailExpiredUnverified, MailClarification, MailIdentity, MailReplyReceived,
	MailExtension, MailWithdrawal, MailCompletion, MailRefusal, MailForwarded, MailFeeNotice, MailReopened,
	MailReminder, MailDigest, MailSubjectReplied, MailCaseAssigned, MailTaskFailed, MailTaskReminder,
	MailTransmitted, MailTransmissionFailed, MailTransmissionAlert, MailWebhookDisabled,
}

// ClosingMail returns the status a case must still be in for a mail of this
// template to be true when it is sent (the completion mail of a completed
// case, say), or "" when the mail holds whatever the case does later. A
// closing mail whose case has moved on since is cancelled, not sent.
func (t MailTemplate) ClosingMail() Status {
	switch t {
	case MailCompletion:
		return StatusCompleted
	case MailRefusal:
		return StatusRefused
	}
	return ""
}

// askMail is the mail that carries a question of this kind.
func askMail(k MessageKind) MailTemplate {
	if k == MessageIdentity {
		return MailIdentity
	}
	return MailClarification
}

// MailPayload is the payload of an OutboxMail item.
type MailPayload struct {
	Template MailTemplate  `json:"template"`
	To       MailRecipient `json:"to"`
	Reminder string        `json:"reminder,omitempty"`
	// VerificationID names the verification whose link and code the mail
	// carries.
	VerificationID string `json:"verification_id,omitempty"`
	// MessageID names the officer's message the mail carries.
	MessageID string `json:"message_id,omitempty"`
	// OriginalDueDate is the due date before an extension.
	OriginalDueDate string `json:"original_due_date,omitempty"`
	// FeeBasis says why a fee notice's fee may be charged.
	FeeBasis FeeBasis `json:"fee_basis,omitempty"`
	// Document says the subject's reply came with an identity document.
	Document bool `json:"document,omitempty"`
	// UserID is the officer a RecipientAssignee mail goes to.
	UserID string `json:"user_id,omitempty"`
	// TaskID names the system task a mail is about.
	TaskID string `json:"task_id,omitempty"`
}

// ReminderPayload is the payload of an OutboxReminder item. Deadline is the
// deadline the reminder was planned for: when the request's deadline has
// moved since, the reminder is stale and does nothing.
type ReminderPayload struct {
	Reminder string    `json:"reminder"` // "7d", "2d", "overdue"
	Deadline time.Time `json:"deadline"`
}

// The reminders planned for every open request.
const (
	Reminder7Days   = "7d"
	Reminder2Days   = "2d"
	ReminderOverdue = "overdue"
)

// The subject's reminders to confirm a request, named after the
// DefaultPolicy's VerifyReminders; the verification mail words each.
const (
	VerifyReminder24h = "24h"
	VerifyReminder72h = "72h"
)

// OutboxService is the outbox as the workers see it.
//
// A worker holds an item through a lease that it renews while it works, so
// that the item of a worker that died goes to another within one lease.
// Claim counts the attempt, and the item it returns, with its Attempts,
// identifies the claim: Renew, Release, Complete and Cancel change the item
// only while that claim holds it, never after another worker took it over.
type OutboxService interface {
	// Due returns pending items whose time has come and that were never queued.
	Due(ctx context.Context, now time.Time, limit int) ([]*OutboxItem, error)
	// Stale returns the items a lost queue may have dropped: pending items
	// queued before queuedBefore, and running items whose lease expired
	// (their worker died) and that were not queued again since.
	Stale(ctx context.Context, now, queuedBefore time.Time, limit int) ([]*OutboxItem, error)
	// MarkEnqueued records that the items are in the queue.
	MarkEnqueued(ctx context.Context, ids []string, at time.Time) error
	// Claim takes the lease on a pending item (or one whose lease expired) and
	// returns it; ok is false when the item is done, cancelled, failed, or
	// leased by another worker.
	Claim(ctx context.Context, id string, now time.Time, lease time.Duration) (item *OutboxItem, ok bool, err error)
	// Renew extends the lease of a claimed item to now+lease and reports
	// whether the claim still holds the item.
	Renew(ctx context.Context, claimed *OutboxItem, now time.Time, lease time.Duration) (held bool, err error)
	// Release gives a claimed item back after a failed attempt; with final
	// set it is marked failed and never retried.
	Release(ctx context.Context, claimed *OutboxItem, errMsg string, final bool) error
	// Complete marks a claimed item done and, in the same transaction,
	// appends ev (when not nil) to the request's audit trail and writes the
	// follow-up items next.
	Complete(ctx context.Context, claimed *OutboxItem, now time.Time, ev *Event, next []*OutboxItem) error
	// Cancel marks a claimed item cancelled: it is no longer needed.
	Cancel(ctx context.Context, claimed *OutboxItem, now time.Time) error
	// Count returns the number of items per status.
	Count(ctx context.Context) (map[string]int, error)
}
