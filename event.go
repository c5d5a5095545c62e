package dsar

import "time"

// EventKind says what an audit event records.
type EventKind string

// The kinds of audit event.
const (
	EventCreated          EventKind = "created"               // the request was received
	EventTransition       EventKind = "transition"            // the status changed
	EventExtended         EventKind = "extended"              // the deadline was extended, with a reason
	EventPaused           EventKind = "paused"                // the controller waits for the subject
	EventResumed          EventKind = "resumed"               // the wait ended; the deadline may have moved
	EventReminder         EventKind = "reminder"              // a deadline reminder went out
	EventMailSent         EventKind = "mail_sent"             // an e-mail to the subject or the controller was sent
	EventVerified         EventKind = "identity_verified"     // the subject's identity was verified (how, never the proof)
	EventMessage          EventKind = "message"               // the controller sent the subject a message
	EventVerifyReminder   EventKind = "verification_reminder" // the subject was reminded to confirm, with a new code
	EventAssigned         EventKind = "assigned"              // the case was given to an officer (or taken back)
	EventNote             EventKind = "note"                  // an officer wrote an internal note
	EventApproved         EventKind = "approved"              // an officer approved the case for execution in the connected systems
	EventPartiallyRefused EventKind = "partially_refused"     // part of the request was refused with a ground; the rest goes on
	EventObjectionKind    EventKind = "objection_kind"        // an officer said which objection of Art 21 the request makes
	EventDocumentViewed   EventKind = "document_viewed"       // an officer opened an identity document the subject sent
	EventTask             EventKind = "task"                  // a system task changed status (which, from, to, why)
	EventTasksEnded       EventKind = "tasks_ended"           // every system task of the case has ended
	// EventPersonalDataRemoved: the case's records retention ran out and its
	// personal data was removed; the figures and the trail stay.
	EventPersonalDataRemoved EventKind = "personal_data_removed"
	EventResultsAssembled    EventKind = "results_assembled"   // the files for the subject were assembled (names, sizes, SHA-256)
	EventRedacted            EventKind = "redacted"            // a record was left out of the subject's files (Art 15(4)), with the reason
	EventDownloadCode        EventKind = "download_code"       // the subject asked for a download code
	EventDownloaded          EventKind = "downloaded"          // the subject downloaded a file (which, and the how-manieth)
	EventResultsDeleted      EventKind = "results_deleted"     // the subject's files were deleted at the end of the download window
	EventResultsViewed       EventKind = "results_viewed"      // an officer read one of the subject's files
	EventTransmitted         EventKind = "transmitted"         // the portable package reached the organisation the subject named (Art 20(2))
	EventTransmissionFailed  EventKind = "transmission_failed" // the package could not be sent to it, and why
	// EventOpenDSRCallbackFailed: an OpenDSR client's status callback
	// failed at every attempt of the retry schedule (the status, the last
	// answer).
	EventOpenDSRCallbackFailed EventKind = "opendsr_callback_failed"
)

// Event is one append-only entry of a request's audit trail. It holds no
// personal data beyond what the actor typed as a reason and the client
// address the action came from.
type Event struct {
	ID        int64
	RequestID string
	At        time.Time
	Actor     string
	// ClientIP is the address the actor acted from; empty for the service.
	ClientIP string
	Kind     EventKind
	From     Status
	To       Status
	Reason   string
	// Data holds kind-specific facts (the old and new due date, the reminder
	// that fired, the mail template) as string pairs.
	Data map[string]string

	// Seq is the event's position in its case's hash chain (1, 2, 3, …
	// without gaps); PrevHash is the Hash of the case's event before it
	// (AuditGenesis for the first) and Hash is EventHash of this one. All
	// three are zero for events written before the chain began.
	Seq      int64
	PrevHash string
	Hash     string
}
