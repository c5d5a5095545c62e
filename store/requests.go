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
		AcknowledgeBy: dl.AcknowledgeBy.String(), Kept: "[]", CreatedBy: actor.ID, CreatedAt: now, UpdatedAt: now,
	}
	req := row.toDomain(ctrl.Location)
	events := []*dsar.Event{{RequestID: row.ID, At: now, Actor: actor.ID, ClientIP: actor.IP, Kind: dsar.EventCreated, To: dsar.StatusReceived,
		Data: map[string]string{"channel": row.Channel, "due_date": row.DueDate, "regulation": row.Regulation}}}
	next := reminderItems(req, ctrl.Location, now)
	var verification *verificationRow
	if in.Verified {
		// The calling system has authenticated the subject already.
		row.Status = string(dsar.StatusInProgress)
		s.db.markVerified(row, actor.ID, strings.TrimSpace(in.VerificationMethod), now)
		next = append(next, mailItem(row.ID, now, dsar.MailPayload{Template: "acknowledgement", To: dsar.RecipientSubject}))
	} else {
		row.Status = string(dsar.StatusAwaitingVerification)
		verification = s.db.newVerification(row.ID, newID(), now)
		next = append(next, mailItem(row.ID, now, dsar.MailPayload{Template: "verification", To: dsar.RecipientSubject, VerificationID: verification.ID}))
		next = append(next, s.db.verificationSchedule(row.ID, now)...)
	}
	events = append(events, &dsar.Event{RequestID: row.ID, At: now, Actor: actor.ID, ClientIP: actor.IP, Kind: dsar.EventTransition,
		From: dsar.StatusReceived, To: dsar.Status(row.Status), Data: verifiedData(row)})

	// The reference is short enough to read over the phone; on the rare
	// collision, draw again.
	for attempt := 0; ; attempt++ {
		row.Reference = newReference()
		if s.db.Dialect == Postgres {
			err = s.db.insertIntake(ctx, row, verification, events, next)
		} else {
			err = s.db.tx(ctx, func(tx *gorm.DB) error {
				if err := tx.Raw(duplicateQuery, row.Controller, row.Type, row.SubjectEmail).Scan(&row.DuplicateOf).Error; err != nil {
					return err
				}
				if err := tx.Create(row).Error; err != nil {
					return err
				}
				if verification != nil {
					if err := tx.Create(verification).Error; err != nil {
						return err
					}
				}
				if err := s.db.record(tx, nil, next); err != nil {
					return err
				}
				return s.db.appendEvents(tx, events...)
			})
		}
		if dsar.ErrorCode(mapErr(err)) != dsar.ECONFLICT || attempt == 3 {
			break
		}
	}
	if err != nil {
		return nil, mapErr(err)
	}
	return row.toDomain(ctrl.Location), nil
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
// reason that is recorded and sent to the subject.
func (s *Requests) Extend(ctx context.Context, actor dsar.Actor, id, reason string) (*dsar.Request, error) {
	if err := dsar.ValidateReason("reason", reason); err != nil {
		return nil, err
	}
	return s.change(ctx, actor, id, func(_ *gorm.DB, row *requestRow, ctrl *dsar.Controller, now time.Time) (effect, error) {
		req := row.toDomain(ctrl.Location)
		switch {
		case !req.Status.Open():
			return effect{}, &dsar.Error{Code: dsar.ECONFLICT, Message: "error.closed"}
		case req.Extended:
			return effect{}, &dsar.Error{Code: dsar.ECONFLICT, Message: "error.extend.already_extended"}
		case now.After(req.Deadline):
			return effect{}, &dsar.Error{Code: dsar.ECONFLICT, Message: "error.extend.past_deadline",
				Params: map[string]any{"deadline": req.DueDate.String()}}
		}
		old := row.DueDate
		row.Extended, row.ExtensionReason = true, strings.TrimSpace(reason)
		if err := recompute(row, ctrl); err != nil {
			return effect{}, err
		}
		return effect{
			event: &dsar.Event{Kind: dsar.EventExtended, Reason: row.ExtensionReason,
				Data: map[string]string{"old_due_date": old, "new_due_date": row.DueDate}},
			next: []*dsar.OutboxItem{mailItem(row.ID, now, dsar.MailPayload{Template: "extension", To: dsar.RecipientSubject, OriginalDueDate: old})},
		}, nil
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
	return s.change(ctx, actor, id, func(tx *gorm.DB, row *requestRow, ctrl *dsar.Controller, now time.Time) (effect, error) {
		return pause(tx, row, ctrl, now, reason, note)
	})
}

// pause opens a pause on a locked row.
func pause(tx *gorm.DB, row *requestRow, ctrl *dsar.Controller, now time.Time, reason dsar.PauseReason, note string) (effect, error) {
	if row.PausedAt != nil {
		return effect{}, &dsar.Error{Code: dsar.ECONFLICT, Message: "error.pause.already_paused"}
	}
	if !dsar.Status(row.Status).Open() {
		return effect{}, &dsar.Error{Code: dsar.ECONFLICT, Message: "error.pause.closed"}
	}
	stopped := ctrl.PausesClock(dsar.Regulation(row.Regulation))
	row.PausedAt = &now
	row.Status = string(dsar.StatusAwaitingSubject)
	p := &pauseRow{RequestID: row.ID, Reason: string(reason), Note: strings.TrimSpace(note), ClockStopped: stopped, StartedAt: now}
	if err := tx.Create(p).Error; err != nil {
		return effect{}, err
	}
	return effect{event: &dsar.Event{Kind: dsar.EventPaused, Reason: p.Note,
		Data: map[string]string{"pause_reason": string(reason), "clock_stopped": strconv.FormatBool(stopped)}}}, nil
}

// Resume ends the open pause: the status returns to in_progress and, when
// the clock was stopped, the deadline moves by the whole controller-local
// days paused.
func (s *Requests) Resume(ctx context.Context, actor dsar.Actor, id string) (*dsar.Request, error) {
	return s.change(ctx, actor, id, resume)
}

// resume closes the open pause of a locked row.
func resume(tx *gorm.DB, row *requestRow, ctrl *dsar.Controller, now time.Time) (effect, error) {
	if row.PausedAt == nil {
		return effect{}, &dsar.Error{Code: dsar.ECONFLICT, Message: "error.pause.not_paused"}
	}
	var p pauseRow
	if err := tx.Where("request_id = ? AND ended_at IS NULL", row.ID).Order("id DESC").Take(&p).Error; err != nil {
		return effect{}, err
	}
	p.EndedAt = &now
	if p.ClockStopped {
		p.Days = dsar.PausedDays(p.StartedAt, now, ctrl.Location)
	}
	if err := tx.Save(&p).Error; err != nil {
		return effect{}, err
	}
	old := row.DueDate
	row.PausedAt = nil
	row.PausedDays += p.Days
	row.Status = string(dsar.StatusInProgress)
	if row.VerifiedAt == nil {
		row.Status = string(dsar.StatusAwaitingVerification) // the wait did not settle who the subject is
	}
	if err := recompute(row, ctrl); err != nil {
		return effect{}, err
	}
	return effect{event: &dsar.Event{Kind: dsar.EventResumed, Data: map[string]string{
		"pause_reason": p.Reason, "paused_days": strconv.Itoa(p.Days), "old_due_date": old, "new_due_date": row.DueDate}}}, nil
}

// mutation changes a locked request row inside a transaction and returns
// the audit event that records the change (change fills in who, when, and
// the status before and after) and the outbox items it causes.
type mutation func(tx *gorm.DB, row *requestRow, ctrl *dsar.Controller, now time.Time) (effect, error)

// effect is what a mutation records: its audit event and follow-up work.
type effect struct {
	event *dsar.Event
	next  []*dsar.OutboxItem
}

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
		return s.changeRow(tx, actor, row, m, &out)
	})
	if err != nil {
		return nil, mapErr(err)
	}
	return out, nil
}

// changeRow is change on a row already loaded and locked in tx, for the
// operations that find their request by something other than its ID (a
// subject's token).
func (s *Requests) changeRow(tx *gorm.DB, actor dsar.Actor, row *requestRow, m mutation, out **dsar.Request) error {
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
	switch {
	case from.Open() && !to.Open():
		row.ClosedAt = &now
	case !from.Open() && to.Open():
		row.ClosedAt = nil
	}
	row.UpdatedAt = now
	if err := tx.Save(row).Error; err != nil {
		return err
	}
	*out = row.toDomain(ctrl.Location)
	next := ev.next
	if !row.Deadline.Equal(oldDeadline) || (from.Open() && !to.Open()) {
		if err := cancelReminders(tx, row.ID); err != nil {
			return err
		}
		next = append(next, reminderItems(*out, ctrl.Location, now)...)
	}
	e := ev.event
	e.RequestID, e.At, e.Actor, e.ClientIP, e.From, e.To = row.ID, now, actor.ID, actor.IP, from, to
	return s.db.record(tx, e, next)
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

// record writes outbox items and appends an audit event (when not nil) to
// its case's audit chain on tx.
func (db *DB) record(tx *gorm.DB, ev *dsar.Event, next []*dsar.OutboxItem) error {
	if len(next) > 0 {
		now := db.now()
		rows := make([]*outboxRow, len(next))
		for i, it := range next {
			rows[i] = newOutboxRow(it, now)
		}
		if err := tx.Create(rows).Error; err != nil {
			return err
		}
	}
	if ev == nil {
		return nil
	}
	return db.appendEvents(tx, ev)
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
