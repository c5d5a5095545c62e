package dsar

import "time"

// EventKind says what an audit event records.
type EventKind string

// The kinds of audit event.
const (
	EventCreated        EventKind = "created"               // the request was received
	EventTransition     EventKind = "transition"            // the status changed
	EventExtended       EventKind = "extended"              // the deadline was extended, with a reason
	EventPaused         EventKind = "paused"                // the controller waits for the subject
	EventResumed        EventKind = "resumed"               // the wait ended; the deadline may have moved
	EventReminder       EventKind = "reminder"              // a deadline reminder went out
	EventMailSent       EventKind = "mail_sent"             // an e-mail to the subject or the controller was sent
	EventVerified       EventKind = "identity_verified"     // the subject's identity was verified (how, never the proof)
	EventMessage        EventKind = "message"               // the controller sent the subject a message
	EventVerifyReminder EventKind = "verification_reminder" // the subject was reminded to confirm, with a new code
)

// Event is one append-only entry of a request's audit trail. It holds no
// personal data beyond what the actor typed as a reason.
type Event struct {
	ID        int64
	RequestID string
	At        time.Time
	Actor     string
	Kind      EventKind
	From      Status
	To        Status
	Reason    string
	// Data holds kind-specific facts (the old and new due date, the reminder
	// that fired, the mail template) as string pairs.
	Data map[string]string
}
