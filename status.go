package dsar

// Status is where a request stands in its lifecycle. docs/lifecycle.md draws
// the allowed transitions as a state diagram; Transitions below is the truth.
type Status string

// The statuses of a request.
const (
	// StatusReceived: the request has reached the controller; the clock runs.
	StatusReceived Status = "received"
	// StatusAwaitingVerification: the subject has been asked to prove who they
	// are through the e-mailed link or code.
	StatusAwaitingVerification Status = "awaiting_verification"
	// StatusInProgress: identity is settled and the controller works on it.
	StatusInProgress Status = "in_progress"
	// StatusAwaitingSubject: the controller waits for the subject to clarify
	// the request or to give more proof of identity; the clock may be paused.
	StatusAwaitingSubject Status = "awaiting_subject"
	// StatusCompleted: the request was carried out and the subject answered.
	StatusCompleted Status = "completed"
	// StatusRefused: the request was refused wholly or in part, with reasons.
	StatusRefused Status = "refused"
	// StatusWithdrawn: the subject withdrew the request.
	StatusWithdrawn Status = "withdrawn"
	// StatusForwarded: the organisation is only a processor; the request went
	// to the controller responsible, and the subject was told so.
	StatusForwarded Status = "forwarded"
	// StatusExpiredUnverified: the subject never proved their identity in time.
	StatusExpiredUnverified Status = "expired_unverified"
)

// Statuses lists every status in lifecycle order.
var Statuses = []Status{
	StatusReceived, StatusAwaitingVerification, StatusInProgress, StatusAwaitingSubject,
	StatusCompleted, StatusRefused, StatusWithdrawn, StatusForwarded, StatusExpiredUnverified,
}

// Transitions maps each status to the statuses it may move to. A closed
// request may be reopened (back to in progress) by an officer.
var Transitions = map[Status][]Status{
	StatusReceived:             {StatusAwaitingVerification, StatusInProgress, StatusAwaitingSubject, StatusRefused, StatusWithdrawn, StatusForwarded},
	StatusAwaitingVerification: {StatusInProgress, StatusAwaitingSubject, StatusRefused, StatusWithdrawn, StatusExpiredUnverified, StatusForwarded},
	StatusInProgress:           {StatusAwaitingSubject, StatusCompleted, StatusRefused, StatusWithdrawn, StatusForwarded},
	StatusAwaitingSubject:      {StatusInProgress, StatusAwaitingVerification, StatusRefused, StatusWithdrawn, StatusExpiredUnverified},
	StatusCompleted:            {StatusInProgress},
	StatusRefused:              {StatusInProgress},
	StatusWithdrawn:            {},
	StatusForwarded:            {},
	StatusExpiredUnverified:    {},
}

// Valid reports whether s is a known status.
func (s Status) Valid() bool {
	_, ok := Transitions[s]
	return ok
}

// Open reports whether a request in this status still needs work, so that its
// deadline and reminders matter.
func (s Status) Open() bool {
	switch s {
	case StatusReceived, StatusAwaitingVerification, StatusInProgress, StatusAwaitingSubject:
		return true
	}
	return false
}

// OpenStatuses lists the statuses in which a request still needs work.
var OpenStatuses = func() []Status {
	var out []Status
	for _, s := range Statuses {
		if s.Open() {
			out = append(out, s)
		}
	}
	return out
}()

// CanTransition reports whether a request may move from one status to another.
func CanTransition(from, to Status) bool {
	for _, s := range Transitions[from] {
		if s == to {
			return true
		}
	}
	return false
}
