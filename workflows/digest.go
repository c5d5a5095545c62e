package workflows

import (
	"context"
	"encoding/json"
	"fmt"
	"net/mail"

	"github.com/hibiken/asynq"

	"github.com/dsar-project/dsar"
	"github.com/dsar-project/dsar/templates"
	dmail "github.com/dsar-project/dsar/workflows/mail"
)

// TypeDigest sends an officer's daily digest.
const TypeDigest = "digest:send"

// sendDigest sends an officer the day's overview of their open cases due
// within 7 days or overdue; a day with none sends nothing.
func (h *Handlers) sendDigest(ctx context.Context, it *dsar.OutboxItem) (outcome, error) {
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
	page, err := h.Requests.List(ctx, u.Actor(), dsar.RequestFilter{DueBefore: &before, Limit: 200, Status: dsar.OpenStatuses})
	if err != nil {
		return outcome{}, err
	}
	if len(page.Requests) == 0 {
		return outcome{cancel: true}, nil
	}
	data := templates.MailData{Language: dsar.LanguageNB, ControllerName: "dsar", QueueURL: h.BaseURL + dsar.QueuePath}
	if len(u.Controllers) > 0 {
		if c, ok := h.Controllers.Get(u.Controllers[0]); ok {
			data.Language, data.ControllerName = c.Languages[0], c.LegalName
		}
	}
	for _, r := range page.Requests {
		data.Cases = append(data.Cases, templates.DigestCase{Reference: r.Reference, Controller: r.Controller, Type: r.Type,
			DueDate: r.DueDate.String(), DaysLeft: r.DueDate.Sub(p.Date), URL: h.BaseURL + dsar.CasePath(r.ID)})
	}
	m, err := templates.RenderMail(string(dsar.MailDigest), data)
	if err != nil {
		return outcome{}, fmt.Errorf("render digest: %v: %w", err, asynq.SkipRetry)
	}
	from := (&mail.Address{Name: data.ControllerName, Address: h.From}).String()
	msg := &dmail.Message{ID: it.ID + "@" + h.MessageIDDomain, From: from, To: []string{u.Email},
		Subject: m.Subject, Text: m.Text, HTML: m.HTML, Date: it.CreatedAt}
	return outcome{}, h.Sender.Send(ctx, msg)
}
