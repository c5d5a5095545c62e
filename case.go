package dsar

import (
	"strconv"
	"strings"
	"time"
)

// change is one operation on a case under way: the copy of the request it
// changes and the effect it builds. done checks the transition, closes or
// reopens the case, re-plans the deadline reminders when the deadline moved
// or the case closed, and records the audit event.
type change struct {
	env      Env
	c        *Case
	actor    Actor
	r        *Request
	from     Status
	deadline time.Time
	eff      *Effect
}

// begin starts an operation on a copy of the case's request.
func begin(env Env, c *Case, a Actor) *change {
	r := *c.Request
	r.Decision.Kept = append([]Kept(nil), c.Request.Decision.Kept...)
	return &change{env: env, c: c, actor: a, r: &r, from: r.Status, deadline: r.Deadline, eff: &Effect{}}
}

// done finishes the operation with its audit event (who, when and the
// statuses before and after are filled in here).
func (ch *change) done(ev *Event) (*Effect, error) {
	r, now := ch.r, ch.env.Now
	to := r.Status
	if to != ch.from && !CanTransition(ch.from, to) {
		return nil, &Error{Code: ECONFLICT, Message: "error.transition", Params: map[string]any{"from": ch.from, "to": to}}
	}
	switch {
	case ch.from.Open() && !to.Open():
		r.ClosedAt = &now
	case !ch.from.Open() && to.Open():
		r.ClosedAt = nil
	}
	r.UpdatedAt = now
	if !r.Deadline.Equal(ch.deadline) || ch.from.Open() != to.Open() || (to == StatusAwaitingVerification && ch.from != to) {
		// The timers follow the deadline, and the verification timers the
		// wait for the subject's confirmation: count them again from now,
		// and cancel the reminders already planned for the old deadline.
		ch.eff.CancelKinds = append(ch.eff.CancelKinds, OutboxReminder)
		planTimers(r, ch.env.policy(), now)
	}
	ev.RequestID, ev.At, ev.Actor, ev.ClientIP, ev.From, ev.To = r.ID, now, ch.actor.ID, ch.actor.IP, ch.from, to
	ch.eff.Request = r
	ch.eff.Events = append(ch.eff.Events, ev)
	return ch.eff, nil
}

// mail queues a mail to the subject about the case.
func (ch *change) mail(p MailPayload) {
	if p.To == "" {
		p.To = RecipientSubject
	}
	ch.eff.mail(ch.env, ch.r.ID, p)
}

// endVerification stops the wait for the subject's confirmation: the
// active verifications are superseded and their reminders and expiry
// cancelled.
func (ch *change) endVerification() {
	ch.eff.EndVerifications = true
	ch.eff.CancelKinds = append(ch.eff.CancelKinds, OutboxVerifyReminder, OutboxVerifyExpiry)
}

// markVerified records on the request that the subject's identity is
// settled, by whom and how (never the proof).
func markVerified(r *Request, by, method string, now time.Time) {
	r.VerifiedAt, r.VerifiedBy, r.VerificationMethod = &now, by, method
}

func verifiedData(r *Request) map[string]string {
	if r.VerifiedAt == nil {
		return nil
	}
	return map[string]string{"verified_by": r.VerifiedBy, "method": r.VerificationMethod}
}

// recompute sets the request's due date, deadline and extension-notice date
// from its receipt, extension and paused days.
func recompute(r *Request, ctrl *Controller) error {
	dl, err := ComputeDeadlines(DeadlineInput{
		Regulation: r.Regulation, Jurisdiction: ctrl.Jurisdiction, Location: ctrl.Location,
		ReceivedAt: r.ReceivedAt, Extended: r.Extended, PausedDays: r.PausedDays,
	})
	if err != nil {
		return err
	}
	r.DueDate, r.Deadline, r.ExtensionNoticeBy = dl.Due, dl.At.In(ctrl.Location), dl.ExtensionNoticeBy
	return nil
}

// pause opens a pause on the request.
func (ch *change) pause(reason PauseReason, note string) (*Event, error) {
	r, now := ch.r, ch.env.Now
	if r.PausedAt != nil {
		return nil, &Error{Code: ECONFLICT, Message: "error.pause.already_paused"}
	}
	if !r.Status.Open() {
		return nil, &Error{Code: ECONFLICT, Message: "error.pause.closed"}
	}
	stopped := ch.c.Controller.PausesClock(r.Regulation)
	r.PausedAt = &now
	r.Status = StatusAwaitingSubject
	p := &PausePeriod{Reason: reason, Note: strings.TrimSpace(note), ClockStopped: stopped, StartedAt: now}
	ch.eff.OpenPause = p
	return &Event{Kind: EventPaused, Reason: p.Note,
		Data: map[string]string{"pause_reason": string(reason), "clock_stopped": strconv.FormatBool(stopped)}}, nil
}

// resume ends the open pause: the status returns to in progress (or to
// waiting for verification when the wait did not settle who the subject
// is) and, when the clock was stopped, the deadline moves by the whole
// controller-local days paused.
func (ch *change) resume() (*Event, error) {
	r, now := ch.r, ch.env.Now
	if r.PausedAt == nil || ch.c.Pause == nil {
		return nil, &Error{Code: ECONFLICT, Message: "error.pause.not_paused"}
	}
	p := *ch.c.Pause
	p.EndedAt = &now
	if p.ClockStopped {
		p.Days = PausedDays(p.StartedAt, now, ch.c.Controller.Location)
	}
	ch.eff.EndPause = &p
	old := r.DueDate
	r.PausedAt = nil
	r.PausedDays += p.Days
	r.Status = StatusInProgress
	if r.VerifiedAt == nil {
		r.Status = StatusAwaitingVerification
	}
	if err := recompute(r, ch.c.Controller); err != nil {
		return nil, err
	}
	return &Event{Kind: EventResumed, Data: map[string]string{
		"pause_reason": string(p.Reason), "paused_days": strconv.Itoa(p.Days),
		"old_due_date": old.String(), "new_due_date": r.DueDate.String()}}, nil
}

// resumeIfPaused ends an open pause before the case closes.
func (ch *change) resumeIfPaused() error {
	if ch.r.PausedAt == nil {
		return nil
	}
	_, err := ch.resume()
	return err
}

func boolString(b bool) string { return strconv.FormatBool(b) }
