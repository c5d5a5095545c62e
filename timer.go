package dsar

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"strings"
	"time"
)

// The service acts on a case by itself at moments that follow from the case:
// the subject's reminders to confirm and the expiry of an unconfirmed
// request (from its creation), and the officers' deadline reminders (from
// its deadline). They are not written at intake: a case records from when
// its timers count (TimersFrom, the last change that moved them) and the
// next moment one is due (WakeAt), and a planner turns the due timers into
// outbox items as their time comes.

// Timer is one moment at which the service acts on a case: an outbox item
// of the kind due at At.
type Timer struct {
	Kind OutboxKind
	Name string // the reminder ("7d", "2d", "overdue", "24h", "72h"); "" for the expiry
	At   time.Time
}

// payload returns the payload of the timer's outbox item on the case.
func (t Timer) payload(r *Request) []byte {
	var b []byte
	switch t.Kind {
	case OutboxVerifyReminder:
		b, _ = json.Marshal(VerifyPayload{Reminder: t.Name})
	case OutboxReminder:
		b, _ = json.Marshal(ReminderPayload{Reminder: t.Name, Deadline: r.Deadline.UTC()})
	}
	return b
}

// Timers returns every timer of the case counted from r.TimersFrom: those
// still to come at that moment, and an overdue reminder at once for a case
// already past its deadline then.
func Timers(r *Request, p Policy) []Timer {
	var out []Timer
	if r.Status == StatusAwaitingVerification {
		for _, d := range p.VerifyReminders {
			if at := r.CreatedAt.Add(d); at.After(r.TimersFrom) {
				out = append(out, Timer{Kind: OutboxVerifyReminder, Name: strings.TrimSuffix(d.String(), "0m0s"), At: at})
			}
		}
		if at := r.CreatedAt.Add(p.UnverifiedExpiry); at.After(r.TimersFrom) {
			out = append(out, Timer{Kind: OutboxVerifyExpiry, At: at})
		}
	}
	for _, pr := range PlanReminders(r, r.Deadline.Location(), r.TimersFrom) {
		out = append(out, Timer{Kind: OutboxReminder, Name: pr.Name, At: pr.At})
	}
	return out
}

// ID returns the timer's outbox item ID: the same for the same case, timer
// and moment, so that planning a timer twice writes it once.
func (t Timer) ID(requestID string) string {
	sum := sha256.Sum256([]byte(requestID + "|" + string(t.Kind) + "|" + t.Name + "|" + t.At.UTC().Format(time.RFC3339Nano)))
	b := sum[:16]
	b[6] = b[6]&0x0f | 0x80 // UUID version 8 (custom), RFC 9562
	b[8] = b[8]&0x3f | 0x80 // variant 10
	h := hex.EncodeToString(b)
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// planTimers counts the case's timers from now: what changed the case may
// have moved them (a new deadline, a new status).
func planTimers(r *Request, p Policy, now time.Time) {
	r.TimersFrom = now
	r.WakeAt = nextWake(Timers(r, p), now)
}

// nextWake returns the earliest timer not yet due at now (nil when none):
// a timer due exactly at now counts as still to come, so that the planner
// fires it.
func nextWake(ts []Timer, now time.Time) *time.Time {
	var next *time.Time
	for _, t := range ts {
		if t.At.Before(now) {
			continue
		}
		if next == nil || t.At.Before(*next) {
			at := t.At
			next = &at
		}
	}
	return next
}

// DueTimers returns the outbox items of the case's timers due by now and
// the next moment a timer is due (nil when none is left). The planner
// writes the items (a second write of the same timer changes nothing) and
// records the next moment on the case.
func DueTimers(r *Request, p Policy, now time.Time) ([]*OutboxItem, *time.Time) {
	var items []*OutboxItem
	var next *time.Time
	for _, t := range Timers(r, p) {
		if t.At.After(now) {
			if next == nil || t.At.Before(*next) {
				at := t.At
				next = &at
			}
			continue
		}
		items = append(items, &OutboxItem{ID: t.ID(r.ID), Kind: t.Kind, RequestID: r.ID, Payload: t.payload(r), RunAt: t.At})
	}
	return items, next
}
