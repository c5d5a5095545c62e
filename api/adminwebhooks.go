package api

import (
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/dsar-project/dsar"
	"github.com/dsar-project/dsar/templates"
)

// The administration pages of the webhook subscriptions: they change them
// through Config.Webhooks, as the API does, so that every change is
// checked and audited the same way. Times are shown and typed in UTC.

func (s *Server) registerAdminWebhooks(g routes) {
	g.GET("/admin/webhooks", s.adminWebhooksPage, signedIn, adminOnly)
	g.POST("/admin/webhooks", s.adminCreateWebhook, signedIn, adminOnly)
	g.GET("/admin/webhooks/:id", s.adminWebhookPage, signedIn, adminOnly)
	g.POST("/admin/webhooks/:id/:action", s.adminWebhookAction, signedIn, adminOnly)
}

// webhookLogLength is how many attempts of the delivery log the page shows.
const webhookLogLength = 100

// redeliverTimeLayouts are the forms of a datetime-local field's value.
var redeliverTimeLayouts = []string{"2006-01-02T15:04", "2006-01-02T15:04:05"}

// webhookEventChoices are the event types a subscription may take,
// described in lang.
func webhookEventChoices(lang dsar.Language, chosen []dsar.WebhookEventType) []templates.AdminChoice {
	out := make([]templates.AdminChoice, len(dsar.WebhookEventTypes))
	for i, t := range dsar.WebhookEventTypes {
		out[i] = templates.AdminChoice{Value: string(t), Label: templates.WebhookEventDescription(lang, t), Checked: slices.Contains(chosen, t)}
	}
	return out
}

// webhookForm is the form of a subscription filled in with in.
func (s *Server) webhookForm(lang dsar.Language, in dsar.WebhookSubscriptionInput) templates.AdminWebhookForm {
	return templates.AdminWebhookForm{URL: in.URL, Description: in.Description, IncludeEmail: in.IncludeEmail,
		Events: webhookEventChoices(lang, in.Events), Controllers: s.controllerChoices(in.Controllers)}
}

// webhookInput is the subscription the form sent.
func webhookInput(c echo.Context) dsar.WebhookSubscriptionInput {
	in := dsar.WebhookSubscriptionInput{URL: c.FormValue("url"), Description: c.FormValue("description"),
		Controllers: formList(c, "controller"), IncludeEmail: c.FormValue("include_email") == "true"}
	for _, e := range formList(c, "event") {
		in.Events = append(in.Events, dsar.WebhookEventType(e))
	}
	return in
}

// inputOf is a subscription's settings as an input, to change one of them.
func inputOf(sub *dsar.WebhookSubscription) dsar.WebhookSubscriptionInput {
	return dsar.WebhookSubscriptionInput{URL: sub.URL, Description: sub.Description, Events: sub.Events,
		Controllers: sub.Controllers, IncludeEmail: sub.IncludeEmail}
}

func adminWebhook(sub *dsar.WebhookSubscription) templates.AdminWebhook {
	w := templates.AdminWebhook{ID: sub.ID, URL: sub.URL, Description: sub.Description, Events: sub.Events, Controllers: sub.Controllers,
		IncludeEmail: sub.IncludeEmail, Enabled: sub.Enabled, DisabledReason: sub.DisabledReason, DisabledAt: utc(sub.DisabledAt),
		FailingSince: utc(sub.FailingSince), CreatedAt: sub.CreatedAt}
	if sub.PreviousSecret != "" {
		w.PreviousUntil = utc(sub.PreviousUntil)
	}
	return w
}

// utcAttempts are the attempts with their times in UTC, as the page shows
// them.
func utcAttempts(log []*dsar.WebhookAttempt) []*dsar.WebhookAttempt {
	out := make([]*dsar.WebhookAttempt, len(log))
	for i, a := range log {
		cp := *a
		cp.At, cp.NextAt = a.At.UTC(), utc(a.NextAt)
		out[i] = &cp
	}
	return out
}

// webhooksPage is the list of subscriptions, each with its last attempt,
// and the form to add one.
func (s *Server) webhooksPage(c echo.Context) (templates.AdminWebhooksPage, error) {
	p := templates.AdminWebhooksPage{Page: s.page(c, nil, "page.admin.webhooks.title")}
	ctx, a := c.Request().Context(), actorOf(c)
	subs, err := s.cfg.Webhooks.Subscriptions(ctx, a)
	if err != nil {
		return p, err
	}
	for _, sub := range subs {
		w := adminWebhook(sub)
		last, err := s.cfg.Webhooks.Attempts(ctx, a, sub.ID, 1)
		if err != nil {
			return p, err
		}
		if len(last) > 0 {
			w.Last = utcAttempts(last)[0]
		}
		p.Webhooks = append(p.Webhooks, w)
	}
	p.Form = s.webhookForm(p.Lang, dsar.WebhookSubscriptionInput{})
	return p, nil
}

func (s *Server) adminWebhooksPage(c echo.Context) error {
	p, err := s.webhooksPage(c)
	if err != nil {
		return s.pageError(c, err)
	}
	p.Notice = adminNotice(c, p.Lang)
	return s.render(c, http.StatusOK, "admin_webhooks", p)
}

// adminCreateWebhook adds a subscription and answers its page, with the
// secret shown only there and then.
func (s *Server) adminCreateWebhook(c echo.Context) error {
	in := webhookInput(c)
	sub, err := s.cfg.Webhooks.CreateSubscription(c.Request().Context(), actorOf(c), in)
	if err != nil {
		p, lerr := s.webhooksPage(c)
		if lerr != nil {
			return s.pageError(c, lerr)
		}
		status, msgs, ok := adminProblems(p.Lang, err)
		if !ok {
			return s.pageError(c, err)
		}
		p.Errors, p.Form = msgs, s.webhookForm(p.Lang, in)
		return s.render(c, status, "admin_webhooks", p)
	}
	p, _, err := s.webhookPage(c, sub.ID)
	if err != nil {
		return s.pageError(c, err)
	}
	p.Notice, p.Secret = templates.T(p.Lang, "page.admin.webhooks.created", nil), sub.Secret
	return s.render(c, http.StatusCreated, "admin_webhook", p)
}

// webhookPage is one subscription with its delivery log and its forms.
func (s *Server) webhookPage(c echo.Context, id string) (templates.AdminWebhookPage, *dsar.WebhookSubscription, error) {
	p := templates.AdminWebhookPage{Page: s.page(c, nil, "page.admin.webhooks.title")}
	ctx, a := c.Request().Context(), actorOf(c)
	sub, err := s.cfg.Webhooks.Subscription(ctx, a, id)
	if err != nil {
		return p, nil, err
	}
	log, err := s.cfg.Webhooks.Attempts(ctx, a, id, webhookLogLength)
	if err != nil {
		return p, nil, err
	}
	// The answers to the forms are this page too: its language switch
	// goes to it, not to the form's action.
	p.Path = "/admin/webhooks/" + sub.ID
	p.Title, p.Webhook, p.Attempts = sub.URL, adminWebhook(sub), utcAttempts(log)
	p.Form = s.webhookForm(p.Lang, inputOf(sub))
	return p, sub, nil
}

func (s *Server) adminWebhookPage(c echo.Context) error {
	p, _, err := s.webhookPage(c, c.Param("id"))
	if err != nil {
		return s.pageError(c, err)
	}
	if k, ok := webhookNotices[c.QueryParam("notice")]; ok {
		p.Notice = templates.T(p.Lang, k, nil)
	}
	return s.render(c, http.StatusOK, "admin_webhook", p)
}

// webhookNotices are the notices of the actions on a subscription that
// come back to its page (?notice=…).
var webhookNotices = map[string]string{
	"test": "page.admin.webhooks.test_sent", "updated": "page.admin.webhooks.updated",
	"disabled": "page.admin.webhooks.disabled_notice", "enabled": "page.admin.webhooks.enabled_notice",
}

// adminWebhookAction changes a subscription: update, test, rotate (the new
// secret shown only now), enable, disable, redeliver, delete.
func (s *Server) adminWebhookAction(c echo.Context) error {
	p, sub, err := s.webhookPage(c, c.Param("id"))
	if err != nil {
		return s.pageError(c, err)
	}
	ctx, a, hooks := c.Request().Context(), actorOf(c), s.cfg.Webhooks
	var notice string
	switch action := c.Param("action"); action {
	case "update":
		in := webhookInput(c)
		in.Enabled = &sub.Enabled
		_, err = hooks.UpdateSubscription(ctx, a, sub.ID, in)
		p.Form, notice = s.webhookForm(p.Lang, in), "updated" // as typed, should it fail
	case "enable", "disable":
		in, enabled := inputOf(sub), action == "enable"
		in.Enabled = &enabled
		_, err = hooks.UpdateSubscription(ctx, a, sub.ID, in)
		notice = action + "d"
	case "test":
		_, err = hooks.SendTest(ctx, a, sub.ID)
		notice = "test"
	case "rotate":
		rotated, err := hooks.RotateSecret(ctx, a, sub.ID)
		if err != nil {
			return s.pageError(c, err)
		}
		if p, _, err = s.webhookPage(c, sub.ID); err != nil {
			return s.pageError(c, err)
		}
		p.Notice, p.Secret = templates.T(p.Lang, "page.admin.webhooks.rotated", nil), rotated.Secret
		return s.render(c, http.StatusOK, "admin_webhook", p)
	case "redeliver":
		return s.adminRedeliver(c, p, sub)
	case "delete":
		if err := hooks.DeleteSubscription(ctx, a, sub.ID); err != nil {
			return s.pageError(c, err)
		}
		return c.Redirect(http.StatusSeeOther, "/admin/webhooks?notice=webhook_deleted")
	default:
		return s.errorPage(c, http.StatusNotFound, "error.not_found")
	}
	if err != nil {
		return s.webhookProblems(c, p, err)
	}
	return c.Redirect(http.StatusSeeOther, "/admin/webhooks/"+sub.ID+"?notice="+notice)
}

// webhookProblems answers the subscription's page with what was wrong
// with a change of it, as typed; an error that is no problem of the input
// gets the error page.
func (s *Server) webhookProblems(c echo.Context, p templates.AdminWebhookPage, err error) error {
	status, msgs, ok := adminProblems(p.Lang, err)
	if !ok {
		return s.pageError(c, err)
	}
	p.Errors = msgs
	return s.render(c, status, "admin_webhook", p)
}

// adminRedeliver delivers again one event, or the events of a time range
// typed in UTC, and says how many.
func (s *Server) adminRedeliver(c echo.Context, p templates.AdminWebhookPage, sub *dsar.WebhookSubscription) error {
	r := templates.AdminWebhookRedeliver{EventID: c.FormValue("event_id"), From: c.FormValue("from"), To: c.FormValue("to")}
	p.Redeliver = r
	from, fromOK := parseUTC(r.From)
	to, toOK := parseUTC(r.To)
	if !fromOK || !toOK || dsar.CheckRedelivery(r.EventID, from, to) != nil {
		p.Errors = []string{templates.T(p.Lang, "page.admin.webhooks.redeliver_range", nil)}
		return s.render(c, http.StatusUnprocessableEntity, "admin_webhook", p)
	}
	var start, end time.Time
	if from != nil {
		start, end = *from, *to
	}
	one := r.EventID != ""
	n, err := s.cfg.Webhooks.Redeliver(c.Request().Context(), actorOf(c), sub.ID, r.EventID, start, end)
	if one && dsar.ErrorCode(err) == dsar.ENOTFOUND {
		p.Errors = []string{templates.T(p.Lang, "page.admin.webhooks.no_event", nil)}
		return s.render(c, http.StatusNotFound, "admin_webhook", p)
	}
	if err != nil {
		return s.webhookProblems(c, p, err)
	}
	p.Redeliver = templates.AdminWebhookRedeliver{}
	key := "page.admin.webhooks.redelivered.other"
	if n == 1 {
		key = "page.admin.webhooks.redelivered.one"
	}
	p.Notice = templates.T(p.Lang, key, map[string]any{"count": strconv.Itoa(n)})
	return s.render(c, http.StatusOK, "admin_webhook", p)
}

// parseUTC reads a datetime-local value as a time in UTC: nil for an
// empty one, false for one that does not read.
func parseUTC(v string) (*time.Time, bool) {
	if v == "" {
		return nil, true
	}
	for _, layout := range redeliverTimeLayouts {
		if t, err := time.ParseInLocation(layout, v, time.UTC); err == nil {
			return &t, true
		}
	}
	return nil, false
}
