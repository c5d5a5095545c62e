package api

import (
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/dsar-project/dsar"
)

// webhookCreateJSON is the body of POST /api/v1/webhooks.
type webhookCreateJSON struct {
	URL          string                  `json:"url"`
	Description  string                  `json:"description"`
	Events       []dsar.WebhookEventType `json:"events"`
	Controllers  []string                `json:"controllers"`
	IncludeEmail bool                    `json:"include_email"`
}

// webhookInputJSON is the body of PUT /api/v1/webhooks/{id}: the
// subscription as a whole, and whether it is enabled.
type webhookInputJSON struct {
	webhookCreateJSON
	Enabled *bool `json:"enabled"`
}

// webhookJSON is a subscription in the API's answers. Its secrets show
// only in the answers of its creation and of a rotation.
type webhookJSON struct {
	ID                  string                  `json:"id"`
	URL                 string                  `json:"url"`
	Description         string                  `json:"description"`
	Secret              string                  `json:"secret,omitempty"`
	PreviousSecretUntil *time.Time              `json:"previous_secret_until,omitempty"`
	Events              []dsar.WebhookEventType `json:"events"`
	Controllers         []string                `json:"controllers"`
	IncludeEmail        bool                    `json:"include_email"`
	Enabled             bool                    `json:"enabled"`
	DisabledReason      string                  `json:"disabled_reason,omitempty"`
	DisabledAt          *time.Time              `json:"disabled_at,omitempty"`
	FailingSince        *time.Time              `json:"failing_since,omitempty"`
	CreatedAt           time.Time               `json:"created_at"`
	UpdatedAt           time.Time               `json:"updated_at"`
}

func toWebhookJSON(s *dsar.WebhookSubscription, withSecret bool) webhookJSON {
	out := webhookJSON{ID: s.ID, URL: s.URL, Description: s.Description, Events: s.Events, Controllers: s.Controllers,
		IncludeEmail: s.IncludeEmail, Enabled: s.Enabled, DisabledReason: s.DisabledReason, DisabledAt: utc(s.DisabledAt),
		FailingSince: utc(s.FailingSince), CreatedAt: s.CreatedAt.UTC(), UpdatedAt: s.UpdatedAt.UTC()}
	if out.Controllers == nil {
		out.Controllers = []string{}
	}
	if withSecret {
		out.Secret = s.Secret
		if s.PreviousSecret != "" {
			out.PreviousSecretUntil = utc(s.PreviousUntil)
		}
	}
	return out
}

func utc(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

func (in webhookInputJSON) domain() dsar.WebhookSubscriptionInput {
	return dsar.WebhookSubscriptionInput{URL: in.URL, Description: in.Description, Events: in.Events, Controllers: in.Controllers,
		IncludeEmail: in.IncludeEmail, Enabled: in.Enabled}
}

// mayManageWebhooks refuses every caller but an admin before the body is
// read (the store refuses them too).
func (s *Server) mayManageWebhooks(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if actorOf(c).Role != dsar.RoleAdmin {
			return &dsar.Error{Code: dsar.EFORBIDDEN, Message: "error.forbidden"}
		}
		return next(c)
	}
}

func (s *Server) createWebhook(c echo.Context) error {
	var in webhookCreateJSON
	if err := decodeJSON(c, s.cfg.BodyLimit, &in); err != nil {
		return err
	}
	sub, err := s.cfg.Webhooks.CreateSubscription(c.Request().Context(), actorOf(c), webhookInputJSON{webhookCreateJSON: in}.domain())
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, toWebhookJSON(sub, true))
}

func (s *Server) listWebhooks(c echo.Context) error {
	subs, err := s.cfg.Webhooks.Subscriptions(c.Request().Context(), actorOf(c))
	if err != nil {
		return err
	}
	out := struct {
		Webhooks []webhookJSON `json:"webhooks"`
	}{Webhooks: make([]webhookJSON, len(subs))}
	for i, sub := range subs {
		out.Webhooks[i] = toWebhookJSON(sub, false)
	}
	return c.JSON(http.StatusOK, out)
}

func (s *Server) getWebhook(c echo.Context) error {
	sub, err := s.cfg.Webhooks.Subscription(c.Request().Context(), actorOf(c), c.Param("id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toWebhookJSON(sub, false))
}

func (s *Server) updateWebhook(c echo.Context) error {
	var in webhookInputJSON
	if err := decodeJSON(c, s.cfg.BodyLimit, &in); err != nil {
		return err
	}
	sub, err := s.cfg.Webhooks.UpdateSubscription(c.Request().Context(), actorOf(c), c.Param("id"), in.domain())
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toWebhookJSON(sub, false))
}

func (s *Server) deleteWebhook(c echo.Context) error {
	if err := s.cfg.Webhooks.DeleteSubscription(c.Request().Context(), actorOf(c), c.Param("id")); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

func (s *Server) rotateWebhook(c echo.Context) error {
	sub, err := s.cfg.Webhooks.RotateSecret(c.Request().Context(), actorOf(c), c.Param("id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toWebhookJSON(sub, true))
}

// webhookAttemptJSON is one entry of a subscription's delivery log.
type webhookAttemptJSON struct {
	ID         string                `json:"id"`
	EventID    string                `json:"event_id"`
	EventType  dsar.WebhookEventType `json:"event_type"`
	Attempt    int                   `json:"attempt"`
	Manual     bool                  `json:"manual"`
	Outcome    string                `json:"outcome"`
	StatusCode int                   `json:"status_code,omitempty"`
	Error      string                `json:"error,omitempty"`
	At         time.Time             `json:"at"`
	DurationMs int64                 `json:"duration_ms"`
	NextAt     *time.Time            `json:"next_at,omitempty"`
}

func (s *Server) listWebhookDeliveries(c echo.Context) error {
	limit := 100
	if v := c.QueryParam("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 500 {
			return &dsar.Error{Code: dsar.EINVALID, Message: "error.invalid", Fields: []dsar.FieldError{{Field: "limit", Message: "field.integer"}}}
		}
		limit = n
	}
	log, err := s.cfg.Webhooks.Attempts(c.Request().Context(), actorOf(c), c.Param("id"), limit)
	if err != nil {
		return err
	}
	out := struct {
		Deliveries []webhookAttemptJSON `json:"deliveries"`
	}{Deliveries: make([]webhookAttemptJSON, len(log))}
	for i, a := range log {
		out.Deliveries[i] = webhookAttemptJSON{ID: a.ID, EventID: a.EventID, EventType: a.EventType, Attempt: a.Attempt, Manual: a.Manual,
			Outcome: a.Outcome, StatusCode: a.StatusCode, Error: a.Error, At: a.At.UTC(), DurationMs: a.Duration.Milliseconds(), NextAt: utc(a.NextAt)}
	}
	return c.JSON(http.StatusOK, out)
}

// redeliverJSON is the body of POST /api/v1/webhooks/{id}/redeliver: one
// event, or a time range.
type redeliverJSON struct {
	EventID string     `json:"event_id"`
	From    *time.Time `json:"from"`
	To      *time.Time `json:"to"`
}

func (s *Server) redeliverWebhook(c echo.Context) error {
	var in redeliverJSON
	if err := decodeJSON(c, s.cfg.BodyLimit, &in); err != nil {
		return err
	}
	if err := dsar.CheckRedelivery(in.EventID, in.From, in.To); err != nil {
		return err
	}
	var from, to time.Time
	if in.EventID == "" {
		from, to = *in.From, *in.To
	}
	n, err := s.cfg.Webhooks.Redeliver(c.Request().Context(), actorOf(c), c.Param("id"), in.EventID, from, to)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusAccepted, map[string]int{"queued": n})
}

func (s *Server) testWebhook(c echo.Context) error {
	ev, err := s.cfg.Webhooks.SendTest(c.Request().Context(), actorOf(c), c.Param("id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusAccepted, map[string]string{"event_id": ev.ID})
}
