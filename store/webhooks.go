package store

import (
	"context"
	"encoding/json"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/dsar-project/dsar"
)

// The administrators' trail entries of the webhook subscriptions.
const (
	AdminWebhookCreated  = "webhook_created"
	AdminWebhookUpdated  = "webhook_updated"
	AdminWebhookDeleted  = "webhook_deleted"
	AdminWebhookRotated  = "webhook_secret_rotated"
	AdminWebhookDisabled = "webhook_disabled"
)

// webhookSubscriptionRow is a row of webhook_subscriptions. The secrets are
// sealed with the keyring, bound to the subscription's ID.
type webhookSubscriptionRow struct {
	ID             string `gorm:"primaryKey"`
	URL            string
	Description    string
	Secret         []byte
	PreviousSecret []byte
	PreviousUntil  *time.Time
	Events         string // space separated
	Controllers    string // space separated; empty: all
	IncludeEmail   bool
	Enabled        bool
	DisabledReason string
	DisabledAt     *time.Time
	FailingSince   *time.Time
	CreatedBy      string
	CreatedAt      time.Time
	UpdatedAt      time.Time
}

func (webhookSubscriptionRow) TableName() string { return "webhook_subscriptions" }

// webhookEventRow is a row of webhook_events: the event without the
// subject's address.
type webhookEventRow struct {
	ID         string `gorm:"primaryKey"`
	Type       string
	RequestID  *string
	Controller string
	At         time.Time
	Data       string
}

func (webhookEventRow) TableName() string { return "webhook_events" }

// webhookAttemptRow is a row of webhook_attempts, the delivery log.
type webhookAttemptRow struct {
	ID             string `gorm:"primaryKey"`
	EventID        string
	SubscriptionID string
	Attempt        int
	Manual         bool
	Outcome        string
	StatusCode     int
	Error          string
	At             time.Time
	DurationMs     int64
	NextAt         *time.Time
}

func (webhookAttemptRow) TableName() string { return "webhook_attempts" }

func (db *DB) sealSecret(id, secret string) []byte {
	return db.Keyring.Seal([]byte(secret), []byte("webhook:"+id))
}

func (db *DB) subscriptionOf(r *webhookSubscriptionRow) (*dsar.WebhookSubscription, error) {
	s := &dsar.WebhookSubscription{ID: r.ID, URL: r.URL, Description: r.Description, PreviousUntil: r.PreviousUntil,
		Controllers: strings.Fields(r.Controllers), IncludeEmail: r.IncludeEmail, Enabled: r.Enabled,
		DisabledReason: r.DisabledReason, DisabledAt: r.DisabledAt, FailingSince: r.FailingSince,
		CreatedBy: r.CreatedBy, CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC()}
	for _, t := range strings.Fields(r.Events) {
		s.Events = append(s.Events, dsar.WebhookEventType(t))
	}
	secret, err := db.Keyring.Open(r.Secret, []byte("webhook:"+r.ID))
	if err != nil {
		return nil, dsar.Errorf(dsar.EINTERNAL, "the secret of webhook subscription %s does not open with the keyring", r.ID)
	}
	s.Secret = string(secret)
	if len(r.PreviousSecret) > 0 {
		prev, err := db.Keyring.Open(r.PreviousSecret, []byte("webhook:"+r.ID))
		if err != nil {
			return nil, dsar.Errorf(dsar.EINTERNAL, "the previous secret of webhook subscription %s does not open with the keyring", r.ID)
		}
		s.PreviousSecret = string(prev)
	}
	return s, nil
}

func eventOf(r *webhookEventRow) (*dsar.WebhookEvent, error) {
	e := &dsar.WebhookEvent{ID: r.ID, Type: dsar.WebhookEventType(r.Type), At: r.At.UTC(), Controller: r.Controller}
	if r.RequestID != nil {
		e.RequestID = *r.RequestID
	}
	return e, json.Unmarshal([]byte(r.Data), &e.Data)
}

func newWebhookEventRow(e *dsar.WebhookEvent) *webhookEventRow {
	data, _ := json.Marshal(e.Data) // plain fields always marshal
	r := &webhookEventRow{ID: e.ID, Type: string(e.Type), Controller: e.Controller, At: e.At.UTC(), Data: string(data)}
	if e.RequestID != "" {
		id := e.RequestID
		r.RequestID = &id
	}
	return r
}

func attemptOf(r *webhookAttemptRow, eventType string) *dsar.WebhookAttempt {
	return &dsar.WebhookAttempt{ID: r.ID, EventID: r.EventID, EventType: dsar.WebhookEventType(eventType), SubscriptionID: r.SubscriptionID,
		Attempt: r.Attempt, Manual: r.Manual, Outcome: r.Outcome, StatusCode: r.StatusCode, Error: r.Error, At: r.At.UTC(),
		Duration: time.Duration(r.DurationMs) * time.Millisecond, NextAt: r.NextAt}
}

// recordWebhooks writes the webhook events of a case's audit events and
// one outbox item per delivery to each subscription that wants one, in the
// transaction that writes the events. row is the case's locked row, or nil
// to read it.
func (db *DB) recordWebhooks(tx *gorm.DB, row *requestRow, events []*dsar.Event) error {
	if !dsar.HasWebhookEvents(events) {
		return nil
	}
	if row == nil || row.ID != events[0].RequestID {
		row = &requestRow{}
		if err := tx.Where("id = ?", events[0].RequestID).Take(row).Error; err != nil {
			return err
		}
	}
	rows, items, err := db.webhooksOf(tx, row.toDomain(db.location(row.Controller)), events)
	if err != nil || len(rows) == 0 {
		return err
	}
	if err := tx.CreateInBatches(rows, insertBatch).Error; err != nil {
		return err
	}
	return db.insertOutbox(tx, items)
}

// webhooksOf returns the webhook events of a case's audit events, as the
// case stands after them (dsar.WebhookEvents decides which), as rows, and
// the outbox items that deliver them to the enabled subscriptions that
// want them (dsar.WebhookDeliveries). A service without subscriptions
// keeps no events; one whose subscriptions are all disabled keeps them, for
// a redelivery once they are enabled again.
func (db *DB) webhooksOf(tx *gorm.DB, req *dsar.Request, events []*dsar.Event) ([]*webhookEventRow, []*dsar.OutboxItem, error) {
	if !dsar.HasWebhookEvents(events) {
		return nil, nil, nil
	}
	var subRows []webhookSubscriptionRow
	if err := tx.Select("id, events, controllers, enabled").Find(&subRows).Error; err != nil {
		return nil, nil, err
	}
	if len(subRows) == 0 {
		return nil, nil, nil
	}
	env := db.env()
	evs := dsar.WebhookEvents(env, req, events)
	rows := make([]*webhookEventRow, len(evs))
	for i, e := range evs {
		rows[i] = newWebhookEventRow(e)
	}
	subs := make([]*dsar.WebhookSubscription, len(subRows))
	for i, r := range subRows { // only what Wants reads: no secret is opened here
		subs[i] = &dsar.WebhookSubscription{ID: r.ID, Enabled: r.Enabled, Controllers: strings.Fields(r.Controllers)}
		for _, t := range strings.Fields(r.Events) {
			subs[i].Events = append(subs[i].Events, dsar.WebhookEventType(t))
		}
	}
	return rows, dsar.WebhookDeliveries(env, evs, subs), nil
}

// Webhooks implements dsar.WebhookService on the database.
type Webhooks struct{ db *DB }

var _ dsar.WebhookService = (*Webhooks)(nil)

// NewWebhooks returns the webhook subscriptions and deliveries of db.
func NewWebhooks(db *DB) *Webhooks { return &Webhooks{db: db} }

func mustAdmin(actor dsar.Actor) error {
	if actor.Role != dsar.RoleAdmin {
		return &dsar.Error{Code: dsar.EFORBIDDEN, Message: "error.forbidden"}
	}
	return nil
}

// CreateSubscription implements dsar.WebhookService.
func (w *Webhooks) CreateSubscription(ctx context.Context, actor dsar.Actor, in dsar.WebhookSubscriptionInput) (*dsar.WebhookSubscription, error) {
	if err := mustAdmin(actor); err != nil {
		return nil, err
	}
	if err := dsar.ValidateWebhookSubscription(&in, w.db.Controllers); err != nil {
		return nil, err
	}
	now := w.db.now()
	id := newID()
	r := &webhookSubscriptionRow{ID: id, URL: in.URL, Description: in.Description, Secret: w.db.sealSecret(id, dsar.NewWebhookSecret()),
		Events: joinTypes(in.Events), Controllers: strings.Join(in.Controllers, " "), IncludeEmail: in.IncludeEmail, Enabled: true,
		CreatedBy: actor.ID, CreatedAt: now, UpdatedAt: now}
	err := w.db.tx(ctx, func(tx *gorm.DB) error {
		if err := tx.Create(r).Error; err != nil {
			return err
		}
		return w.db.recordAdmin(tx, actor, AdminWebhookCreated, id, subscriptionData(r))
	})
	if err != nil {
		return nil, mapErr(err)
	}
	return w.db.subscriptionOf(r)
}

func joinTypes(ts []dsar.WebhookEventType) string {
	s := make([]string, len(ts))
	for i, t := range ts {
		s[i] = string(t)
	}
	return strings.Join(s, " ")
}

// subscriptionData is what the administrators' trail keeps of a
// subscription: never its secret.
func subscriptionData(r *webhookSubscriptionRow) map[string]string {
	data := map[string]string{"url": r.URL, "events": r.Events, "controllers": r.Controllers}
	if r.IncludeEmail {
		data["include_email"] = "true"
	}
	if !r.Enabled {
		data["disabled"] = r.DisabledReason
	}
	return data
}

// lockSubscription reads and locks a subscription's row in tx.
func (w *Webhooks) lockSubscription(tx *gorm.DB, id string) (*webhookSubscriptionRow, error) {
	var r webhookSubscriptionRow
	if err := w.db.forUpdate(tx).Where("id = ?", id).Take(&r).Error; err != nil {
		return nil, err
	}
	return &r, nil
}

// UpdateSubscription implements dsar.WebhookService. Enabling a disabled
// subscription starts its failure count afresh.
func (w *Webhooks) UpdateSubscription(ctx context.Context, actor dsar.Actor, id string, in dsar.WebhookSubscriptionInput) (*dsar.WebhookSubscription, error) {
	if err := mustAdmin(actor); err != nil {
		return nil, err
	}
	if err := dsar.ValidateWebhookSubscription(&in, w.db.Controllers); err != nil {
		return nil, err
	}
	var out *webhookSubscriptionRow
	err := w.db.tx(ctx, func(tx *gorm.DB) error {
		r, err := w.lockSubscription(tx, id)
		if err != nil {
			return err
		}
		now := w.db.now()
		r.URL, r.Description, r.Events, r.Controllers, r.IncludeEmail, r.UpdatedAt =
			in.URL, in.Description, joinTypes(in.Events), strings.Join(in.Controllers, " "), in.IncludeEmail, now
		if in.Enabled != nil && *in.Enabled != r.Enabled {
			r.Enabled = *in.Enabled
			if r.Enabled {
				r.DisabledReason, r.DisabledAt, r.FailingSince = "", nil, nil
			} else {
				r.DisabledReason, r.DisabledAt = dsar.WebhookDisabledByAdmin, &now
			}
		}
		out = r
		if err := tx.Save(r).Error; err != nil {
			return err
		}
		return w.db.recordAdmin(tx, actor, AdminWebhookUpdated, id, subscriptionData(r))
	})
	if err != nil {
		return nil, mapErr(err)
	}
	return w.db.subscriptionOf(out)
}

// DeleteSubscription implements dsar.WebhookService: its delivery log goes
// with it, and its pending deliveries are skipped.
func (w *Webhooks) DeleteSubscription(ctx context.Context, actor dsar.Actor, id string) error {
	if err := mustAdmin(actor); err != nil {
		return err
	}
	return mapErr(w.db.tx(ctx, func(tx *gorm.DB) error {
		r, err := w.lockSubscription(tx, id)
		if err != nil {
			return err
		}
		if err := tx.Delete(r).Error; err != nil {
			return err
		}
		return w.db.recordAdmin(tx, actor, AdminWebhookDeleted, id, map[string]string{"url": r.URL})
	}))
}

// Subscription implements dsar.WebhookService.
func (w *Webhooks) Subscription(ctx context.Context, actor dsar.Actor, id string) (*dsar.WebhookSubscription, error) {
	if err := mustAdmin(actor); err != nil {
		return nil, err
	}
	var r webhookSubscriptionRow
	if err := w.db.gorm.WithContext(ctx).Where("id = ?", id).Take(&r).Error; err != nil {
		return nil, mapErr(err)
	}
	return w.db.subscriptionOf(&r)
}

// Subscriptions implements dsar.WebhookService, oldest first.
func (w *Webhooks) Subscriptions(ctx context.Context, actor dsar.Actor) ([]*dsar.WebhookSubscription, error) {
	if err := mustAdmin(actor); err != nil {
		return nil, err
	}
	var rows []webhookSubscriptionRow
	if err := w.db.gorm.WithContext(ctx).Order("created_at, id").Find(&rows).Error; err != nil {
		return nil, mapErr(err)
	}
	out := make([]*dsar.WebhookSubscription, len(rows))
	for i := range rows {
		s, err := w.db.subscriptionOf(&rows[i])
		if err != nil {
			return nil, err
		}
		out[i] = s
	}
	return out, nil
}

// RotateSecret implements dsar.WebhookService.
func (w *Webhooks) RotateSecret(ctx context.Context, actor dsar.Actor, id string) (*dsar.WebhookSubscription, error) {
	if err := mustAdmin(actor); err != nil {
		return nil, err
	}
	var out *webhookSubscriptionRow
	err := w.db.tx(ctx, func(tx *gorm.DB) error {
		r, err := w.lockSubscription(tx, id)
		if err != nil {
			return err
		}
		now := w.db.now()
		until := now.Add(dsar.WebhookRotationOverlap)
		r.PreviousSecret, r.PreviousUntil = r.Secret, &until
		r.Secret, r.UpdatedAt = w.db.sealSecret(id, dsar.NewWebhookSecret()), now
		out = r
		if err := tx.Save(r).Error; err != nil {
			return err
		}
		return w.db.recordAdmin(tx, actor, AdminWebhookRotated, id, map[string]string{"previous_until": until.Format(time.RFC3339)})
	})
	if err != nil {
		return nil, mapErr(err)
	}
	return w.db.subscriptionOf(out)
}

// webhookAttemptView is an entry of the delivery log with its event's type.
type webhookAttemptView struct {
	WebhookAttemptRow webhookAttemptRow `gorm:"embedded"`
	EventType         string
}

// MaxWebhookAttempts is the most entries of the delivery log one call
// returns.
const MaxWebhookAttempts = 500

// Attempts implements dsar.WebhookService.
func (w *Webhooks) Attempts(ctx context.Context, actor dsar.Actor, id string, limit int) ([]*dsar.WebhookAttempt, error) {
	if _, err := w.Subscription(ctx, actor, id); err != nil {
		return nil, err
	}
	if limit <= 0 || limit > MaxWebhookAttempts {
		limit = MaxWebhookAttempts
	}
	var rows []webhookAttemptView
	err := w.db.gorm.WithContext(ctx).Table("webhook_attempts a").Select("a.*, e.type AS event_type").
		Joins("JOIN webhook_events e ON e.id = a.event_id").Where("a.subscription_id = ?", id).
		Order("a.at DESC, a.id DESC").Limit(limit).Scan(&rows).Error
	if err != nil {
		return nil, mapErr(err)
	}
	out := make([]*dsar.WebhookAttempt, len(rows))
	for i := range rows {
		out[i] = attemptOf(&rows[i].WebhookAttemptRow, rows[i].EventType)
	}
	return out, nil
}

// MaxWebhookRedeliveries is the most events one redelivery of a time range
// sends again; a longer range is refused (narrow it).
const MaxWebhookRedeliveries = 10000

// Redeliver implements dsar.WebhookService.
func (w *Webhooks) Redeliver(ctx context.Context, actor dsar.Actor, id, eventID string, from, to time.Time) (int, error) {
	if err := mustAdmin(actor); err != nil {
		return 0, err
	}
	n := 0
	err := w.db.tx(ctx, func(tx *gorm.DB) error {
		r, err := w.lockSubscription(tx, id)
		if err != nil {
			return err
		}
		sub, err := w.db.subscriptionOf(r)
		if err != nil {
			return err
		}
		q := tx.Order("at, id")
		if eventID != "" {
			q = q.Where("id = ?", eventID)
		} else {
			q = q.Where("at >= ? AND at < ? AND type IN ?", from.UTC(), to.UTC(), sub.Events).Limit(MaxWebhookRedeliveries + 1)
			if len(sub.Controllers) > 0 {
				q = q.Where("controller IN ?", sub.Controllers)
			}
		}
		var rows []webhookEventRow
		if err := q.Find(&rows).Error; err != nil {
			return err
		}
		if eventID != "" && len(rows) == 0 {
			return &dsar.Error{Code: dsar.ENOTFOUND, Message: "error.not_found"}
		}
		if len(rows) > MaxWebhookRedeliveries {
			return &dsar.Error{Code: dsar.EINVALID, Message: "error.webhook_range_too_large", Params: map[string]any{"max": MaxWebhookRedeliveries}}
		}
		evs := make([]*dsar.WebhookEvent, len(rows))
		for i := range rows {
			if evs[i], err = eventOf(&rows[i]); err != nil {
				return err
			}
		}
		items, err := sub.Redeliver(w.db.env(), evs)
		if err != nil {
			return err
		}
		n = len(evs)
		return w.db.record(tx, nil, nil, items)
	})
	return n, mapErr(err)
}

// SendTest implements dsar.WebhookService.
func (w *Webhooks) SendTest(ctx context.Context, actor dsar.Actor, id string) (*dsar.WebhookEvent, error) {
	if err := mustAdmin(actor); err != nil {
		return nil, err
	}
	var ev *dsar.WebhookEvent
	err := w.db.tx(ctx, func(tx *gorm.DB) error {
		r, err := w.lockSubscription(tx, id)
		if err != nil {
			return err
		}
		sub, err := w.db.subscriptionOf(r)
		if err != nil {
			return err
		}
		env := w.db.env()
		controller := ""
		if len(sub.Controllers) > 0 {
			controller = sub.Controllers[0]
		}
		ev = dsar.NewWebhookTestEvent(env, controller)
		items, err := sub.Redeliver(env, []*dsar.WebhookEvent{ev})
		if err != nil {
			return err
		}
		if err := tx.Create(newWebhookEventRow(ev)).Error; err != nil {
			return err
		}
		return w.db.record(tx, nil, nil, items)
	})
	if err != nil {
		return nil, mapErr(err)
	}
	return ev, nil
}

// Deliveries implements dsar.WebhookService.
func (w *Webhooks) Deliveries(ctx context.Context, eventIDs []string, subscriptionID string) ([]*dsar.WebhookEvent, *dsar.WebhookSubscription, map[string]string, error) {
	db := w.db.gorm.WithContext(ctx)
	var sr webhookSubscriptionRow
	if err := db.Where("id = ?", subscriptionID).Take(&sr).Error; err != nil {
		return nil, nil, nil, mapErr(err)
	}
	sub, err := w.db.subscriptionOf(&sr)
	if err != nil {
		return nil, nil, nil, err
	}
	var rows []webhookEventRow
	if err := db.Where("id IN ?", eventIDs).Find(&rows).Error; err != nil {
		return nil, nil, nil, mapErr(err)
	}
	byID := make(map[string]*webhookEventRow, len(rows))
	for i := range rows {
		byID[rows[i].ID] = &rows[i]
	}
	evs := make([]*dsar.WebhookEvent, 0, len(rows))
	var reqs []string
	for _, id := range eventIDs {
		r, ok := byID[id]
		if !ok {
			continue
		}
		delete(byID, id) // an ID asked twice is delivered once
		e, err := eventOf(r)
		if err != nil {
			return nil, nil, nil, err
		}
		evs = append(evs, e)
		if sub.IncludeEmail && e.RequestID != "" {
			reqs = append(reqs, e.RequestID)
		}
	}
	var emails map[string]string
	if len(reqs) > 0 {
		var addrs []struct{ ID, SubjectEmail string }
		if err := db.Model(&requestRow{}).Where("id IN ?", reqs).Select("id, subject_email").Scan(&addrs).Error; err != nil {
			return nil, nil, nil, mapErr(err)
		}
		emails = make(map[string]string, len(addrs))
		for _, a := range addrs {
			emails[a.ID] = a.SubjectEmail
		}
	}
	return evs, sub, emails, nil
}

// RecordAttempts implements dsar.WebhookService: the claimed item is done,
// the attempts are in the log, the next attempts are in the outbox, and
// the subscription's failures (and, when the decision says so, its being
// disabled, in the administrators' trail) are written, all at once. The
// subscription's row is written only when its state changes, so that
// concurrent deliveries to one endpoint do not queue on its lock.
func (w *Webhooks) RecordAttempts(ctx context.Context, claimed *dsar.OutboxItem, d *dsar.WebhookDecision) error {
	now := w.db.now()
	rows := make([]*webhookAttemptRow, len(d.Attempts))
	subID := ""
	for i, a := range d.Attempts {
		msg := a.Error
		if len(msg) > 1000 {
			msg = msg[:1000]
		}
		rows[i] = &webhookAttemptRow{ID: a.ID, EventID: a.EventID, SubscriptionID: a.SubscriptionID, Attempt: a.Attempt,
			Manual: a.Manual, Outcome: a.Outcome, StatusCode: a.StatusCode, Error: msg, At: a.At.UTC(),
			DurationMs: a.Duration.Milliseconds(), NextAt: a.NextAt}
		subID, now = a.SubscriptionID, a.At
	}
	return mapErr(w.db.tx(ctx, func(tx *gorm.DB) error {
		if err := finish(tx, claimed, dsar.OutboxDone, now); err != nil {
			return err
		}
		if len(rows) > 0 {
			if err := tx.CreateInBatches(rows, insertBatch).Error; err != nil {
				return err
			}
		}
		if err := w.db.record(tx, nil, nil, d.Next); err != nil {
			return err
		}
		if subID == "" || (!d.FailingChanged && d.Disable == "") {
			return nil
		}
		set := map[string]any{"failing_since": d.FailingSince}
		if d.Disable != "" {
			set["enabled"], set["disabled_reason"], set["disabled_at"] = false, d.Disable, now.UTC()
		}
		res := tx.Model(&webhookSubscriptionRow{}).Where("id = ? AND enabled = ?", subID, true).Updates(set)
		if res.Error != nil {
			return res.Error
		}
		if d.Disable == "" || res.RowsAffected != 1 { // disabled already by another: told already
			return nil
		}
		if d.Notify != nil {
			if err := w.db.record(tx, nil, nil, []*dsar.OutboxItem{d.Notify}); err != nil {
				return err
			}
		}
		return w.db.recordAdmin(tx, dsar.ActorService, AdminWebhookDisabled, subID, map[string]string{"reason": d.Disable})
	}))
}
