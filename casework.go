package dsar

import (
	"strconv"
	"strings"
)

// The officers' case operations. Each checks the input, the actor's right
// and the action's rule (Allowed), and returns the Effect for the store to
// write; none touches a database.

// start checks the actor and the action's rule and begins the change.
func start(env Env, c *Case, a Actor, act Action) (*change, error) {
	if err := Allowed(act, c, a, env.Now); err != nil {
		return nil, err
	}
	ch := begin(env, c, a)
	if act != ActionAssign {
		// An officer working the case has seen what the subject sent.
		ch.r.SubjectRepliedAt = nil
	}
	return ch, nil
}

// Extend extends the deadline once, before the original deadline, with a
// reason that is recorded and sent to the subject (Art 12(3)).
func Extend(env Env, c *Case, a Actor, reason string) (*Effect, error) {
	if err := ValidateReason("reason", reason); err != nil {
		return nil, err
	}
	ch, err := start(env, c, a, ActionExtend)
	if err != nil {
		return nil, err
	}
	r := ch.r
	old := r.DueDate
	r.Extended, r.ExtensionReason = true, strings.TrimSpace(reason)
	if err := recompute(r, c.Controller); err != nil {
		return nil, err
	}
	ch.mail(MailPayload{Template: MailExtension, OriginalDueDate: old.String()})
	return ch.done(&Event{Kind: EventExtended, Reason: r.ExtensionReason,
		Data: map[string]string{"old_due_date": old.String(), "new_due_date": r.DueDate.String()}})
}

// Pause records that the controller waits for the subject's identity proof
// or clarification; the clock stops only where the controller allows
// pausing under the request's regulation.
func Pause(env Env, c *Case, a Actor, reason PauseReason, note string) (*Effect, error) {
	if !reason.Valid() {
		return nil, Invalid(FieldError{Field: "reason", Message: "field.enum",
			Params: map[string]any{"allowed": []string{string(PauseIdentity), string(PauseClarification)}}})
	}
	if err := ValidateText("note", note, true, MaxReasonLength); err != nil {
		return nil, err
	}
	ch, err := start(env, c, a, ActionPause)
	if err != nil {
		return nil, err
	}
	ev, err := ch.pause(reason, note)
	if err != nil {
		return nil, err
	}
	return ch.done(ev)
}

// Resume ends the open pause.
func Resume(env Env, c *Case, a Actor) (*Effect, error) {
	ch, err := start(env, c, a, ActionResume)
	if err != nil {
		return nil, err
	}
	ev, err := ch.resume()
	if err != nil {
		return nil, err
	}
	return ch.done(ev)
}

// Ask sends the subject a question and waits for the answer: the case
// pauses (the clock stops where the controller allows) unless it already
// waits for the subject.
func Ask(env Env, c *Case, a Actor, kind MessageKind, body string) (*Effect, error) {
	if kind != MessageClarification && kind != MessageIdentity {
		return nil, Invalid(FieldError{Field: "kind", Message: "field.enum", Params: map[string]any{"allowed": []string{"clarification", "identity"}}})
	}
	if err := ValidateReason("body", body); err != nil {
		return nil, err
	}
	ch, err := start(env, c, a, ActionAsk)
	if err != nil {
		return nil, err
	}
	m := ch.eff.message(env, ch.r.ID, kind, a.ID, strings.TrimSpace(body), false)
	ev := &Event{Kind: EventMessage, Data: map[string]string{"message": m.ID, "kind": string(kind)}}
	if ch.r.PausedAt == nil {
		if ev, err = ch.pause(PauseReason(kind), m.Body); err != nil {
			return nil, err
		}
		ev.Data["message"] = m.ID
	}
	ch.mail(MailPayload{Template: askMail(kind), MessageID: m.ID})
	return ch.done(ev)
}

// MarkVerified records that the officer verified the subject's identity and
// how, and deletes the identity documents the subject sent. A case waiting
// for the confirmation moves on; a wait for identity proof ends.
func MarkVerified(env Env, c *Case, a Actor, method string) (*Effect, error) {
	method = strings.TrimSpace(method)
	if err := ValidateMethod(method); err != nil {
		return nil, err
	}
	ch, err := start(env, c, a, ActionVerify)
	if err != nil {
		return nil, err
	}
	r := ch.r
	wasVerified := r.VerifiedAt != nil
	markVerified(r, a.ID, method, env.Now)
	data := verifiedData(r)
	switch r.Status {
	case StatusAwaitingVerification:
		r.Status = StatusInProgress
	case StatusAwaitingSubject:
		if c.Pause != nil && c.Pause.Reason == PauseIdentity {
			ev, err := ch.resume()
			if err != nil {
				return nil, err
			}
			for k, v := range ev.Data {
				data[k] = v
			}
		}
	}
	if !wasVerified {
		ch.endVerification()
		ch.mail(MailPayload{Template: MailAcknowledgement})
	}
	ch.eff.DeleteDocuments = true
	return ch.done(&Event{Kind: EventVerified, Data: data})
}

// Assign gives the case to a user who may work it (an admin, or an officer
// of the case's controller), or to nobody when userID is empty. user is
// the enabled account of userID, nil when there is none. The new assignee
// is told by mail, unless they took the case themselves.
func Assign(env Env, c *Case, a Actor, userID string, user *User) (*Effect, error) {
	if userID != "" {
		if user == nil || user.DisabledAt != nil {
			return nil, Invalid(FieldError{Field: "assignee", Message: "error.not_found"})
		}
		if !user.MayWork(c.Request.Controller) {
			return nil, Invalid(FieldError{Field: "assignee", Message: "error.assignee_cannot_work"})
		}
	}
	ch, err := start(env, c, a, ActionAssign)
	if err != nil {
		return nil, err
	}
	old := ch.r.Assignee
	ch.r.Assignee = userID
	if userID != "" && userID != old && a.ID != user.Actor().ID {
		ch.mail(MailPayload{Template: MailCaseAssigned, To: RecipientAssignee, UserID: userID})
	}
	return ch.done(&Event{Kind: EventAssigned, Data: map[string]string{"from": old, "to": userID}})
}

// Note adds an officer's internal note to the case.
func Note(env Env, c *Case, a Actor, body string) (*Effect, error) {
	if err := ValidateReason("body", body); err != nil {
		return nil, err
	}
	ch, err := start(env, c, a, ActionNote)
	if err != nil {
		return nil, err
	}
	m := ch.eff.message(env, ch.r.ID, MessageNote, a.ID, strings.TrimSpace(body), false)
	return ch.done(&Event{Kind: EventNote, Data: map[string]string{"message": m.ID}})
}

// ClassifyObjection records which objection of Art 21 an objection request
// makes, when the subject or the calling system did not say.
func ClassifyObjection(env Env, c *Case, a Actor, kind ObjectionKind) (*Effect, error) {
	if !kind.Valid() {
		return nil, Invalid(FieldError{Field: "objection", Message: "field.enum", Params: map[string]any{"allowed": enumStrings(ObjectionKinds)}})
	}
	ch, err := start(env, c, a, ActionObjection)
	if err != nil {
		return nil, err
	}
	old := ch.r.Objection
	ch.r.Objection = kind
	return ch.done(&Event{Kind: EventObjectionKind, Data: map[string]string{"from": string(old), "to": string(kind)}})
}

// Complete closes the case as carried out, with a summary of what was done
// and, after an erasure, what was kept, why and until when. A partial
// refusal recorded before stays on the case and the completion mail states
// both parts.
func Complete(env Env, c *Case, a Actor, d Decision) (*Effect, error) {
	if err := ValidateCompletion(d); err != nil {
		return nil, err
	}
	ch, err := start(env, c, a, ActionComplete)
	if err != nil {
		return nil, err
	}
	r := ch.r
	r.Status = StatusCompleted
	r.Decision.Summary = strings.TrimSpace(d.Summary)
	r.Decision.Kept = append([]Kept(nil), d.Kept...)
	if !r.Decision.Partial {
		r.Decision.Ground, r.Decision.Text = "", ""
	}
	if GivesResults(r.Type) {
		ch.release()
	}
	ch.mail(MailPayload{Template: MailCompletion})
	data := map[string]string{"kept": strconv.Itoa(len(d.Kept))}
	if r.Decision.Partial {
		data["partial_refusal"] = string(r.Decision.Ground)
	}
	return ch.done(&Event{Kind: EventTransition, Reason: r.Decision.Summary, Data: data})
}

// Refuse refuses the request on a legal ground that fits its type (Art
// 12(4)). A whole refusal closes the case and tells the subject the reasons
// and the rights to complain and to a judicial remedy. A partial refusal
// records which part is refused and what is granted; the case stays in
// work for the granted part, and the completion mail states both.
func Refuse(env Env, c *Case, a Actor, d Decision) (*Effect, error) {
	var fields []FieldError
	if err := CheckGround(d.Ground, c.Request.Type, c.Request.Objection); err != nil {
		fields = append(fields, err.(*Error).Fields...)
	}
	if err := ValidateReason("text", d.Text); err != nil {
		fields = append(fields, err.(*Error).Fields...)
	}
	if d.Partial {
		for _, f := range []struct{ name, v string }{{"part", d.Part}, {"granted", d.Granted}} {
			if err := ValidateReason(f.name, f.v); err != nil {
				fields = append(fields, err.(*Error).Fields...)
			}
		}
	}
	if len(fields) > 0 {
		return nil, Invalid(fields...)
	}
	ch, err := start(env, c, a, ActionRefuse)
	if err != nil {
		return nil, err
	}
	r := ch.r
	if d.Partial {
		if err := inProgress(StatusCompleted)(c, env.Now); err != nil {
			return nil, err // the rest is carried out: the case must be in work
		}
		if r.Decision.Partial {
			return nil, &Error{Code: ECONFLICT, Message: "error.refuse.already_partial"}
		}
		r.Decision = Decision{Ground: d.Ground, Text: strings.TrimSpace(d.Text), Partial: true,
			Part: strings.TrimSpace(d.Part), Granted: strings.TrimSpace(d.Granted)}
		return ch.done(&Event{Kind: EventPartiallyRefused, Reason: r.Decision.Text,
			Data: map[string]string{"ground": string(d.Ground), "part": r.Decision.Part, "granted": r.Decision.Granted}})
	}
	if err := ch.resumeIfPaused(); err != nil {
		return nil, err
	}
	if r.Status == StatusAwaitingVerification {
		ch.endVerification()
	}
	r.Status = StatusRefused
	ch.cancelTasks()
	r.Decision = Decision{Ground: d.Ground, Text: strings.TrimSpace(d.Text)}
	ch.mail(MailPayload{Template: MailRefusal})
	return ch.done(&Event{Kind: EventTransition, Reason: r.Decision.Text,
		Data: map[string]string{"ground": string(d.Ground), "partial": "false"}})
}

// Forward closes a case the organisation handles only as a processor: it
// went to the controller responsible (to: who, and how they were reached),
// and the subject is told so. Only an organisation configured as a
// processor for others (processor_for) forwards.
func Forward(env Env, c *Case, a Actor, to string) (*Effect, error) {
	if err := ValidateReason("to", to); err != nil {
		return nil, err
	}
	ch, err := start(env, c, a, ActionForward)
	if err != nil {
		return nil, err
	}
	if err := ch.resumeIfPaused(); err != nil {
		return nil, err
	}
	r := ch.r
	if r.Status == StatusAwaitingVerification {
		// A processor forwards without verifying: the identity is for the
		// controller responsible to check.
		ch.endVerification()
	}
	r.Status = StatusForwarded
	ch.cancelTasks()
	r.Decision = Decision{Text: strings.TrimSpace(to)}
	ch.mail(MailPayload{Template: MailForwarded})
	return ch.done(&Event{Kind: EventTransition, Reason: r.Decision.Text, Data: map[string]string{"forwarded_to": r.Decision.Text}})
}

// AnnounceFee tells the subject of an open access request the fee before
// anything is charged. A fee is lawful only for a further copy after one
// already given (Art 15(3)) or for a manifestly unfounded or excessive
// request (Art 12(5)(a)); the mail says which.
func AnnounceFee(env Env, c *Case, a Actor, basis FeeBasis, text string) (*Effect, error) {
	var fields []FieldError
	if !basis.Valid() {
		fields = append(fields, FieldError{Field: "basis", Message: "field.enum", Params: map[string]any{"allowed": []string{string(FeeFurtherCopy), string(FeeExcessive)}}})
	}
	if err := ValidateReason("text", text); err != nil {
		fields = append(fields, err.(*Error).Fields...)
	}
	if len(fields) > 0 {
		return nil, Invalid(fields...)
	}
	ch, err := start(env, c, a, ActionFee)
	if err != nil {
		return nil, err
	}
	if basis == FeeFurtherCopy && c.CopiesGiven == 0 {
		return nil, &Error{Code: ECONFLICT, Message: "error.fee.first_copy"}
	}
	m := ch.eff.message(env, ch.r.ID, MessageFee, a.ID, strings.TrimSpace(text), false)
	ch.mail(MailPayload{Template: MailFeeNotice, MessageID: m.ID, FeeBasis: basis})
	return ch.done(&Event{Kind: EventMessage, Data: map[string]string{"message": m.ID, "kind": string(MessageFee), "fee_basis": string(basis)}})
}

// Reopen takes a completed or refused case back into work, with a reason
// the subject is told by mail and on the status page. A closing mail not
// yet sent is cancelled: the case it describes no longer stands.
func Reopen(env Env, c *Case, a Actor, reason string) (*Effect, error) {
	if err := ValidateReason("reason", reason); err != nil {
		return nil, err
	}
	ch, err := start(env, c, a, ActionReopen)
	if err != nil {
		return nil, err
	}
	r := ch.r
	r.Status = StatusInProgress
	r.Decision = Decision{}
	r.ApprovedAt, r.ApprovedBy = nil, "" // what is done again needs approving again
	if GivesResults(r.Type) {
		// The download closes; the files are made again after the new
		// approval, and the next completion's window deletes the old ones.
		r.ResultsAt, r.DownloadUntil, r.Downloads = nil, nil, 0
		ch.eff.CancelKinds = append(ch.eff.CancelKinds, OutboxResultsExpiry, OutboxAssemble)
		ch.stopTransmit()
	}
	ch.eff.CancelMails = append(ch.eff.CancelMails, MailCompletion, MailRefusal)
	m := ch.eff.message(env, r.ID, MessageReopened, a.ID, strings.TrimSpace(reason), false)
	ch.mail(MailPayload{Template: MailReopened, MessageID: m.ID})
	return ch.done(&Event{Kind: EventTransition, Reason: m.Body, Data: map[string]string{"message": m.ID}})
}

// ViewDocument records that the actor opened an identity document of the
// case: only officers and admins of its controller may, and every view is
// in the audit trail.
func ViewDocument(env Env, c *Case, a Actor, documentID string) (*Effect, error) {
	if !a.CanChange(c.Request.Controller) {
		return nil, &Error{Code: EFORBIDDEN, Message: "error.forbidden"}
	}
	ch := begin(env, c, a)
	eff, err := ch.done(&Event{Kind: EventDocumentViewed, Data: map[string]string{"document": documentID}})
	if err != nil {
		return nil, err
	}
	eff.Request = nil // the case itself does not change
	return eff, nil
}
