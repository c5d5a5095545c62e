package workflows

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/mail"
	"regexp"
	"time"

	"github.com/google/uuid"
	"github.com/hibiken/asynq"

	"github.com/dsar-project/dsar"
	"github.com/dsar-project/dsar/templates"
	dmail "github.com/dsar-project/dsar/workflows/mail"
)

// Handlers handle the outbox tasks.
type Handlers struct {
	Outbox   dsar.OutboxService
	Requests dsar.RequestService
	Cases    dsar.CaseService
	Jobs     dsar.VerificationJobs
	// Officers, when set, routes deadline reminders to the officers of the
	// case (the assignee, or all of the controller's) and escalates overdue
	// cases to the admins; without officers, reminders go to the
	// controller's privacy contact.
	Officers dsar.OfficerDirectory
	// Audit, when set, records the checkpoints of the cases.
	Audit interface {
		Checkpoint(ctx context.Context, before time.Time) error
	}
	Keyring     *dsar.Keyring
	Controllers *dsar.Controllers
	// BaseURL is the public URL of the service, for the links in mails;
	// VerifyTTL how long a verification link and code are valid.
	BaseURL   string
	VerifyTTL time.Duration
	Sender    dmail.Sender
	Clock     dsar.Clock
	Log       *slog.Logger
	// From is the sender address of every mail; the controller's legal name
	// is its display name.
	From string
	// MessageIDDomain is the right-hand side of the Message-IDs.
	MessageIDDomain string
	// Lease is how long a handler may hold an outbox row (default 5 minutes).
	Lease time.Duration
	// Metrics, when set, counts failed tasks and mails.
	Metrics *Metrics
}

// Register adds the handlers to mux.
func (h *Handlers) Register(mux *asynq.ServeMux) {
	mux.HandleFunc(TypeSendMail, h.HandleSendMail)
	mux.HandleFunc(TypeReminder, h.HandleReminder)
	mux.HandleFunc(TypeVerifyReminder, h.HandleVerifyReminder)
	mux.HandleFunc(TypeVerifyExpiry, h.HandleVerifyExpiry)
	mux.HandleFunc(TypeDigest, h.HandleDigest)
	mux.HandleFunc(TypeCheckpoint, h.HandleCheckpoint)
}

// HandleCheckpoint records which cases exist in the administrators' audit
// chain (store.DB.Checkpoint), for `dsar audit verify` to find a case
// deleted whole.
func (h *Handlers) HandleCheckpoint(ctx context.Context, t *asynq.Task) error {
	return h.run(ctx, t, func(ctx context.Context, it *dsar.OutboxItem) (outcome, error) {
		var p dsar.CheckpointPayload
		if err := json.Unmarshal(it.Payload, &p); err != nil || h.Audit == nil || p.Before.IsZero() {
			return outcome{}, fmt.Errorf("bad checkpoint payload: %w", asynq.SkipRetry)
		}
		return outcome{}, h.Audit.Checkpoint(ctx, p.Before)
	})
}

// HandleDigest sends an officer the day's overview of their open cases due
// within 7 days or overdue; a day with none sends nothing.
func (h *Handlers) HandleDigest(ctx context.Context, t *asynq.Task) error {
	return h.run(ctx, t, func(ctx context.Context, it *dsar.OutboxItem) (outcome, error) {
		var p dsar.DigestPayload
		if err := json.Unmarshal(it.Payload, &p); err != nil || h.Officers == nil {
			return outcome{}, fmt.Errorf("bad digest payload: %w", asynq.SkipRetry)
		}
		u, err := h.Officers.User(ctx, p.UserID)
		if dsar.ErrorCode(err) == dsar.ENOTFOUND || (err == nil && u.DisabledAt != nil) {
			return outcome{cancel: true}, nil
		}
		if err != nil {
			return outcome{}, err
		}
		before := p.Date.AddDays(8) // due on or before the 7th day from today
		page, err := h.Requests.List(ctx, u.Actor(), dsar.RequestFilter{DueBefore: &before, Limit: 200, Status: []dsar.Status{
			dsar.StatusReceived, dsar.StatusAwaitingVerification, dsar.StatusInProgress, dsar.StatusAwaitingSubject}})
		if err != nil {
			return outcome{}, err
		}
		if len(page.Requests) == 0 {
			return outcome{cancel: true}, nil
		}
		data := templates.MailData{Language: dsar.LanguageNB, ControllerName: "dsar", QueueURL: h.BaseURL + "/queue"}
		if len(u.Controllers) > 0 {
			if c, ok := h.Controllers.Get(u.Controllers[0]); ok {
				data.Language, data.ControllerName = c.Languages[0], c.LegalName
			}
		}
		for _, r := range page.Requests {
			data.Cases = append(data.Cases, templates.DigestCase{Reference: r.Reference, Controller: r.Controller, Type: r.Type,
				DueDate: r.DueDate.String(), DaysLeft: r.DueDate.Sub(p.Date), URL: h.BaseURL + "/cases/" + r.ID})
		}
		m, err := templates.RenderMail(string(dsar.MailDigest), data)
		if err != nil {
			return outcome{}, fmt.Errorf("render digest: %v: %w", err, asynq.SkipRetry)
		}
		from := (&mail.Address{Name: data.ControllerName, Address: h.From}).String()
		msg := &dmail.Message{ID: it.ID + "@" + h.MessageIDDomain, From: from, To: []string{u.Email},
			Subject: m.Subject, Text: m.Text, HTML: m.HTML, Date: it.CreatedAt}
		return outcome{}, h.Sender.Send(ctx, msg)
	})
}

// HandleVerifyReminder reminds a subject who has not confirmed the request
// yet, with a new link and code. The new verification takes the outbox row's
// ID, so a second run of the task finds it made and does nothing.
func (h *Handlers) HandleVerifyReminder(ctx context.Context, t *asynq.Task) error {
	return h.run(ctx, t, func(ctx context.Context, it *dsar.OutboxItem) (outcome, error) {
		var p dsar.VerifyPayload
		if err := json.Unmarshal(it.Payload, &p); err != nil {
			return outcome{}, fmt.Errorf("bad verification reminder payload: %w", asynq.SkipRetry)
		}
		return outcome{}, h.Jobs.RenewVerification(ctx, it.RequestID, it.ID, p.Reminder)
	})
}

// HandleVerifyExpiry closes a request whose subject never confirmed it.
func (h *Handlers) HandleVerifyExpiry(ctx context.Context, t *asynq.Task) error {
	return h.run(ctx, t, func(ctx context.Context, it *dsar.OutboxItem) (outcome, error) {
		return outcome{}, h.Jobs.ExpireUnverified(ctx, it.RequestID)
	})
}

// outcome is what a handler's work produced: the audit event and follow-up
// rows to write with the row's completion, or that the row is not needed.
type outcome struct {
	event  *dsar.Event
	next   []*dsar.OutboxItem
	cancel bool
}

// run claims the task's outbox row, does the work, and completes, cancels
// or releases the row. A row that is not pending (done, or held by another
// worker) is left alone, which makes every handler idempotent.
func (h *Handlers) run(ctx context.Context, t *asynq.Task, work func(context.Context, *dsar.OutboxItem) (outcome, error)) error {
	var p OutboxPayload
	if err := json.Unmarshal(t.Payload(), &p); err != nil || p.ID == "" {
		return fmt.Errorf("bad %s payload: %w", t.Type(), asynq.SkipRetry)
	}
	lease := h.Lease
	if lease <= 0 {
		lease = 5 * time.Minute
	}
	item, ok, err := h.Outbox.Claim(ctx, p.ID, h.Clock.Now(), lease)
	if dsar.ErrorCode(err) == dsar.ENOTFOUND {
		return fmt.Errorf("outbox item %s: %w", p.ID, asynq.SkipRetry)
	}
	if err != nil {
		return err
	}
	if !ok {
		return nil
	}
	out, err := work(ctx, item)
	if err != nil {
		h.Metrics.failed(t.Type(), err)
		final := errors.Is(err, asynq.SkipRetry) || dmail.IsPermanent(err)
		if n, ok := asynq.GetRetryCount(ctx); ok {
			if m, ok := asynq.GetMaxRetry(ctx); ok && n >= m {
				final = true
			}
		}
		msg := Redact(err.Error())
		if rerr := h.Outbox.Release(ctx, item.ID, msg, final); rerr != nil {
			h.Log.Error("release outbox item", "id", item.ID, "err", rerr)
		}
		h.Log.Warn("outbox task failed", "type", t.Type(), "id", item.ID, "attempt", item.Attempts, "final", final, "err", msg)
		if final {
			return fmt.Errorf("%s: %w", msg, asynq.SkipRetry)
		}
		return errors.New(msg)
	}
	now := h.Clock.Now()
	if out.cancel {
		return h.Outbox.Cancel(ctx, item.ID, now)
	}
	return h.Outbox.Complete(ctx, item.ID, now, out.event, out.next)
}

// HandleReminder fires a deadline reminder: it records the reminder in the
// audit trail and queues the reminder mail to the controller, in one
// transaction. A reminder planned for a deadline that has moved since, or
// for a closed case, is cancelled.
func (h *Handlers) HandleReminder(ctx context.Context, t *asynq.Task) error {
	return h.run(ctx, t, func(ctx context.Context, it *dsar.OutboxItem) (outcome, error) {
		var p dsar.ReminderPayload
		if err := json.Unmarshal(it.Payload, &p); err != nil {
			return outcome{}, fmt.Errorf("bad reminder payload: %w", asynq.SkipRetry)
		}
		req, err := h.Requests.Get(ctx, dsar.ActorService, it.RequestID)
		if err != nil {
			return outcome{}, err
		}
		if !req.Status.Open() || !req.Deadline.Equal(p.Deadline) {
			return outcome{cancel: true}, nil
		}
		now := h.Clock.Now()
		payload, _ := json.Marshal(dsar.MailPayload{Template: dsar.MailReminder, To: dsar.RecipientController, Reminder: p.Reminder})
		next := &dsar.OutboxItem{ID: uuid.Must(uuid.NewV7()).String(), Kind: dsar.OutboxMail, RequestID: req.ID, Payload: payload, RunAt: now}
		ev := &dsar.Event{RequestID: req.ID, At: now, Actor: dsar.ActorService.ID, Kind: dsar.EventReminder,
			From: req.Status, To: req.Status, Data: map[string]string{"reminder": p.Reminder, "due_date": req.DueDate.String()}}
		return outcome{event: ev, next: []*dsar.OutboxItem{next}}, nil
	})
}

// HandleSendMail renders and sends one mail. Its Message-ID is derived from
// the outbox row, so a retry after a crash sends the same message again,
// which the receiving side recognises, never a different one.
func (h *Handlers) HandleSendMail(ctx context.Context, t *asynq.Task) error {
	return h.run(ctx, t, func(ctx context.Context, it *dsar.OutboxItem) (outcome, error) {
		var p dsar.MailPayload
		if err := json.Unmarshal(it.Payload, &p); err != nil {
			return outcome{}, fmt.Errorf("bad mail payload: %w", asynq.SkipRetry)
		}
		req, err := h.Requests.Get(ctx, dsar.ActorService, it.RequestID)
		if err != nil {
			return outcome{}, err
		}
		ctrl, ok := h.Controllers.Get(req.Controller)
		if !ok {
			return outcome{}, fmt.Errorf("controller %q is not configured: %w", req.Controller, asynq.SkipRetry)
		}
		if !dsar.MailStillTrue(p.Template, req) {
			// A closing mail whose case was reopened before it went out:
			// cancelled on purpose, the reopening mail tells the subject.
			return outcome{cancel: true}, nil
		}
		now := h.Clock.Now()
		data := MailData(req, ctrl, now)
		data.Reminder, data.OriginalDueDate = p.Reminder, p.OriginalDueDate
		if req.VerifiedAt != nil {
			data.StatusURL = h.BaseURL + "/s/" + h.Keyring.Token("status", req.ID)
		}
		switch p.Template {
		case dsar.MailVerification:
			active, err := h.Jobs.VerificationActive(ctx, p.VerificationID)
			if err != nil {
				return outcome{}, err
			}
			if !active {
				return outcome{cancel: true}, nil // superseded by a newer code, or used
			}
			data.VerifyURL = h.BaseURL + "/v/" + h.Keyring.Token("verify", p.VerificationID)
			data.Code = h.Keyring.Code("verify", p.VerificationID)
			data.ExpiresHours = int(h.VerifyTTL.Hours())
		case dsar.MailClarification, dsar.MailIdentity, dsar.MailFeeNotice, dsar.MailReopened:
			msgs, err := h.Cases.Messages(ctx, dsar.ActorService, req.ID)
			if err != nil {
				return outcome{}, err
			}
			for _, m := range msgs {
				if m.ID == p.MessageID {
					data.Message = m.Body
				}
			}
			data.ClockPaused = ctrl.PausesClock(req.Regulation)
			data.FeeBasis = p.FeeBasis
		case dsar.MailExtension:
			data.Message = req.ExtensionReason
		case dsar.MailRefusal, dsar.MailForwarded, dsar.MailCompletion:
			data.Message = req.Decision.Text
		}
		var (
			to    string
			extra []string // further recipients of a reminder
		)
		switch p.To {
		case dsar.RecipientSubject:
			to = req.Subject.Email
		case dsar.RecipientController:
			// Officers follow the link to the case page, never to the
			// subject's status page.
			to, data.Language, data.StatusURL = ctrl.PrivacyContact.Email, ctrl.Languages[0], h.BaseURL+"/cases/"+req.ID
			if h.Officers != nil {
				officers, err := h.Officers.ReminderRecipients(ctx, req.Controller, req.Assignee, p.Reminder == dsar.ReminderOverdue)
				if err != nil {
					return outcome{}, err
				}
				if len(officers) > 0 {
					to, extra = officers[0], officers[1:]
				}
			}
		default:
			return outcome{}, fmt.Errorf("unknown mail recipient %q: %w", p.To, asynq.SkipRetry)
		}
		m, err := templates.RenderMail(string(p.Template), data)
		if err != nil {
			return outcome{}, fmt.Errorf("render %s: %v: %w", p.Template, err, asynq.SkipRetry)
		}
		from := (&mail.Address{Name: ctrl.LegalName, Address: h.From}).String()
		msg := &dmail.Message{ID: it.ID + "@" + h.MessageIDDomain, From: from, To: append([]string{to}, extra...),
			Subject: m.Subject, Text: m.Text, HTML: m.HTML, Date: it.CreatedAt}
		if err := h.Sender.Send(ctx, msg); err != nil {
			return outcome{}, err
		}
		ev := &dsar.Event{RequestID: req.ID, At: now, Actor: dsar.ActorService.ID, Kind: dsar.EventMailSent,
			From: req.Status, To: req.Status, Data: map[string]string{"template": string(p.Template), "to": string(p.To)}}
		return outcome{event: ev}, nil
	})
}

// MailData returns the template data of a mail about the request.
func MailData(req *dsar.Request, ctrl *dsar.Controller, now time.Time) templates.MailData {
	today := dsar.DateOf(now.In(ctrl.Location))
	var kept []templates.KeptData
	for _, k := range req.Decision.Kept {
		kept = append(kept, templates.KeptData{What: k.What, Why: k.Why, Until: k.Until})
	}
	return templates.MailData{
		Language: req.Language, ControllerName: ctrl.LegalName, ContactEmail: ctrl.PrivacyContact.Email,
		Reference: req.Reference, Type: req.Type, Regulation: req.Regulation,
		ReceivedDate: dsar.DateOf(req.ReceivedAt.In(ctrl.Location)).String(), DueDate: req.DueDate.String(),
		AcknowledgeBy: req.AcknowledgeBy.String(), SubjectName: req.Subject.Name,
		DaysLeft: req.DueDate.Sub(today), Ground: req.Decision.Ground, Partial: req.Decision.Partial,
		Summary: req.Decision.Summary, Kept: kept, RefusedPart: req.Decision.Part, Granted: req.Decision.Granted,
		AuthorityName: ctrl.SupervisoryAuthority.Name, AuthorityAddress: ctrl.SupervisoryAuthority.Address,
		AuthorityWebsite: ctrl.SupervisoryAuthority.Website,
	}
}

var emailLike = regexp.MustCompile(`[^\s<>"'@]+@[^\s<>"'@]+`)

// Redact removes anything that looks like an e-mail address from an error
// text, so that SMTP replies quoting a recipient never reach a log or the
// outbox's last_error column.
func Redact(s string) string { return emailLike.ReplaceAllString(s, "<redacted>") }
