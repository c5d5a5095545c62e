package workflows

import (
	"context"
	"encoding/json"
	"fmt"
	"net/mail"
	"time"

	"github.com/hibiken/asynq"

	"github.com/dsar-project/dsar"
	"github.com/dsar-project/dsar/templates"
	dmail "github.com/dsar-project/dsar/workflows/mail"
)

// TypeSendMail sends the e-mail of an OutboxMail row.
const TypeSendMail = "mail:send"

// sendMail renders and sends one mail. Its Message-ID is derived from
// the outbox row, so a retry after a crash sends the same message again,
// which the receiving side recognises, never a different one.
func (h *Handlers) sendMail(ctx context.Context, it *dsar.OutboxItem) (outcome, error) {
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
	if !dsar.MailStillTrue(p, req) {
		// A closing mail whose case was reopened before it went out:
		// cancelled on purpose, the reopening mail tells the subject.
		return outcome{cancel: true}, nil
	}
	now := h.Clock.Now()
	data := MailData(req, ctrl, now)
	data.Reminder, data.OriginalDueDate, data.Document = p.Reminder, p.OriginalDueDate, p.Document
	if req.VerifiedAt != nil {
		data.StatusURL = h.BaseURL + dsar.StatusPath(h.Keyring.Token(dsar.TokenStatus, req.ID))
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
		data.VerifyURL = h.BaseURL + dsar.VerifyPath(h.Keyring.Token(dsar.TokenVerify, p.VerificationID))
		data.Code = h.Keyring.Code(dsar.TokenVerify, p.VerificationID)
		data.ExpiresHours = int(h.policy().VerifyTTL.Hours())
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
	case dsar.MailRefusal, dsar.MailForwarded:
		data.Message = req.Decision.Text
	case dsar.MailDownloadCode:
		data.Code = h.Keyring.Code(dsar.TokenDownload, p.VerificationID)
		data.ExpiresMinutes = int(h.policy().DownloadCodeTTL.Minutes())
		data.MaxDownloads = h.policy().MaxDownloads
	case dsar.MailCompletion:
		data.MaxDownloads = h.policy().MaxDownloads
		data.Message = req.Decision.Text
		tasks, err := h.Cases.Tasks(ctx, dsar.ActorService, req.ID)
		if err != nil {
			return outcome{}, err
		}
		addTaskResults(&data, ctrl, tasks)
	case dsar.MailTaskFailed, dsar.MailTaskReminder:
		task, err := h.mailTask(ctx, req.ID, p)
		if err != nil {
			return outcome{}, err
		}
		if task == nil {
			// The officers acted before the mail went out: the task was
			// retried, done or skipped. The case page says the rest.
			return outcome{cancel: true}, nil
		}
		data.Task = taskData(ctrl, task)
	}
	var (
		to      string
		extra   []string // further recipients of a reminder
		replyTo string
	)
	switch p.To {
	case dsar.RecipientSubject:
		// The subject's reply goes to the people who can act on it, not
		// to the service's sending address.
		to = req.Subject.Email
		replyTo = (&mail.Address{Name: ctrl.PrivacyContact.Name, Address: ctrl.PrivacyContact.Email}).String()
	case dsar.RecipientController:
		// Officers follow the link to the case page, never to the
		// subject's status page.
		to, data.Language, data.StatusURL = ctrl.PrivacyContact.Email, ctrl.Languages[0], h.BaseURL+dsar.CasePath(req.ID)
		if h.Officers != nil {
			officers, err := h.Officers.ReminderRecipients(ctx, req.Controller, req.Assignee, p.Reminder == dsar.ReminderOverdue)
			if err != nil {
				return outcome{}, err
			}
			if len(officers) > 0 {
				to, extra = officers[0], officers[1:]
			}
		}
	case dsar.RecipientAssignee:
		if h.Officers == nil {
			return outcome{}, fmt.Errorf("no officer directory to find the assignee: %w", asynq.SkipRetry)
		}
		u, err := h.Officers.User(ctx, p.UserID)
		if err != nil {
			return outcome{}, err
		}
		if u.DisabledAt != nil {
			return outcome{cancel: true}, nil // the officer has left
		}
		to, data.Language, data.StatusURL = u.Email, ctrl.Languages[0], h.BaseURL+dsar.CasePath(req.ID)
	default:
		return outcome{}, fmt.Errorf("unknown mail recipient %q: %w", p.To, asynq.SkipRetry)
	}
	m, err := templates.RenderMail(string(p.Template), data)
	if err != nil {
		return outcome{}, fmt.Errorf("render %s: %v: %w", p.Template, err, asynq.SkipRetry)
	}
	from := (&mail.Address{Name: ctrl.LegalName, Address: h.From}).String()
	msg := &dmail.Message{ID: mailMessageIDPrefix(it.ID) + h.MessageIDDomain, From: from, To: append([]string{to}, extra...),
		ReplyTo: replyTo, Subject: m.Subject, Text: m.Text, HTML: m.HTML, Date: it.CreatedAt}
	if err := h.Sender.Send(ctx, msg); err != nil {
		return outcome{}, err
	}
	ev := &dsar.Event{RequestID: req.ID, At: now, Actor: dsar.ActorService.ID, Kind: dsar.EventMailSent,
		From: req.Status, To: req.Status, Data: map[string]string{"template": string(p.Template), "to": string(p.To)}}
	return outcome{event: ev}, nil
}

// MailData returns the template data of a mail about the request.
func MailData(req *dsar.Request, ctrl *dsar.Controller, now time.Time) templates.MailData {
	today := dsar.DateOf(now.In(ctrl.Location))
	var kept []templates.KeptData
	for _, k := range req.Decision.Kept {
		kept = append(kept, templates.KeptData{What: k.What, Why: k.Why, Until: k.Until})
	}
	data := templates.MailData{
		Language: req.Language, ControllerName: ctrl.LegalName, ContactEmail: ctrl.PrivacyContact.Email,
		Reference: req.Reference, Type: req.Type, Regulation: req.Regulation,
		ReceivedDate: dsar.DateOf(req.ReceivedAt.In(ctrl.Location)).String(), DueDate: req.DueDate.String(),
		AcknowledgeBy: req.AcknowledgeBy.String(), SubjectName: req.Subject.Name,
		DaysLeft: req.DueDate.Sub(today), Ground: req.Decision.Ground, Partial: req.Decision.Partial,
		Summary: req.Decision.Summary, Kept: kept, RefusedPart: req.Decision.Part, Granted: req.Decision.Granted,
		AuthorityName: ctrl.SupervisoryAuthority.Name, AuthorityAddress: ctrl.SupervisoryAuthority.Address,
		AuthorityWebsite: ctrl.SupervisoryAuthority.Website, DownloadUntil: downloadUntil(req, ctrl),
	}
	if t := req.Transmit; t.State != "" {
		data.Transmission = &templates.TransmissionData{Organisation: req.TransmitName(ctrl), State: t.State, Attempts: t.Attempts,
			Receipt: t.Receipt, SHA256: t.SHA256, Bytes: t.Bytes, Reason: t.Reason}
		if t.At != nil {
			at := t.At.In(ctrl.Location)
			data.Transmission.Date, data.Transmission.Time = dsar.DateOf(at).String(), at.Format("15:04")
		}
	}
	return data
}

// downloadUntil is the last day (in the controller's zone) the subject can
// download the files of the case, "" when it gives none.
func downloadUntil(req *dsar.Request, ctrl *dsar.Controller) string {
	if req.DownloadUntil == nil {
		return ""
	}
	return dsar.DateOf(req.DownloadUntil.In(ctrl.Location)).String()
}

// addTaskResults adds to a completion mail what each system's task did and
// which recipients were told of the change (Art 19), or why not. A reason
// the service gave is a message key, in the subject's language; an
// officer's is their own words.
func addTaskResults(data *templates.MailData, ctrl *dsar.Controller, tasks []*dsar.Task) {
	for _, t := range tasks {
		name := ctrl.TargetName(t)
		if t.Recipient != "" {
			switch t.Status {
			case dsar.TaskDone, dsar.TaskNoData:
				data.Told = append(data.Told, name)
			case dsar.TaskSkipped:
				data.Untold = append(data.Untold, templates.UntoldData{Name: name, Why: templates.T(data.Language, t.Reason, nil)})
			}
			continue
		}
		switch t.Status {
		case dsar.TaskDone, dsar.TaskNoData, dsar.TaskSkipped:
			data.Systems = append(data.Systems, templates.SystemData{Name: name, Status: t.Status, Count: t.Count, Reason: templates.T(data.Language, t.Reason, nil)})
		}
	}
}

// mailTask returns the task an officers' task mail is about, or nil when
// the mail is no longer true: the task no longer failed (task_failed), or
// no longer waits for a person (task_reminder).
func (h *Handlers) mailTask(ctx context.Context, requestID string, p dsar.MailPayload) (*dsar.Task, error) {
	tasks, err := h.Cases.Tasks(ctx, dsar.ActorService, requestID)
	if err != nil {
		return nil, err
	}
	want := dsar.TaskFailed
	if p.Template == dsar.MailTaskReminder {
		want = dsar.TaskWaitingPerson
	}
	for _, t := range tasks {
		if t.ID != p.TaskID {
			continue
		}
		if t.Status != want {
			return nil, nil
		}
		return t, nil
	}
	return nil, fmt.Errorf("task %q of the mail is not the case's: %w", p.TaskID, asynq.SkipRetry)
}

// taskData is a task as the officers' task mails show it, in the
// controller's first language (the officers' mail): the system's name, what
// it asks, the last answer and why it failed; never the subject's data.
func taskData(ctrl *dsar.Controller, t *dsar.Task) *templates.TaskData {
	d := &templates.TaskData{Name: ctrl.TargetName(t), Action: t.Action, Answer: t.Answer}
	if t.Reason != "" {
		d.Reason = templates.T(ctrl.Languages[0], t.Reason, nil)
	}
	if t.DueAt != nil {
		d.DueDate = dsar.DateOf(t.DueAt.In(ctrl.Location)).String()
	}
	return d
}
