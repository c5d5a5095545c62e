package dsar

import (
	"context"
	"time"
)

// RequestType is the right a data subject invokes.
type RequestType string

// The request types (GDPR Art 7(3), 15-18, 20-22).
const (
	TypeAccess            RequestType = "access"
	TypeRectification     RequestType = "rectification"
	TypeErasure           RequestType = "erasure"
	TypeRestriction       RequestType = "restriction"
	TypePortability       RequestType = "portability"
	TypeObjection         RequestType = "objection"
	TypeWithdrawConsent   RequestType = "withdraw_consent"
	TypeAutomatedDecision RequestType = "automated_decision"
)

// RequestTypes lists every request type.
var RequestTypes = []RequestType{
	TypeAccess, TypeRectification, TypeErasure, TypeRestriction,
	TypePortability, TypeObjection, TypeWithdrawConsent, TypeAutomatedDecision,
}

// Valid reports whether t is a known request type.
func (t RequestType) Valid() bool {
	for _, k := range RequestTypes {
		if k == t {
			return true
		}
	}
	return false
}

// Channel is how a request reached the controller.
type Channel string

// The channels.
const (
	ChannelWeb    Channel = "web"
	ChannelEmail  Channel = "email"
	ChannelLetter Channel = "letter"
	ChannelPhone  Channel = "phone"
	ChannelAPI    Channel = "api"
)

// Channels lists every channel.
var Channels = []Channel{ChannelWeb, ChannelEmail, ChannelLetter, ChannelPhone, ChannelAPI}

// Valid reports whether c is a known channel.
func (c Channel) Valid() bool {
	for _, k := range Channels {
		if k == c {
			return true
		}
	}
	return false
}

// Language is the language the subject is answered in.
type Language string

// The supported languages.
const (
	LanguageNB Language = "nb"
	LanguageEN Language = "en"
)

// Languages lists the supported languages.
var Languages = []Language{LanguageNB, LanguageEN}

// Valid reports whether l is a supported language.
func (l Language) Valid() bool { return l == LanguageNB || l == LanguageEN }

// Subject identifies the data subject of a request.
type Subject struct {
	Email      string
	Name       string
	Phone      string
	CustomerID string
}

// Request is one data-subject rights request: a case.
type Request struct {
	ID         string
	Reference  string
	Type       RequestType
	Status     Status
	Controller string
	Regulation Regulation
	Language   Language
	Channel    Channel
	Subject    Subject
	Details    string
	// Objection says which objection of Art 21 an objection request makes;
	// empty for other types and until someone says which.
	Objection ObjectionKind

	// ReceivedAt is when the request reached the controller: the clock start.
	ReceivedAt time.Time
	// DueDate is the controller-local date on which the period ends.
	DueDate Date
	// Deadline is the end of DueDate in the controller's zone.
	Deadline time.Time
	// ExtensionNoticeBy is the last date on which an extension may still be
	// announced: the original (unextended) due date.
	ExtensionNoticeBy Date
	// AcknowledgeBy is the date by which receipt must be confirmed (CCPA), or
	// the zero Date where the regulation sets none.
	AcknowledgeBy   Date
	Extended        bool
	ExtensionReason string
	// PausedDays is the number of whole controller-local days the clock was
	// stopped, over all ended pauses.
	PausedDays int
	// PausedAt is set while a pause is open.
	PausedAt *time.Time

	// TimersFrom is the moment from which the case's timers count (its
	// intake, or the last change that moved them); WakeAt is when the next
	// one is due, nil when none is left (see Timers).
	TimersFrom time.Time
	WakeAt     *time.Time

	// ClosedAt is when the request last reached a closed status.
	ClosedAt *time.Time
	// PersonalDataRemovedAt is when the case's personal data was removed
	// because its records retention ran out (RemovePersonalData); nil while
	// it is kept.
	PersonalDataRemovedAt *time.Time
	// VerifiedAt, VerifiedBy and VerificationMethod record that the
	// subject's identity was verified, by whom and how: never the proof.
	VerifiedAt         *time.Time
	VerifiedBy         string
	VerificationMethod string
	// Agent is the authorised agent who made the request for the subject
	// (CCPA), nil when the subject made it.
	Agent *Agent
	// Decision is how the request was closed (completed or refused).
	Decision Decision
	// Assignee is the ID of the user who works the case ("" when nobody).
	Assignee string
	// DuplicateOf is the ID of an open request of the same type from the
	// same subject to the same controller that was there when this one came
	// in: a likely duplicate, linked and flagged for an officer, not merged.
	DuplicateOf string
	// ApprovedAt and ApprovedBy record that an officer approved the case for
	// execution: the identity is settled and the request's scope is clear,
	// so the connected systems may carry it out. Reopening clears them.
	ApprovedAt *time.Time
	ApprovedBy string
	// TasksEnded records that every task of the approval has ended: the
	// systems did their part (the case completed, or its results are next).
	TasksEnded bool
	// ResultsAt is when the files for the subject of an access or
	// portability case were assembled, Results what they are (nil until
	// then, again while they are assembled anew after a redaction, and
	// after they were deleted).
	ResultsAt *time.Time
	Results   []ResultFile
	// DownloadUntil is the end of the window in which the subject can
	// download the files of the completed case; Downloads counts the
	// downloads so far.
	DownloadUntil *time.Time
	Downloads     int
	// Transmit is the subject's wish that the portable package of a
	// portability case go straight to another organisation (Art 20(2)),
	// and how that stands; zero when not asked.
	Transmit Transmission
	// SubjectRepliedAt is when the subject answered, while no officer has
	// worked the case since (assigning it is not working it): the queue
	// marks the case as having something new. Nil otherwise.
	SubjectRepliedAt *time.Time
	// Progress is how far the case's tasks have come, nil when it has none.
	// The store reads it with the case; no operation writes it.
	Progress *TaskProgress
	// CopiesGiven counts, for an access request, the earlier access
	// requests of the same subject to the controller that were answered:
	// this one asks for a further copy, which may carry a reasonable fee
	// announced before charging (Art 15(3)). Read with the case.
	CopiesGiven int

	CreatedBy string
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Overdue reports whether the request is open and its deadline has passed.
func (r *Request) Overdue(now time.Time) bool {
	return r.Status.Open() && now.After(r.Deadline)
}

// NewRequest is the input of RequestService.Create.
type NewRequest struct {
	Type       RequestType
	Controller string
	Subject    Subject
	Language   Language
	Details    string
	// Objection is optional and only for an objection: which kind it is.
	Objection ObjectionKind
	// Regulation is optional; the controller's default applies otherwise.
	Regulation Regulation
	// ReceivedAt is optional and only honoured for authenticated callers; the
	// present moment otherwise. It may not lie in the future.
	ReceivedAt *time.Time
	// Channel is optional and only honoured for authenticated callers.
	Channel Channel
	// Verified says that the calling system has already authenticated the
	// subject (a customer portal, say), with VerificationMethod saying how;
	// only for authenticated callers. Other requests wait for the subject to
	// confirm through the e-mailed link or code.
	Verified           bool
	VerificationMethod string
	// TransmitTo is optional and only for portability: the key of one of
	// the controller's portability recipients the package is to go to
	// directly, or TransmitOther with the organisation named in
	// TransmitOrganisation (one not set up for it).
	TransmitTo           string
	TransmitOrganisation string
	// Agent, when set, is the authorised agent who makes a CCPA request
	// for the subject; only for authenticated callers.
	Agent *Agent
}

// Unassigned is the RequestFilter.Assignee that selects cases nobody works.
const Unassigned = "none"

// RequestFilter selects requests for RequestService.List.
type RequestFilter struct {
	// NoticeBefore selects cases not yet extended whose extension-notice
	// date (the last day to announce an extension) comes before it.
	NoticeBefore *Date
	// Assignee selects the cases of one user ("" for any, Unassigned for
	// nobody's).
	Assignee string
	// Approved selects approved cases (true) or cases not approved (false).
	Approved *bool
	// Search finds a case by its reference or its subject's e-mail address.
	Search string
	// Tasks, when TasksFailing, selects the cases with a failed task or a
	// waiting task past its expected or due time.
	Tasks      string
	Status     []Status
	Type       []RequestType
	Controller []string
	Overdue    *bool
	DueBefore  *Date
	DueAfter   *Date
	Sort       string // "deadline" (default), "-deadline", "received_at", "-received_at"
	Cursor     string
	Limit      int
	// Count asks for the number of requests the filter selects, over all
	// pages (RequestPage.Total).
	Count bool
}

// RequestPage is one page of a listing and the cursor of the next one ("" at the end).
type RequestPage struct {
	Requests   []*Request
	NextCursor string
	// Total is how many requests the filter selects over all pages, when
	// the filter asked (Count); -1 otherwise.
	Total int
}

// PauseReason is why the controller waits for the subject.
type PauseReason string

// The pause reasons the law allows (never internal reasons).
const (
	PauseIdentity      PauseReason = "identity"
	PauseClarification PauseReason = "clarification"
)

// Valid reports whether r is an allowed pause reason.
func (r PauseReason) Valid() bool { return r == PauseIdentity || r == PauseClarification }

// RequestService is the case lifecycle. Every method that changes a request
// checks the transition and writes its audit event in the same transaction,
// together with the outbox rows for what must happen next.
type RequestService interface {
	Create(ctx context.Context, actor Actor, in NewRequest) (*Request, error)
	Get(ctx context.Context, actor Actor, id string) (*Request, error)
	// Visible returns nil when the case is there and the actor may see it,
	// ENOTFOUND otherwise: Get's check without reading the case.
	Visible(ctx context.Context, actor Actor, id string) error
	List(ctx context.Context, actor Actor, f RequestFilter) (*RequestPage, error)
	Extend(ctx context.Context, actor Actor, id, reason string) (*Request, error)
	Pause(ctx context.Context, actor Actor, id string, reason PauseReason, note string) (*Request, error)
	Resume(ctx context.Context, actor Actor, id string) (*Request, error)
	Events(ctx context.Context, actor Actor, id string) ([]*Event, error)
}
