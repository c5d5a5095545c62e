package dsar

import (
	"context"
	"encoding/json"
	"net/url"
	"slices"
	"strings"
	"time"
)

// WebhookEventType names what an outgoing webhook event tells an
// integrated system.
type WebhookEventType string

// The webhook event types (docs/webhooks.md describes each payload).
const (
	WebhookRequestReceived      WebhookEventType = "request.received"
	WebhookRequestVerified      WebhookEventType = "request.verified"
	WebhookRequestStatusChanged WebhookEventType = "request.status_changed"
	WebhookRequestExtended      WebhookEventType = "request.extended"
	WebhookRequestDueSoon       WebhookEventType = "request.due_soon"
	WebhookRequestOverdue       WebhookEventType = "request.overdue"
	WebhookRequestCompleted     WebhookEventType = "request.completed"
	WebhookRequestRefused       WebhookEventType = "request.refused"
	WebhookRequestWithdrawn     WebhookEventType = "request.withdrawn"
	WebhookTaskFailed           WebhookEventType = "system_task.failed"
	WebhookTaskCompleted        WebhookEventType = "system_task.completed"
	WebhookExportReady          WebhookEventType = "export.ready"
	// WebhookTest is the event an administrator sends to try a
	// subscription; every subscription gets it when asked, whatever its
	// event types.
	WebhookTest WebhookEventType = "webhook.test"
)

// WebhookEventTypes lists the event types a subscription may ask for.
var WebhookEventTypes = []WebhookEventType{
	WebhookRequestReceived, WebhookRequestVerified, WebhookRequestStatusChanged, WebhookRequestExtended,
	WebhookRequestDueSoon, WebhookRequestOverdue, WebhookRequestCompleted, WebhookRequestRefused, WebhookRequestWithdrawn,
	WebhookTaskFailed, WebhookTaskCompleted, WebhookExportReady,
}

// WebhookRetrySchedule is how long after each failed attempt of a delivery
// the next one is made (the Standard Webhooks schedule): ten attempts over
// about three and a half days, then the delivery has failed.
var WebhookRetrySchedule = []time.Duration{
	5 * time.Second, 5 * time.Minute, 30 * time.Minute, 2 * time.Hour, 5 * time.Hour,
	10 * time.Hour, 14 * time.Hour, 20 * time.Hour, 24 * time.Hour,
}

// WebhookMaxRetryAfter bounds how long a receiver's Retry-After can put off
// the next attempt.
const WebhookMaxRetryAfter = 24 * time.Hour

// WebhookDisableAfter is how long every attempt to a subscription's
// endpoint may fail, without one success, before the subscription is
// disabled and the administrators are told.
const WebhookDisableAfter = 5 * 24 * time.Hour

// WebhookRotationOverlap is how long the secret a rotation replaced still
// signs the deliveries, beside the new one, so that a receiver can switch
// without losing any.
const WebhookRotationOverlap = 24 * time.Hour

// WebhookRetention is how long the service keeps an event and its
// delivery log: the redelivery window. An event made longer ago may be
// gone, with its attempts, once no delivery of it is pending
// (WebhookPrunable); a redelivery of a time range reaches back this far.
// It is well past the retry schedule (about three and a half days) and
// WebhookDisableAfter, so that an endpoint disabled for persistent failure
// can be mended and sent every event it missed.
const WebhookRetention = 30 * 24 * time.Hour

// WebhookPruneBefore returns the instant before which events were made
// that the pruning at now may delete (with WebhookPrunable): the store
// selects the candidates with it.
func WebhookPruneBefore(now time.Time) time.Time {
	return now.Add(-WebhookRetention)
}

// WebhookPrunable reports whether an event made at at may be deleted at
// now, with its delivery log: it is older than the redelivery window, and
// no delivery of it is pending (pending: an outbox item delivering it is
// not yet done, such as a retry or a late redelivery of an old event).
func WebhookPrunable(at, now time.Time, pending bool) bool {
	return !pending && at.Before(WebhookPruneBefore(now))
}

// Limits of a subscription.
const (
	MaxWebhookURLLength   = 2000
	MaxWebhookDescription = 200
)

// The reasons a subscription was disabled.
const (
	WebhookDisabledByAdmin   = "admin"   // an administrator disabled it
	WebhookDisabledGone      = "gone"    // the endpoint answered 410 Gone
	WebhookDisabledFailing   = "failing" // every attempt failed for WebhookDisableAfter
	webhookEventIDPrefix     = "evt_"
	webhookTestEventIDPrefix = "evt_test_"
)

// WebhookSubscription is an integrated system's subscription to the
// service's events: where they go, how they are signed, which it wants.
type WebhookSubscription struct {
	ID          string
	URL         string
	Description string
	// Secret signs the deliveries ("whsec_…"); PreviousSecret, until
	// PreviousUntil, signs them too after a rotation.
	Secret         string
	PreviousSecret string
	PreviousUntil  *time.Time
	// Events are the event types it wants; Controllers the controllers
	// whose cases it covers (empty: all).
	Events      []WebhookEventType
	Controllers []string
	// IncludeEmail adds the subject's e-mail address to the payloads.
	IncludeEmail bool
	// Enabled is false once an administrator, a 410 answer or persistent
	// failure (DisabledReason) disabled it.
	Enabled        bool
	DisabledReason string
	DisabledAt     *time.Time
	// FailingSince is the first failed attempt since the last success.
	FailingSince *time.Time
	CreatedBy    string
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

// Wants reports whether the subscription takes the event.
func (s *WebhookSubscription) Wants(e *WebhookEvent) bool {
	if !s.Enabled {
		return false
	}
	if len(s.Controllers) > 0 && !slices.Contains(s.Controllers, e.Controller) {
		return false
	}
	return slices.Contains(s.Events, e.Type)
}

// Secrets returns the secrets that sign a delivery at now: the current
// one, and the previous one during a rotation's overlap.
func (s *WebhookSubscription) Secrets(now time.Time) []string {
	out := []string{s.Secret}
	if s.PreviousSecret != "" && s.PreviousUntil != nil && now.Before(*s.PreviousUntil) {
		out = append(out, s.PreviousSecret)
	}
	return out
}

// WebhookSubscriptionInput is what an administrator sets on a
// subscription.
type WebhookSubscriptionInput struct {
	URL          string
	Description  string
	Events       []WebhookEventType
	Controllers  []string
	IncludeEmail bool
	// Enabled, when set, enables or disables the subscription (an update
	// only; a new one starts enabled).
	Enabled *bool
}

// ValidateWebhookSubscription checks and normalises an administrator's
// subscription: an absolute http(s) URL without credentials, at least one
// known event type, known controllers. It returns an EINVALID error naming
// every bad field.
func ValidateWebhookSubscription(in *WebhookSubscriptionInput, controllers *Controllers) error {
	var fields []FieldError
	bad := func(field, msg string, params map[string]any) {
		fields = append(fields, FieldError{Field: field, Message: msg, Params: params})
	}
	in.URL, in.Description = strings.TrimSpace(in.URL), strings.TrimSpace(in.Description)
	switch fe := checkText("url", in.URL, false, MaxWebhookURLLength); {
	case in.URL == "":
		bad("url", "field.required", nil)
	case fe != nil:
		fields = append(fields, *fe)
	case !validWebhookURL(in.URL):
		bad("url", "field.webhook_url", nil)
	}
	if fe := checkText("description", in.Description, false, MaxWebhookDescription); fe != nil {
		fields = append(fields, *fe)
	}
	if len(in.Events) == 0 {
		bad("events", "field.required", nil)
	}
	for _, t := range in.Events {
		if !slices.Contains(WebhookEventTypes, t) {
			bad("events", "field.enum", map[string]any{"allowed": enumStrings(WebhookEventTypes)})
			break
		}
	}
	slices.Sort(in.Events)
	in.Events = slices.Compact(in.Events)
	for _, c := range in.Controllers {
		if _, ok := controllers.Get(c); !ok {
			var keys []string
			for _, ctrl := range controllers.All() {
				keys = append(keys, ctrl.Key)
			}
			bad("controllers", "field.enum", map[string]any{"allowed": keys})
			break
		}
	}
	slices.Sort(in.Controllers)
	in.Controllers = slices.Compact(in.Controllers)
	if len(fields) > 0 {
		return &Error{Code: EINVALID, Message: "error.invalid", Fields: fields}
	}
	return nil
}

// validWebhookURL reports whether s is an absolute http or https URL with a
// host and no user information or fragment.
func validWebhookURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Host != "" && u.Hostname() != "" &&
		u.User == nil && u.Fragment == "" && u.Opaque == ""
}

// WebhookEvent is one event for the integrated systems: a fact of a case,
// with the few fields a receiver needs to act on it. Its ID is stable:
// every delivery and redelivery of the event carries it as webhook-id.
type WebhookEvent struct {
	ID         string
	Type       WebhookEventType
	At         time.Time
	Controller string
	RequestID  string
	Data       WebhookData
}

// WebhookData is the data of an event's payload. It carries no personal
// data: the subject's e-mail address only for a subscription that asks for
// it (Email, filled in at delivery).
type WebhookData struct {
	Controller     string     `json:"controller"`
	RequestID      string     `json:"request_id,omitempty"`
	Reference      string     `json:"reference,omitempty"`
	RequestType    string     `json:"request_type,omitempty"`
	Status         string     `json:"status,omitempty"`
	PreviousStatus string     `json:"previous_status,omitempty"`
	ReceivedAt     *time.Time `json:"received_at,omitempty"`
	DueDate        string     `json:"due_date,omitempty"`
	ClosedAt       *time.Time `json:"closed_at,omitempty"`
	// Reminder says which deadline reminder a due_soon or overdue event
	// comes from ("7d", "2d", "overdue").
	Reminder string `json:"reminder,omitempty"`
	// Task, TaskTarget and TaskAction name the system task of a
	// system_task event.
	TaskID     string `json:"task_id,omitempty"`
	TaskTarget string `json:"task_target,omitempty"`
	TaskAction string `json:"task_action,omitempty"`
	TaskStatus string `json:"task_status,omitempty"`
	// Email is the subject's address, for a subscription that includes it.
	Email string `json:"email,omitempty"`
}

// webhookBody is the JSON body of a delivery (the Standard Webhooks
// payload structure).
type webhookBody struct {
	ID        string           `json:"id"`
	Type      WebhookEventType `json:"type"`
	Timestamp time.Time        `json:"timestamp"`
	Data      WebhookData      `json:"data"`
}

// Body returns the JSON body of a delivery of the event, with the
// subject's address when email is not empty.
func (e *WebhookEvent) Body(email string) []byte {
	d := e.Data
	d.Email = email
	b, _ := json.Marshal(webhookBody{ID: e.ID, Type: e.Type, Timestamp: e.At.UTC(), Data: d}) // plain fields always marshal
	return b
}

// WebhookEvents returns the webhook events of a case's audit events, as
// the case stands after them (req): the store calls it when it writes an
// effect, so that the events go out with the change, or not at all.
func WebhookEvents(env Env, req *Request, evs []*Event) []*WebhookEvent {
	var out []*WebhookEvent
	for _, ev := range evs {
		for _, t := range webhookTypes(ev) {
			out = append(out, newWebhookEvent(env, req, ev, t))
		}
	}
	return out
}

// HasWebhookEvents reports whether any of the audit events makes a webhook
// event, so that the store looks up nothing for the others.
func HasWebhookEvents(evs []*Event) bool {
	return slices.ContainsFunc(evs, func(ev *Event) bool { return len(webhookTypes(ev)) > 0 })
}

// webhookTypes maps an audit event to the webhook events it makes.
func webhookTypes(ev *Event) []WebhookEventType {
	switch ev.Kind {
	case EventCreated:
		return []WebhookEventType{WebhookRequestReceived}
	case EventVerified:
		return []WebhookEventType{WebhookRequestVerified}
	case EventExtended:
		return []WebhookEventType{WebhookRequestExtended}
	case EventResultsAssembled:
		return []WebhookEventType{WebhookExportReady}
	case EventReminder:
		if ev.Data["reminder"] == ReminderOverdue {
			return []WebhookEventType{WebhookRequestOverdue}
		}
		return []WebhookEventType{WebhookRequestDueSoon}
	case EventTask:
		switch TaskStatus(ev.Data["to"]) {
		case TaskFailed:
			return []WebhookEventType{WebhookTaskFailed}
		case TaskDone, TaskNoData:
			return []WebhookEventType{WebhookTaskCompleted}
		}
	case EventTransition:
		out := []WebhookEventType{WebhookRequestStatusChanged}
		if ev.Data["verified_by"] != "" { // the subject's own verification, or an intake that arrived verified
			out = append(out, WebhookRequestVerified)
		}
		switch ev.To {
		case StatusCompleted:
			out = append(out, WebhookRequestCompleted)
		case StatusRefused:
			out = append(out, WebhookRequestRefused)
		case StatusWithdrawn:
			out = append(out, WebhookRequestWithdrawn)
		}
		return out
	}
	return nil
}

func newWebhookEvent(env Env, req *Request, ev *Event, t WebhookEventType) *WebhookEvent {
	received := req.ReceivedAt.UTC()
	d := WebhookData{Controller: req.Controller, RequestID: req.ID, Reference: req.Reference, RequestType: string(req.Type),
		Status: string(req.Status), ReceivedAt: &received, DueDate: req.DueDate.String()}
	if req.ClosedAt != nil {
		closed := req.ClosedAt.UTC()
		d.ClosedAt = &closed
	}
	switch t {
	case WebhookRequestStatusChanged, WebhookRequestCompleted, WebhookRequestRefused, WebhookRequestWithdrawn:
		d.Status, d.PreviousStatus = string(ev.To), string(ev.From)
	case WebhookRequestDueSoon, WebhookRequestOverdue:
		d.Reminder = ev.Data["reminder"]
	case WebhookTaskFailed, WebhookTaskCompleted:
		d.TaskID, d.TaskTarget, d.TaskAction, d.TaskStatus = ev.Data["task"], ev.Data["target"], ev.Data["action"], ev.Data["to"]
	}
	return &WebhookEvent{ID: webhookEventIDPrefix + env.NewID(), Type: t, At: ev.At, Controller: req.Controller, RequestID: req.ID, Data: d}
}

// NewWebhookTestEvent returns the event an administrator sends to try a
// subscription: it names no case.
func NewWebhookTestEvent(env Env, controller string) *WebhookEvent {
	return &WebhookEvent{ID: webhookTestEventIDPrefix + env.NewID(), Type: WebhookTest, At: env.Now, Controller: controller,
		Data: WebhookData{Controller: controller}}
}

// WebhookPayload is the payload of an OutboxWebhook item: one attempt to
// deliver one or more events (EventID, then More) to one subscription.
type WebhookPayload struct {
	EventID string `json:"event_id"`
	// More are the further events the item delivers, to the same
	// subscription at the same attempt: the events one case write or one
	// redelivery hands over at once share an item (up to MaxWebhookBatch),
	// so that a backlog costs one claim and one transaction per batch, not
	// per event.
	More           []string `json:"more,omitempty"`
	SubscriptionID string   `json:"subscription_id"`
	// Attempt counts the attempts of this delivery: 1, 2, … up to one more
	// than the retry schedule is long.
	Attempt int `json:"attempt"`
	// Manual says an administrator asked for this delivery (a redelivery or
	// a test).
	Manual bool `json:"manual,omitempty"`
}

// EventIDs returns the events the item delivers, in order.
func (p WebhookPayload) EventIDs() []string { return append([]string{p.EventID}, p.More...) }

// MaxWebhookBatch is how many events one outbox item delivers at most.
const MaxWebhookBatch = 100

// WebhookDeliveries returns the outbox items that deliver the events, now,
// to each subscription that wants them: one item for each subscription's
// events (MaxWebhookBatch at most).
func WebhookDeliveries(env Env, evs []*WebhookEvent, subs []*WebhookSubscription) []*OutboxItem {
	var out []*OutboxItem
	for _, s := range subs {
		var wanted []*WebhookEvent
		for _, e := range evs {
			if s.Wants(e) {
				wanted = append(wanted, e)
			}
		}
		out = append(out, webhookItems(env, wanted, s.ID, 1, false, env.Now)...)
	}
	return out
}

// webhookItems returns the items that make the attempt of delivering the
// events to the subscription at the instant, MaxWebhookBatch events an
// item. An item names a case only when all its events are the case's.
func webhookItems(env Env, evs []*WebhookEvent, subID string, attempt int, manual bool, at time.Time) []*OutboxItem {
	var out []*OutboxItem
	for batch := range slices.Chunk(evs, MaxWebhookBatch) {
		p := WebhookPayload{EventID: batch[0].ID, SubscriptionID: subID, Attempt: attempt, Manual: manual}
		req := batch[0].RequestID
		for _, e := range batch[1:] {
			p.More = append(p.More, e.ID)
			if e.RequestID != req {
				req = ""
			}
		}
		b, _ := json.Marshal(p) // plain fields always marshal
		out = append(out, &OutboxItem{ID: env.NewID(), Kind: OutboxWebhook, RequestID: req, Payload: b, RunAt: at})
	}
	return out
}

// CheckRedelivery checks what a redelivery asks for: one event by its ID,
// or every event of the time range [from, to), from before to; never both.
func CheckRedelivery(eventID string, from, to *time.Time) error {
	one := eventID != "" && from == nil && to == nil
	span := eventID == "" && from != nil && to != nil && from.Before(*to)
	if !one && !span {
		return &Error{Code: EINVALID, Message: "error.invalid", Fields: []FieldError{{Field: "from", Message: "field.webhook_range"}}}
	}
	return nil
}

// Redeliver returns the outbox items that deliver the events again to the
// subscription, now, as first attempts with the events' own IDs (a
// receiver that already has one drops it). A disabled subscription gets
// nothing: ECONFLICT.
func (s *WebhookSubscription) Redeliver(env Env, evs []*WebhookEvent) ([]*OutboxItem, error) {
	if !s.Enabled {
		return nil, &Error{Code: ECONFLICT, Message: "error.webhook_disabled"}
	}
	return webhookItems(env, evs, s.ID, 1, true, env.Now), nil
}

// WebhookResponse is what came of one attempt: the endpoint's status code
// (0 when no answer came), its Retry-After, or the error that kept it
// from answering.
type WebhookResponse struct {
	StatusCode int
	RetryAfter time.Duration
	Err        string
	Duration   time.Duration
}

// The outcomes of a delivery attempt, as the delivery log shows them.
const (
	WebhookDelivered = "delivered" // the endpoint answered 2xx
	WebhookRetrying  = "retrying"  // it failed; another attempt is planned
	WebhookFailed    = "failed"    // it failed and was the last attempt
	WebhookGone      = "gone"      // the endpoint answered 410: the subscription is disabled
)

// WebhookAttempt is one attempt of a delivery, as the delivery log keeps
// it.
type WebhookAttempt struct {
	ID             string
	EventID        string
	EventType      WebhookEventType
	SubscriptionID string
	Attempt        int
	Manual         bool
	Outcome        string
	StatusCode     int
	Error          string
	At             time.Time
	Duration       time.Duration
	// NextAt is when the next attempt is made, for a retrying one.
	NextAt *time.Time
}

// WebhookDecision is what the domain decided after an item's attempt:
// the log entries, the next attempts (none when every event was delivered
// or has failed for good), and what happens to the subscription.
type WebhookDecision struct {
	Attempts []*WebhookAttempt
	Next     []*OutboxItem
	// Disable, when not empty, disables the subscription for this reason.
	Disable string
	// FailingSince is the subscription's first failure since its last
	// success after the attempts (nil when all succeeded); FailingChanged
	// says it is not what the subscription had, so that the store writes
	// the subscription's row only then, not at every delivery.
	FailingSince   *time.Time
	FailingChanged bool
	// Notify, with Disable, tells the administrators: the store writes it
	// when the decision is the one that disabled the subscription.
	Notify *OutboxItem
}

// WebhookDisabledPayload is the payload of an OutboxWebhookDisabled item.
type WebhookDisabledPayload struct {
	SubscriptionID string `json:"subscription_id"`
	Reason         string `json:"reason"`
}

// disable makes the decision disable the subscription for the reason and
// tell the administrators.
func (d *WebhookDecision) disable(env Env, subID, reason string) {
	p, _ := json.Marshal(WebhookDisabledPayload{SubscriptionID: subID, Reason: reason}) // plain fields always marshal
	d.Disable = reason
	d.Notify = &OutboxItem{ID: env.NewID(), Kind: OutboxWebhookDisabled, Payload: p, RunAt: env.Now}
}

// DecideWebhookAttempts decides what follows an attempt to deliver the
// item's events to the subscription, made at once (res[i] is what came of
// evs[i]): 2xx is delivered; 410 disables the subscription; anything else
// is tried again after the retry schedule's next wait (or the endpoint's
// Retry-After when longer, up to WebhookMaxRetryAfter) until the schedule
// ends. The events tried again at the same instant share an item again.
// The subscription's failures date from its first failure since the last
// success (one success among the attempts restarts them at this one); when
// every attempt has failed for WebhookDisableAfter, it is disabled. A
// disabled subscription gets no further attempt.
func DecideWebhookAttempts(env Env, s *WebhookSubscription, evs []*WebhookEvent, p WebhookPayload, res []WebhookResponse) *WebhookDecision {
	d := &WebhookDecision{}
	type retry struct {
		at  time.Time
		evs []*WebhookEvent
	}
	var retries []retry // by instant, in the order of their first event
	failed, succeeded := false, false
	for i, e := range evs {
		r := res[i]
		a := &WebhookAttempt{ID: env.NewID(), EventID: e.ID, EventType: e.Type, SubscriptionID: s.ID, Attempt: p.Attempt,
			Manual: p.Manual, StatusCode: r.StatusCode, Error: r.Err, At: env.Now, Duration: r.Duration}
		d.Attempts = append(d.Attempts, a)
		switch {
		case r.StatusCode >= 200 && r.StatusCode < 300:
			a.Outcome, succeeded = WebhookDelivered, true
			continue
		case r.StatusCode == 410:
			a.Outcome = WebhookGone
			if d.Disable == "" {
				d.disable(env, s.ID, WebhookDisabledGone)
			}
		case p.Attempt > len(WebhookRetrySchedule):
			a.Outcome = WebhookFailed
		default:
			next := env.Now.Add(webhookRetryWait(p.Attempt, r.RetryAfter))
			a.Outcome, a.NextAt = WebhookRetrying, &next
			k := slices.IndexFunc(retries, func(x retry) bool { return x.at.Equal(next) })
			if k < 0 {
				k, retries = len(retries), append(retries, retry{at: next})
			}
			retries[k].evs = append(retries[k].evs, e)
		}
		failed = true
	}
	switch {
	case !failed:
		d.FailingSince = nil
	case succeeded || s.FailingSince == nil:
		now := env.Now
		d.FailingSince = &now
	default:
		d.FailingSince = s.FailingSince
	}
	d.FailingChanged = !equalTimes(d.FailingSince, s.FailingSince)
	if d.Disable == "" && !succeeded && d.FailingSince != nil && env.Now.Sub(*d.FailingSince) >= WebhookDisableAfter {
		d.disable(env, s.ID, WebhookDisabledFailing)
	}
	if d.Disable != "" { // no further attempt to a disabled subscription
		for _, a := range d.Attempts {
			if a.Outcome == WebhookRetrying {
				a.Outcome, a.NextAt = WebhookFailed, nil
			}
		}
		return d
	}
	for _, r := range retries {
		d.Next = append(d.Next, webhookItems(env, r.evs, s.ID, p.Attempt+1, p.Manual, r.at)...)
	}
	return d
}

// webhookRetryWait is how long after the failed attempt (1, 2, …) of an
// outgoing call the next is made: the retry schedule's step, or the
// answer's Retry-After when longer, up to WebhookMaxRetryAfter.
func webhookRetryWait(attempt int, retryAfter time.Duration) time.Duration {
	return max(WebhookRetrySchedule[attempt-1], min(retryAfter, WebhookMaxRetryAfter))
}

func equalTimes(a, b *time.Time) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.Equal(*b)
}

// WebhookService keeps the subscriptions, the events and the delivery log.
// Every method but the workers' (Deliveries, RecordAttempts) is
// for administrators only (EFORBIDDEN otherwise).
type WebhookService interface {
	// CreateSubscription adds a subscription with a new secret, which the
	// answer shows (and Get too: an administrator may read it again).
	CreateSubscription(ctx context.Context, actor Actor, in WebhookSubscriptionInput) (*WebhookSubscription, error)
	UpdateSubscription(ctx context.Context, actor Actor, id string, in WebhookSubscriptionInput) (*WebhookSubscription, error)
	DeleteSubscription(ctx context.Context, actor Actor, id string) error
	Subscription(ctx context.Context, actor Actor, id string) (*WebhookSubscription, error)
	Subscriptions(ctx context.Context, actor Actor) ([]*WebhookSubscription, error)
	// RotateSecret gives the subscription a new secret; the old one signs
	// beside it for WebhookRotationOverlap.
	RotateSecret(ctx context.Context, actor Actor, id string) (*WebhookSubscription, error)
	// Attempts returns the subscription's delivery log, newest first.
	Attempts(ctx context.Context, actor Actor, id string, limit int) ([]*WebhookAttempt, error)
	// Redeliver delivers again one event (eventID) or every event of the
	// subscription's types and controllers made in [from, to); it returns
	// how many.
	Redeliver(ctx context.Context, actor Actor, id, eventID string, from, to time.Time) (int, error)
	// SendTest delivers a webhook.test event to the subscription.
	SendTest(ctx context.Context, actor Actor, id string) (*WebhookEvent, error)

	// Deliveries returns the subscription of a delivery and those of the
	// events that are still kept, in the order asked, with the subjects'
	// addresses by request ID when the subscription includes them.
	Deliveries(ctx context.Context, eventIDs []string, subscriptionID string) ([]*WebhookEvent, *WebhookSubscription, map[string]string, error)
	// RecordAttempts completes the claimed outbox item of an attempt and
	// writes the decision, in one transaction.
	RecordAttempts(ctx context.Context, claimed *OutboxItem, d *WebhookDecision) error
}
