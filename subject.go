package dsar

import (
	"context"
	"time"
)

// Policy holds the time limits of the subject-facing flow.
type Policy struct {
	// VerifyTTL is how long a verification link and code are valid.
	VerifyTTL time.Duration
	// VerifyReminders are the ages of an unverified request at which the
	// subject is reminded with a new link and code.
	VerifyReminders []time.Duration
	// UnverifiedExpiry is the age at which an unverified request closes as
	// expired_unverified.
	UnverifiedExpiry time.Duration
	// MaxCodeAttempts is how many wrong codes a verification takes before a
	// new one must be requested.
	MaxCodeAttempts int
	// StatusLinkTTL is how long a status page link keeps working after its
	// request closed.
	StatusLinkTTL time.Duration
	// ResendInterval is the least time between two verification mails the
	// subject asks for.
	ResendInterval time.Duration
	// DownloadTTL is how long the subject can download the files of a
	// completed access or portability case; MaxDownloads how many times.
	// The files are deleted when the window ends.
	DownloadTTL  time.Duration
	MaxDownloads int
	// DownloadCodeTTL is how long an e-mailed download code is valid.
	DownloadCodeTTL time.Duration
}

// OrDefault returns the policy, or DefaultPolicy for the zero Policy (none
// was set).
func (p Policy) OrDefault() Policy {
	if p.VerifyTTL == 0 {
		return DefaultPolicy
	}
	return p
}

// DefaultPolicy is the policy of the issue: 24-hour codes, reminders after 24
// and 72 hours, expiry after 14 days, five attempts, status links for 90 days
// after closing, a new code at most once a minute, downloads for 7 days and
// at most 5 times, download codes valid for 30 minutes.
var DefaultPolicy = Policy{
	VerifyTTL:        24 * time.Hour,
	VerifyReminders:  []time.Duration{24 * time.Hour, 72 * time.Hour},
	UnverifiedExpiry: 14 * 24 * time.Hour,
	MaxCodeAttempts:  5,
	StatusLinkTTL:    90 * 24 * time.Hour,
	ResendInterval:   time.Minute,
	DownloadTTL:      7 * 24 * time.Hour,
	MaxDownloads:     5,
	DownloadCodeTTL:  30 * time.Minute,
}

// The ways an identity is verified, recorded on the case (never the proof).
const (
	VerifiedByEmailLink = "email_link" // the subject followed the e-mailed link
	VerifiedByEmailCode = "email_code" // the subject typed the e-mailed code
)

// MessageKind says what a message between controller and subject is.
type MessageKind string

// The message kinds.
const (
	MessageClarification MessageKind = "clarification" // the controller asks what exactly is requested
	MessageIdentity      MessageKind = "identity"      // the controller asks for more proof of identity (Art 12(6))
	MessageReply         MessageKind = "reply"         // the subject answers
	MessageNote          MessageKind = "note"          // an officer's internal note, never shown to the subject
	MessageFee           MessageKind = "fee"           // the controller announces a fee before charging it (Art 15(3))
	MessageReopened      MessageKind = "reopened"      // the controller took the closed case back into work, and says why
)

// Internal reports whether messages of this kind are for the staff only
// (officers, admins and auditors), never for the subject or a system.
func (k MessageKind) Internal() bool { return k == MessageNote }

// Message is one message between the controller and the subject.
type Message struct {
	ID          string
	RequestID   string
	FromSubject bool
	Kind        MessageKind
	Author      string
	Body        string
	CreatedAt   time.Time
}

// Document is an identity document a subject uploads; it is kept, sealed,
// only until an officer has checked it.
type Document struct {
	ID          string
	FileName    string
	ContentType string
	Data        []byte
	CreatedAt   time.Time
}

// MaxDocumentSize is the largest identity document accepted.
const MaxDocumentSize = 10 << 20

// Kept is one kind of data kept after an erasure: what, why, until when.
type Kept struct {
	What  string `json:"what"`
	Why   string `json:"why"`
	Until string `json:"until,omitempty"` // YYYY-MM-DD, or empty when criteria decide
}

// Decision is how an officer closes a request.
type Decision struct {
	// Summary says what was done (completion).
	Summary string
	// Kept lists what an erasure kept.
	Kept []Kept
	// Ground and Text explain a refusal; Partial says only part is refused:
	// Part says which part, Granted what is carried out all the same.
	Ground  Ground
	Text    string
	Partial bool
	Part    string
	Granted string
}

// FeeBasis is why a fee may be charged for an access request (Art 15(3),
// 12(5)).
type FeeBasis string

// The bases of a fee.
const (
	FeeFurtherCopy FeeBasis = "further_copy" // a further copy after one already given (Art 15(3))
	FeeExcessive   FeeBasis = "art12_5"      // a manifestly unfounded or excessive request (Art 12(5)(a))
)

// Valid reports whether b is a known basis of a fee.
func (b FeeBasis) Valid() bool { return b == FeeFurtherCopy || b == FeeExcessive }

// SubjectService is what data subjects do, through the e-mailed link, the
// code and the status page token, never with an account. clientIP is the
// address the subject acted from, for the audit trail.
type SubjectService interface {
	// LinkRequest returns the request of a verification link token without
	// using the link, and whether it was used before: opening a link changes
	// nothing (mail scanners open links), confirming it does.
	LinkRequest(ctx context.Context, token string) (*Request, bool, error)
	// VerifyLink verifies the request of a verification link token and
	// returns it with the token of its status page.
	VerifyLink(ctx context.Context, token, clientIP string) (*Request, string, error)
	// VerifyCode verifies the request with the code typed on the page the
	// subject submitted it from.
	VerifyCode(ctx context.Context, requestID, code, clientIP string) (*Request, string, error)
	// ResendVerification sends a new link and code, superseding the old.
	ResendVerification(ctx context.Context, requestID string) error
	// PendingVerification returns the request waiting for the code.
	PendingVerification(ctx context.Context, requestID string) (*Request, error)
	// ByStatusToken returns the request of a status page token.
	ByStatusToken(ctx context.Context, token string) (*Request, error)
	// SubjectEvents and SubjectMessages return what the status page shows.
	SubjectEvents(ctx context.Context, requestID string) ([]*Event, error)
	SubjectMessages(ctx context.Context, requestID string) ([]*Message, error)
	// Reply records the subject's answer (and identity document), resumes a
	// paused clock and confirms by mail.
	Reply(ctx context.Context, token, body string, doc *Document, clientIP string) (*Request, error)
	// Withdraw withdraws the request and confirms by mail.
	Withdraw(ctx context.Context, token, clientIP string) (*Request, error)
	// AskDownloadCode mails the subject a fresh code that, with the status
	// link, opens the files of the completed case (AskDownloadCode).
	AskDownloadCode(ctx context.Context, token string) error
	// Download returns the named file the subject may download now with
	// the code, the download counted and audited (Download).
	Download(ctx context.Context, token, code, name, clientIP string) (*ResultFile, error)
}

// CaseService is what officers do to a case beyond the lifecycle basics.
type CaseService interface {
	// Ask sends the subject a question (clarification or identity proof);
	// the clock pauses where the controller allows.
	Ask(ctx context.Context, actor Actor, id string, kind MessageKind, body string) (*Request, error)
	// MarkVerified records that the officer verified the subject's identity
	// and how, deleting any identity document.
	MarkVerified(ctx context.Context, actor Actor, id, method string) (*Request, error)
	// Documents returns the identity documents awaiting a check, opened.
	Documents(ctx context.Context, actor Actor, id string) ([]*Document, error)
	// Document returns one identity document, opened, and records the view
	// in the case's audit trail.
	Document(ctx context.Context, actor Actor, id, documentID string) (*Document, error)
	// Complete closes the request as carried out.
	Complete(ctx context.Context, actor Actor, id string, d Decision) (*Request, error)
	// Refuse closes the request as refused, wholly or in part.
	Refuse(ctx context.Context, actor Actor, id string, d Decision) (*Request, error)
	// Messages returns the messages of a case.
	Messages(ctx context.Context, actor Actor, id string) ([]*Message, error)
	// Assign gives the case to a user (who must see its controller), or to
	// nobody with "".
	Assign(ctx context.Context, actor Actor, id, userID string) (*Request, error)
	// Note adds an internal note, never shown to the subject.
	Note(ctx context.Context, actor Actor, id, body string) (*Request, error)
	// Reopen takes a completed or refused case back into work; it needs a
	// new approval.
	Reopen(ctx context.Context, actor Actor, id, reason string) (*Request, error)
	// Approve approves a case in progress (identity settled, not waiting for
	// the subject) for execution in the connected systems, once, and sends
	// its plan's tasks; the note says why or what was checked and may be
	// empty; leaveOut maps the Target of each task left out to the reason.
	Approve(ctx context.Context, actor Actor, id, note string, leaveOut map[string]string) (*Request, error)
	// Plan returns what approving the case would do in the systems.
	Plan(ctx context.Context, actor Actor, id string) (*Plan, error)
	// Tasks returns the case's tasks, oldest first.
	Tasks(ctx context.Context, actor Actor, id string) ([]*Task, error)
	// CompleteTask records that an officer did a person's task, with
	// evidence; RetryTasks starts the failed tasks (one, or all when
	// taskID is empty) again; SkipTask leaves a task out with a reason.
	CompleteTask(ctx context.Context, actor Actor, id, taskID, evidence string, count int, noData bool) (*Request, error)
	// CompleteExport records that an officer did an export task, with the
	// data they handed in: when CompleteExport allows it, put stores the
	// task's data (under ExportBlobKey) and returns the records stored, and
	// only then is the task done; an error of put changes nothing.
	CompleteExport(ctx context.Context, actor Actor, id, taskID, evidence string, put func(context.Context, *Task) (int, error)) (*Request, error)
	RetryTasks(ctx context.Context, actor Actor, id, taskID string) (*Request, error)
	SkipTask(ctx context.Context, actor Actor, id, taskID, reason string) (*Request, error)
	// AnnounceFee tells the subject of an access request, before charging,
	// the fee for a further copy (Art 15(3)) or for a manifestly unfounded
	// or excessive request (Art 12(5)); the text says how much and why.
	AnnounceFee(ctx context.Context, actor Actor, id string, basis FeeBasis, text string) (*Request, error)
	// ClassifyObjection says which objection of Art 21 an objection makes.
	ClassifyObjection(ctx context.Context, actor Actor, id string, kind ObjectionKind) (*Request, error)
	// Actions returns what the actor may do to the case now.
	Actions(ctx context.Context, actor Actor, id string) ([]Action, error)
	// Forward closes a case the organisation handles only as a processor:
	// to names the controller responsible; the subject is told.
	Forward(ctx context.Context, actor Actor, id, to string) (*Request, error)
	// Redact leaves one record of a done export out of the subject's files
	// (Art 15(4)), with the reason; Redactions lists those left out.
	Redact(ctx context.Context, actor Actor, id, taskID string, line int, reason string) (*Request, error)
	Redactions(ctx context.Context, actor Actor, id string) ([]*Redaction, error)
	// ViewResult returns one of the subject's files for the officer to
	// read, the reading recorded in the case's audit trail (ViewResult).
	ViewResult(ctx context.Context, actor Actor, id, name string) (*ResultFile, error)
}

// VerificationJobs are the background steps of verification.
type VerificationJobs interface {
	// RenewVerification supersedes the request's active verification with
	// a new one of the given ID and queues its mail (a reminder); it does
	// nothing when the request is no longer waiting or the ID exists.
	RenewVerification(ctx context.Context, requestID, verificationID, reminder string) error
	// ExpireUnverified closes a request still waiting for verification.
	ExpireUnverified(ctx context.Context, requestID string) error
	// VerificationActive reports whether the verification can still be used.
	VerificationActive(ctx context.Context, verificationID string) (bool, error)
}
