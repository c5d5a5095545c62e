package dsar

import (
	"strings"
	"time"
)

// The operations of a request's intake, of its data subject (who acts
// through the e-mailed link, code or status page token, never with an
// account) and of the service's own timers.

// NewCase validates a submission, computes its deadlines and returns the
// effect of its intake: the case (without its reference, which the store
// draws until it is unique), its first audit events, and the mails and
// timers that follow. A request the calling system has authenticated
// starts in progress; any other waits for the subject's confirmation.
func NewCase(env Env, in NewRequest, a Actor, controllers *Controllers) (*Effect, error) {
	now := env.Now
	ctrl, err := ValidateNewRequest(&in, a, controllers, now)
	if err != nil {
		return nil, err
	}
	dl, err := ComputeDeadlines(DeadlineInput{Regulation: in.Regulation, Jurisdiction: ctrl.Jurisdiction, Location: ctrl.Location, ReceivedAt: *in.ReceivedAt})
	if err != nil {
		return nil, err
	}
	r := &Request{
		ID: env.NewID(), Type: in.Type, Status: StatusReceived, Controller: ctrl.Key, Regulation: in.Regulation,
		Language: in.Language, Channel: in.Channel, Details: in.Details, Objection: in.Objection,
		Subject: Subject{Email: in.Subject.Email, Name: strings.TrimSpace(in.Subject.Name),
			Phone: strings.TrimSpace(in.Subject.Phone), CustomerID: strings.TrimSpace(in.Subject.CustomerID)},
		ReceivedAt: in.ReceivedAt.In(ctrl.Location), DueDate: dl.Due, Deadline: dl.At.In(ctrl.Location),
		ExtensionNoticeBy: dl.ExtensionNoticeBy, AcknowledgeBy: dl.AcknowledgeBy,
		CreatedBy: a.ID, CreatedAt: now, UpdatedAt: now, Agent: in.Agent,
		Transmit: Transmission{To: in.TransmitTo, Organisation: in.TransmitOrganisation},
	}
	eff := &Effect{Request: r}
	created := map[string]string{"channel": string(r.Channel), "due_date": r.DueDate.String(), "regulation": string(r.Regulation)}
	if r.Agent != nil {
		recordAgent(created, r.Agent)
	}
	eff.Events = append(eff.Events, &Event{RequestID: r.ID, At: now, Actor: a.ID, ClientIP: a.IP, Kind: EventCreated, To: StatusReceived,
		Data: created})
	if in.Verified {
		// The calling system has authenticated the subject already.
		r.Status = StatusInProgress
		markVerified(r, a.ID, strings.TrimSpace(in.VerificationMethod), now)
		eff.mail(env, r.ID, MailPayload{Template: MailAcknowledgement, To: RecipientSubject})
	} else {
		r.Status = StatusAwaitingVerification
		eff.NewVerification = env.NewID()
		eff.mail(env, r.ID, MailPayload{Template: MailVerification, To: RecipientSubject, VerificationID: eff.NewVerification})
	}
	planTimers(r, env.policy(), now)
	eff.Events = append(eff.Events, &Event{RequestID: r.ID, At: now, Actor: a.ID, ClientIP: a.IP, Kind: EventTransition,
		From: StatusReceived, To: r.Status, Data: verifiedData(r)})
	return eff, nil
}

// VerifySubject settles the subject's identity through the verification
// the subject used (the e-mailed link or code: method says which): the case
// moves on to in progress and the acknowledgement goes out.
func VerifySubject(env Env, c *Case, a Actor, verificationID, method string) (*Effect, error) {
	if c.Request.Status != StatusAwaitingVerification {
		return nil, &Error{Code: ECONFLICT, Message: "error.verify.closed"}
	}
	ch := begin(env, c, a)
	ch.r.Status = StatusInProgress
	markVerified(ch.r, SubjectActorID, method, env.Now)
	ch.endVerification()
	ch.eff.UseVerification = verificationID
	ch.mail(MailPayload{Template: MailAcknowledgement})
	return ch.done(&Event{Kind: EventTransition, Data: verifiedData(ch.r)})
}

// ResendVerification supersedes the case's verification with a new link
// and code at the subject's wish, at most once per Policy.ResendInterval.
func ResendVerification(env Env, c *Case) (*Effect, error) {
	if c.Request.Status != StatusAwaitingVerification {
		return nil, &Error{Code: ECONFLICT, Message: "error.verify.closed"}
	}
	if !c.LastVerificationAt.IsZero() {
		if wait := c.LastVerificationAt.Add(env.policy().ResendInterval).Sub(env.Now); wait > 0 {
			return nil, &Error{Code: ERATELIMIT, Message: "error.rate_limited", Params: map[string]any{"seconds": int(wait.Seconds()) + 1}}
		}
	}
	eff := &Effect{NewVerification: env.NewID()}
	eff.mail(env, c.Request.ID, MailPayload{Template: MailVerification, To: RecipientSubject, VerificationID: eff.NewVerification})
	return eff, nil
}

// RenewVerification reminds a subject who has not confirmed yet with a new
// link and code whose verification takes the given ID; a case no longer
// waiting needs nothing (an empty effect).
func RenewVerification(env Env, c *Case, verificationID, reminder string) *Effect {
	r := c.Request
	if r.Status != StatusAwaitingVerification {
		return &Effect{}
	}
	eff := &Effect{NewVerification: verificationID}
	eff.mail(env, r.ID, MailPayload{Template: MailVerification, To: RecipientSubject, VerificationID: verificationID, Reminder: reminder})
	eff.Events = []*Event{{RequestID: r.ID, At: env.Now, Actor: ActorService.ID, Kind: EventVerifyReminder,
		From: r.Status, To: r.Status, Data: map[string]string{"reminder": reminder}}}
	return eff
}

// ExpireUnverified closes a case whose subject never confirmed it; a case
// no longer waiting needs nothing (an empty effect).
func ExpireUnverified(env Env, c *Case) (*Effect, error) {
	if c.Request.Status != StatusAwaitingVerification {
		return &Effect{}, nil
	}
	ch := begin(env, c, ActorService)
	ch.endVerification()
	ch.r.Status = StatusExpiredUnverified
	ch.mail(MailPayload{Template: MailExpiredUnverified})
	return ch.done(&Event{Kind: EventTransition, Reason: "not verified in time"})
}

// Reply records the subject's answer to the controller's question, with an
// identity document when one was asked for, resumes the paused clock,
// confirms by mail, and tells the case's officers (the assignee, or every
// officer of the controller) that there is something to read.
func Reply(env Env, c *Case, a Actor, body string, doc *Document) (*Effect, error) {
	body = strings.TrimSpace(body)
	if err := ValidateReply(body, doc); err != nil {
		return nil, err
	}
	if c.Request.Status != StatusAwaitingSubject {
		return nil, &Error{Code: ECONFLICT, Message: "error.reply.not_waiting"}
	}
	ch := begin(env, c, a)
	m := ch.eff.message(env, ch.r.ID, MessageReply, SubjectActorID, body, true)
	now := env.Now
	ch.r.SubjectRepliedAt = &now
	if doc != nil {
		// Kept under the type its content shows and a name of the
		// service's making, never the name the subject's device gave it.
		ct, ext, _ := DocumentType(doc.Data)
		d := Document{ID: env.NewID(), ContentType: ct, Data: doc.Data, CreatedAt: env.Now}
		d.FileName = "identity-document-" + d.ID + ext
		ch.eff.Document = &d
	}
	ev, err := ch.resume()
	if err != nil {
		return nil, err
	}
	ev.Data["reply"] = m.ID
	ev.Data["document"] = boolString(doc != nil)
	ch.mail(MailPayload{Template: MailReplyReceived})
	ch.mail(MailPayload{Template: MailSubjectReplied, To: RecipientController, Document: doc != nil})
	return ch.done(ev)
}

// Withdraw withdraws the case at the subject's wish and confirms by mail.
func Withdraw(env Env, c *Case, a Actor) (*Effect, error) {
	return withdraw(env, c, a, "withdrawn by the subject")
}

// withdraw withdraws the open case for the reason and confirms by mail.
func withdraw(env Env, c *Case, a Actor, reason string) (*Effect, error) {
	if err := open(c, time.Time{}); err != nil {
		return nil, err
	}
	ch := begin(env, c, a)
	if err := ch.resumeIfPaused(); err != nil {
		return nil, err
	}
	if ch.r.Status == StatusAwaitingVerification {
		ch.endVerification()
	}
	ch.r.Status = StatusWithdrawn
	ch.cancelTasks()
	ch.mail(MailPayload{Template: MailWithdrawal})
	return ch.done(&Event{Kind: EventTransition, Reason: reason})
}

// MailStillTrue reports whether a queued mail about the case may still be
// sent: a closing mail (completion, refusal) is true only while the case
// is still in the status it announced, a mail about a direct transmission
// only while the transmission still stands as it says, and a mail to the
// assignee only while the case is still theirs.
func MailStillTrue(p MailPayload, r *Request) bool {
	if p.To == RecipientAssignee && r.Assignee != p.UserID {
		return false
	}
	switch p.Template {
	case MailTransmitted:
		// A transmission's mails tell how it stands, which reopening the
		// case clears.
		return r.Transmit.State == TransmitSent
	case MailTransmissionFailed, MailTransmissionAlert:
		return r.Transmit.State == TransmitFailed
	}
	st := p.Template.ClosingMail()
	return st == "" || r.Status == st
}

// StatusLinkValid reports whether a case's status page link still works:
// while the case is open, and for StatusLinkTTL after it closed.
func (p Policy) StatusLinkValid(r *Request, now time.Time) bool {
	return r.ClosedAt == nil || !now.After(r.ClosedAt.Add(p.StatusLinkTTL))
}
