package store

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/dsar-project/dsar"
)

// Requests implements dsar.RequestService on the database.
type Requests struct{ db *DB }

var _ dsar.RequestService = (*Requests)(nil)

// NewRequests returns the request service of db.
func NewRequests(db *DB) *Requests { return &Requests{db: db} }

// Create validates the submission, computes its deadlines, and writes the
// case, its first audit event, the acknowledgement mail and the deadline
// reminders in one transaction.
func (s *Requests) Create(ctx context.Context, actor dsar.Actor, in dsar.NewRequest) (*dsar.Request, error) {
	now := s.db.now()
	ctrl, err := dsar.ValidateNewRequest(&in, actor, s.db.Controllers, now)
	if err != nil {
		return nil, err
	}
	dl, err := dsar.ComputeDeadlines(dsar.DeadlineInput{
		Regulation: in.Regulation, Jurisdiction: ctrl.Jurisdiction, Location: ctrl.Location, ReceivedAt: *in.ReceivedAt,
	})
	if err != nil {
		return nil, err
	}
	row := &requestRow{
		ID: newID(), Type: string(in.Type), Status: string(dsar.StatusReceived), Controller: ctrl.Key,
		Regulation: string(in.Regulation), Language: string(in.Language), Channel: string(in.Channel),
		SubjectEmail: in.Subject.Email, SubjectName: strings.TrimSpace(in.Subject.Name),
		SubjectPhone: strings.TrimSpace(in.Subject.Phone), SubjectCustomerID: strings.TrimSpace(in.Subject.CustomerID),
		Details: in.Details, ReceivedAt: in.ReceivedAt.UTC().Truncate(time.Microsecond),
		DueDate: dl.Due.String(), Deadline: dl.At.UTC(), ExtensionNoticeBy: dl.ExtensionNoticeBy.String(),
		AcknowledgeBy: dl.AcknowledgeBy.String(), CreatedBy: actor.ID, CreatedAt: now, UpdatedAt: now,
	}
	req := row.toDomain(ctrl.Location)
	ev := &dsar.Event{RequestID: row.ID, At: now, Actor: actor.ID, Kind: dsar.EventCreated, To: dsar.StatusReceived,
		Data: map[string]string{"channel": row.Channel, "due_date": row.DueDate, "regulation": row.Regulation}}
	next := append([]*dsar.OutboxItem{mailItem(row.ID, now, dsar.MailPayload{Template: "acknowledgement", To: dsar.RecipientSubject})},
		reminderItems(req, ctrl.Location, now)...)

	// The reference is short enough to read over the phone; on the rare
	// collision, draw again.
	for attempt := 0; ; attempt++ {
		row.Reference = newReference()
		err = s.db.tx(ctx, func(tx *gorm.DB) error {
			if err := tx.Create(row).Error; err != nil {
				return err
			}
			return s.db.record(tx, ev, next)
		})
		if dsar.ErrorCode(mapErr(err)) != dsar.ECONFLICT || attempt == 3 {
			break
		}
	}
	if err != nil {
		return nil, mapErr(err)
	}
	req.Reference = row.Reference
	return req, nil
}

// Get returns the request if the actor may see it; ENOTFOUND otherwise, so
// that nobody learns of cases outside their controllers.
func (s *Requests) Get(ctx context.Context, actor dsar.Actor, id string) (*dsar.Request, error) {
	row, err := s.load(s.db.gorm.WithContext(ctx), actor, id, false)
	if err != nil {
		return nil, err
	}
	return row.toDomain(s.location(row.Controller)), nil
}

// load reads a request row visible to the actor, locking it for update when
// asked (Postgres; SQLite transactions already hold the write lock).
func (s *Requests) load(tx *gorm.DB, actor dsar.Actor, id string, forUpdate bool) (*requestRow, error) {
	q := tx
	if forUpdate && s.db.Dialect == Postgres {
		q = q.Clauses(clause.Locking{Strength: "UPDATE"})
	}
	var row requestRow
	if err := q.Where("id = ?", id).Take(&row).Error; err != nil {
		return nil, mapErr(err)
	}
	if !actor.CanSee(row.Controller) {
		return nil, &dsar.Error{Code: dsar.ENOTFOUND, Message: "error.not_found"}
	}
	return &row, nil
}

func (s *Requests) location(controller string) *time.Location {
	if c, ok := s.db.Controllers.Get(controller); ok {
		return c.Location
	}
	return time.UTC
}

// Events returns the request's audit trail, oldest first.
func (s *Requests) Events(ctx context.Context, actor dsar.Actor, id string) ([]*dsar.Event, error) {
	db := s.db.gorm.WithContext(ctx)
	if _, err := s.load(db, actor, id, false); err != nil {
		return nil, err
	}
	var rows []eventRow
	if err := db.Where("request_id = ?", id).Order("id").Find(&rows).Error; err != nil {
		return nil, mapErr(err)
	}
	out := make([]*dsar.Event, len(rows))
	for i := range rows {
		out[i] = rows[i].toDomain()
	}
	return out, nil
}

// Extend extends the deadline once, before the original deadline, with a
// reason that is recorded for the subject.
func (s *Requests) Extend(ctx context.Context, actor dsar.Actor, id, reason string) (*dsar.Request, error) {
	if err := dsar.ValidateReason("reason", reason); err != nil {
		return nil, err
	}
	return s.change(ctx, actor, id, func(_ *gorm.DB, row *requestRow, ctrl *dsar.Controller, now time.Time) (*dsar.Event, error) {
		req := row.toDomain(ctrl.Location)
		switch {
		case !req.Status.Open():
			return nil, &dsar.Error{Code: dsar.ECONFLICT, Message: "error.closed"}
		case req.Extended:
			return nil, &dsar.Error{Code: dsar.ECONFLICT, Message: "error.extend.already_extended"}
		case now.After(req.Deadline):
			return nil, &dsar.Error{Code: dsar.ECONFLICT, Message: "error.extend.past_deadline",
				Params: map[string]any{"deadline": req.DueDate.String()}}
		}
		old := row.DueDate
		row.Extended, row.ExtensionReason = true, strings.TrimSpace(reason)
		if err := recompute(row, ctrl); err != nil {
			return nil, err
		}
		return &dsar.Event{Kind: dsar.EventExtended, Reason: row.ExtensionReason,
			Data: map[string]string{"old_due_date": old, "new_due_date": row.DueDate}}, nil
	})
}

// Pause records that the controller waits for the subject's identity proof
// or clarification. The status becomes awaiting_subject; the clock stops
// only where the controller allows pausing under the request's regulation.
func (s *Requests) Pause(ctx context.Context, actor dsar.Actor, id string, reason dsar.PauseReason, note string) (*dsar.Request, error) {
	if !reason.Valid() {
		return nil, dsar.Invalid(dsar.FieldError{Field: "reason", Message: "field.enum",
			Params: map[string]any{"allowed": []string{string(dsar.PauseIdentity), string(dsar.PauseClarification)}}})
	}
	if utf8.RuneCountInString(note) > dsar.MaxReasonLength {
		return nil, dsar.Invalid(dsar.FieldError{Field: "note", Message: "field.too_long", Params: map[string]any{"max": dsar.MaxReasonLength}})
	}
	return s.change(ctx, actor, id, func(tx *gorm.DB, row *requestRow, ctrl *dsar.Controller, now time.Time) (*dsar.Event, error) {
		if row.PausedAt != nil {
			return nil, &dsar.Error{Code: dsar.ECONFLICT, Message: "error.pause.already_paused"}
		}
		if !dsar.Status(row.Status).Open() {
			return nil, &dsar.Error{Code: dsar.ECONFLICT, Message: "error.pause.closed"}
		}
		stopped := ctrl.PausesClock(dsar.Regulation(row.Regulation))
		row.PausedAt = &now
		row.Status = string(dsar.StatusAwaitingSubject)
		p := &pauseRow{RequestID: row.ID, Reason: string(reason), Note: strings.TrimSpace(note), ClockStopped: stopped, StartedAt: now}
		if err := tx.Create(p).Error; err != nil {
			return nil, err
		}
		return &dsar.Event{Kind: dsar.EventPaused, Reason: p.Note,
			Data: map[string]string{"pause_reason": string(reason), "clock_stopped": strconv.FormatBool(stopped)}}, nil
	})
}

// Resume ends the open pause: the status returns to in_progress and, when
// the clock was stopped, the deadline moves by the whole controller-local
// days paused.
func (s *Requests) Resume(ctx context.Context, actor dsar.Actor, id string) (*dsar.Request, error) {
	return s.change(ctx, actor, id, func(tx *gorm.DB, row *requestRow, ctrl *dsar.Controller, now time.Time) (*dsar.Event, error) {
		if row.PausedAt == nil {
			return nil, &dsar.Error{Code: dsar.ECONFLICT, Message: "error.pause.not_paused"}
		}
		var p pauseRow
		if err := tx.Where("request_id = ? AND ended_at IS NULL", row.ID).Order("id DESC").Take(&p).Error; err != nil {
			return nil, err
		}
		p.EndedAt = &now
		if p.ClockStopped {
			p.Days = dsar.PausedDays(p.StartedAt, now, ctrl.Location)
		}
		if err := tx.Save(&p).Error; err != nil {
			return nil, err
		}
		old := row.DueDate
		row.PausedAt = nil
		row.PausedDays += p.Days
		row.Status = string(dsar.StatusInProgress)
		if err := recompute(row, ctrl); err != nil {
			return nil, err
		}
		return &dsar.Event{Kind: dsar.EventResumed, Data: map[string]string{
			"pause_reason": p.Reason, "paused_days": strconv.Itoa(p.Days), "old_due_date": old, "new_due_date": row.DueDate}}, nil
	})
}

// mutation changes a locked request row inside a transaction and returns
// the audit event that records the change (change fills in who, when, and
// the status before and after).
type mutation func(tx *gorm.DB, row *requestRow, ctrl *dsar.Controller, now time.Time) (*dsar.Event, error)

// change is the one way a request changes after its creation. In one
// transaction it locks the row, lets m change it, checks the status
// transition against the domain's lifecycle, saves the row, re-plans the
// deadline reminders when the deadline moved or the case closed, and
// appends the audit event.
func (s *Requests) change(ctx context.Context, actor dsar.Actor, id string, m mutation) (*dsar.Request, error) {
	var out *dsar.Request
	err := s.db.tx(ctx, func(tx *gorm.DB) error {
		row, err := s.load(tx, actor, id, true)
		if err != nil {
			return err
		}
		if !actor.CanChange(row.Controller) {
			return &dsar.Error{Code: dsar.EFORBIDDEN, Message: "error.forbidden"}
		}
		ctrl, ok := s.db.Controllers.Get(row.Controller)
		if !ok {
			return dsar.Errorf(dsar.ECONFLICT, "the request's controller %q is no longer configured", row.Controller)
		}
		now := s.db.now()
		from, oldDeadline := dsar.Status(row.Status), row.Deadline
		ev, err := m(tx, row, ctrl, now)
		if err != nil {
			return err
		}
		to := dsar.Status(row.Status)
		if to != from && !dsar.CanTransition(from, to) {
			return &dsar.Error{Code: dsar.ECONFLICT, Message: "error.transition", Params: map[string]any{"from": from, "to": to}}
		}
		row.UpdatedAt = now
		if err := tx.Save(row).Error; err != nil {
			return err
		}
		out = row.toDomain(ctrl.Location)
		var next []*dsar.OutboxItem
		if !row.Deadline.Equal(oldDeadline) || (from.Open() && !to.Open()) {
			if err := cancelReminders(tx, row.ID); err != nil {
				return err
			}
			next = reminderItems(out, ctrl.Location, now)
		}
		ev.RequestID, ev.At, ev.Actor, ev.From, ev.To = row.ID, now, actor.ID, from, to
		return s.db.record(tx, ev, next)
	})
	if err != nil {
		return nil, mapErr(err)
	}
	return out, nil
}

// recompute sets the row's due date, deadline and extension-notice date
// from its receipt, extension and paused days.
func recompute(row *requestRow, ctrl *dsar.Controller) error {
	dl, err := dsar.ComputeDeadlines(dsar.DeadlineInput{
		Regulation: dsar.Regulation(row.Regulation), Jurisdiction: ctrl.Jurisdiction, Location: ctrl.Location,
		ReceivedAt: row.ReceivedAt, Extended: row.Extended, PausedDays: row.PausedDays,
	})
	if err != nil {
		return err
	}
	row.DueDate, row.Deadline, row.ExtensionNoticeBy = dl.Due.String(), dl.At.UTC(), dl.ExtensionNoticeBy.String()
	return nil
}

// record appends an audit event and writes outbox items on tx.
func (db *DB) record(tx *gorm.DB, ev *dsar.Event, next []*dsar.OutboxItem) error {
	if ev != nil {
		er, err := newEventRow(ev)
		if err != nil {
			return err
		}
		if err := tx.Create(er).Error; err != nil {
			return err
		}
	}
	if len(next) == 0 {
		return nil
	}
	now := db.now()
	rows := make([]*outboxRow, len(next))
	for i, it := range next {
		rows[i] = newOutboxRow(it, now)
	}
	return tx.Create(rows).Error
}

// cancelReminders cancels the request's reminders that have not fired yet.
func cancelReminders(tx *gorm.DB, requestID string) error {
	return tx.Model(&outboxRow{}).
		Where("request_id = ? AND kind = ? AND status = ?", requestID, string(dsar.OutboxReminder), dsar.OutboxPending).
		Update("status", dsar.OutboxCancelled).Error
}

// reminderItems returns the outbox items of the request's planned reminders.
func reminderItems(req *dsar.Request, loc *time.Location, now time.Time) []*dsar.OutboxItem {
	var out []*dsar.OutboxItem
	for _, p := range dsar.PlanReminders(req, loc, now) {
		payload, _ := json.Marshal(dsar.ReminderPayload{Reminder: p.Name, Deadline: req.Deadline.UTC()})
		out = append(out, &dsar.OutboxItem{ID: newID(), Kind: dsar.OutboxReminder, RequestID: req.ID, Payload: payload, RunAt: p.At.UTC()})
	}
	return out
}

// mailItem returns an outbox item that sends one mail about a request now.
func mailItem(requestID string, now time.Time, p dsar.MailPayload) *dsar.OutboxItem {
	payload, _ := json.Marshal(p)
	return &dsar.OutboxItem{ID: newID(), Kind: dsar.OutboxMail, RequestID: requestID, Payload: payload, RunAt: now}
}

// newID returns a time-ordered unique ID (UUIDv7), so that rows inserted
// together sit together in indexes.
func newID() string { return uuid.Must(uuid.NewV7()).String() }

// referenceAlphabet is Crockford's base 32: no I, L, O or U to misread.
const referenceAlphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

// newReference returns a short case reference like "7KQ2-M9XD" (40 random
// bits), easy to say on the phone and to type from an e-mail.
func newReference() string {
	var b [8]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	out := make([]byte, 0, 9)
	for i, c := range b {
		if i == 4 {
			out = append(out, '-')
		}
		out = append(out, referenceAlphabet[int(c)%len(referenceAlphabet)])
	}
	return string(out)
}
