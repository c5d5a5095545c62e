package workflows

import (
	"context"
	"encoding/json"
	"fmt"
	"net/mail"
	"net/url"

	"github.com/hibiken/asynq"

	"github.com/dsar-project/dsar"
	"github.com/dsar-project/dsar/templates"
	dmail "github.com/dsar-project/dsar/workflows/mail"
)

// TypeWebhookDisabled tells the administrators the service disabled a
// webhook subscription.
const TypeWebhookDisabled = "webhook:disabled"

// tellWebhookDisabled mails the enabled admins that the service disabled a
// subscription, and why. A subscription deleted since, or a service
// without admins, sends nothing.
func (h *Handlers) tellWebhookDisabled(ctx context.Context, it *dsar.OutboxItem) (outcome, error) {
	var p dsar.WebhookDisabledPayload
	if err := json.Unmarshal(it.Payload, &p); err != nil || p.SubscriptionID == "" || h.Officers == nil {
		return outcome{}, fmt.Errorf("bad webhook_disabled payload: %w", asynq.SkipRetry)
	}
	sub, err := h.Webhooks.Subscription(ctx, dsar.ActorService, p.SubscriptionID)
	if dsar.ErrorCode(err) == dsar.ENOTFOUND {
		return outcome{cancel: true}, nil
	}
	if err != nil {
		return outcome{}, err
	}
	to, err := h.Officers.AdminEmails(ctx)
	if err != nil {
		return outcome{}, err
	}
	if len(to) == 0 {
		return outcome{cancel: true}, nil
	}
	endpoint := sub.URL
	if u, err := url.Parse(sub.URL); err == nil {
		u.RawQuery, u.Fragment = "", ""
		endpoint = u.String()
	}
	data := templates.MailData{Language: dsar.LanguageNB, ControllerName: "dsar",
		Webhook: &templates.WebhookData{ID: sub.ID, Endpoint: endpoint, Description: sub.Description, Reason: p.Reason}}
	if len(sub.Controllers) > 0 {
		if c, ok := h.Controllers.Get(sub.Controllers[0]); ok {
			data.Language, data.ControllerName = c.Languages[0], c.LegalName
		}
	}
	m, err := templates.RenderMail(string(dsar.MailWebhookDisabled), data)
	if err != nil {
		return outcome{}, fmt.Errorf("render webhook_disabled: %v: %w", err, asynq.SkipRetry)
	}
	from := (&mail.Address{Name: data.ControllerName, Address: h.From}).String()
	msg := &dmail.Message{ID: it.ID + "@" + h.MessageIDDomain, From: from, To: to,
		Subject: m.Subject, Text: m.Text, HTML: m.HTML, Date: it.CreatedAt}
	return outcome{}, h.Sender.Send(ctx, msg)
}
