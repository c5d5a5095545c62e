package store

import (
	"context"
	"encoding/json"
	"slices"

	"gorm.io/gorm"

	"github.com/dsar-project/dsar"
)

// operation is a case operation of the domain, bound to its input: given
// the environment and the case, it returns what must happen.
type operation func(env dsar.Env, c *dsar.Case) (*dsar.Effect, error)

// env returns the environment of a case operation now.
func (db *DB) env() dsar.Env {
	return dsar.Env{Now: db.now(), NewID: newID, Policy: db.policy()}
}

// loadCase returns the case of a locked row with the facts its operations
// decide on: its controller, its open pause, and for an access request the
// copies already given to the same subject.
func (db *DB) loadCase(tx *gorm.DB, row *requestRow) (*dsar.Case, error) {
	ctrl, ok := db.Controllers.Get(row.Controller)
	if !ok {
		return nil, dsar.Errorf(dsar.ECONFLICT, "the request's controller %q is no longer configured", row.Controller)
	}
	c := &dsar.Case{Request: row.toDomain(ctrl.Location), Controller: ctrl}
	if row.PausedAt != nil {
		var p pauseRow
		if err := tx.Where("request_id = ? AND ended_at IS NULL", row.ID).Order("id DESC").Take(&p).Error; err != nil {
			return nil, err
		}
		c.Pause = &dsar.PausePeriod{Reason: dsar.PauseReason(p.Reason), Note: p.Note, ClockStopped: p.ClockStopped, StartedAt: p.StartedAt}
	}
	var err error
	if c.CopiesGiven, err = copiesGiven(tx, row); err != nil {
		return nil, err
	}
	tasks, err := caseTasks(tx, row.ID, ctrl.Location)
	if err != nil {
		return nil, err
	}
	c.Tasks = tasks
	if dsar.GivesResults(c.Request.Type) && row.TasksEnded { // records are redacted only once the tasks have ended
		if c.Redactions, err = redactionCount(tx, row.ID); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// copiesGiven counts the answered access requests of the subject of an
// access request to the same controller, other than this one (0 for
// other types).
func copiesGiven(tx *gorm.DB, row *requestRow) (int, error) {
	if row.Type != string(dsar.TypeAccess) {
		return 0, nil
	}
	var n int64
	err := tx.Model(&requestRow{}).Where("controller = ? AND type = ? AND lower(subject_email) = lower(?) AND status = ? AND id <> ?",
		row.Controller, row.Type, row.SubjectEmail, dsar.StatusCompleted, row.ID).Count(&n).Error
	return int(n), err
}

// run loads the case of a locked row, runs the operation on it and writes
// its effect, all in tx.
func (db *DB) run(tx *gorm.DB, row *requestRow, op operation) (*dsar.Request, error) {
	c, err := db.loadCase(tx, row)
	if err != nil {
		return nil, err
	}
	eff, err := op(db.env(), c)
	if err != nil {
		return nil, err
	}
	if err := db.apply(tx, row, eff); err != nil {
		return nil, err
	}
	// The answer shows the case as Get does: its copies given and its
	// tasks' progress, counted from the tasks the effect leaves (no query),
	// or read again in tx when the effect changed more than it says.
	out := row.toDomain(c.Controller.Location)
	out.CopiesGiven = c.CopiesGiven
	if next, ok := c.Follow(eff); ok {
		out.Progress = dsar.ProgressOf(next.Tasks, db.now())
	} else if err := db.withProgress(tx, out); err != nil {
		return nil, err
	}
	return out, nil
}

// apply writes an effect of a case operation on its locked row in tx. It
// decides nothing: every row it writes, updates or cancels is named by the
// effect.
func (db *DB) apply(tx *gorm.DB, row *requestRow, eff *dsar.Effect) error {
	var chained []*eventRow
	if eff.Request != nil {
		row.set(eff.Request)
		if row.VerifiedAt != nil && row.StatusTokenHash == nil {
			h := dsar.HashSecret(db.StatusToken(row.ID)) // the status page opens with the verification
			row.StatusTokenHash = &h
		}
		// The events are linked now, so that this save writes the chain's
		// new end: no second update of the row for it.
		var err error
		if chained, err = chainOnRow(row, eff.Events); err != nil {
			return err
		}
		if err := tx.Save(row).Error; err != nil {
			return err
		}
	}
	for _, m := range eff.Messages {
		if err := tx.Create(&messageRow{ID: m.ID, RequestID: m.RequestID, FromSubject: m.FromSubject, Kind: string(m.Kind),
			Author: m.Author, Body: m.Body, CreatedAt: m.CreatedAt}).Error; err != nil {
			return err
		}
	}
	if d := eff.Document; d != nil {
		r := &documentRow{ID: d.ID, RequestID: row.ID, FileName: d.FileName, ContentType: d.ContentType, CreatedAt: d.CreatedAt}
		r.Sealed = db.Keyring.Seal(d.Data, []byte(r.ID))
		if err := tx.Create(r).Error; err != nil {
			return err
		}
	}
	if p := eff.OpenPause; p != nil {
		if err := tx.Create(&pauseRow{RequestID: row.ID, Reason: string(p.Reason), Note: p.Note, ClockStopped: p.ClockStopped, StartedAt: p.StartedAt}).Error; err != nil {
			return err
		}
	}
	if p := eff.EndPause; p != nil {
		if err := tx.Model(&pauseRow{}).Where("request_id = ? AND ended_at IS NULL", row.ID).
			Updates(map[string]any{"ended_at": p.EndedAt, "days": p.Days}).Error; err != nil {
			return err
		}
	}
	if err := cancelPending(tx, row.ID, eff.CancelKinds, eff.CancelMails); err != nil {
		return err
	}
	if err := db.applyVerification(tx, row.ID, eff); err != nil {
		return err
	}
	if err := db.applyTasks(tx, row, eff); err != nil {
		return err
	}
	if err := db.applyResults(tx, row.ID, eff); err != nil {
		return err
	}
	if eff.DeleteDocuments {
		if err := tx.Where("request_id = ?", row.ID).Delete(&documentRow{}).Error; err != nil {
			return err
		}
	}
	return db.recordChained(tx, row, eff.Events, chained, eff.Outbox)
}

// applyVerification writes what an effect does to the case's
// verifications.
func (db *DB) applyVerification(tx *gorm.DB, requestID string, eff *dsar.Effect) error {
	now := db.now()
	if eff.UseVerification != "" {
		if err := tx.Model(&verificationRow{}).Where("id = ?", eff.UseVerification).
			Updates(map[string]any{"status": verificationUsed, "used_at": now}).Error; err != nil {
			return err
		}
	}
	if eff.EndVerifications {
		if err := tx.Model(&verificationRow{}).Where("request_id = ? AND status = ?", requestID, verificationActive).
			Update("status", verificationSuperseded).Error; err != nil {
			return err
		}
	}
	if eff.NewVerification == "" {
		return nil
	}
	if err := tx.Model(&verificationRow{}).Where("request_id = ? AND status IN ?", requestID, []string{verificationActive, verificationLocked}).
		Update("status", verificationSuperseded).Error; err != nil {
		return err
	}
	return tx.Create(db.newVerification(requestID, eff.NewVerification, now)).Error
}

// cancelPending cancels the case's pending outbox items of the given kinds
// and its pending mails made from the given templates.
func cancelPending(tx *gorm.DB, requestID string, kinds []dsar.OutboxKind, mails []dsar.MailTemplate) error {
	if len(kinds) > 0 {
		if err := tx.Model(&outboxRow{}).Where("request_id = ? AND kind IN ? AND status = ?", requestID, kinds, dsar.OutboxPending).
			Update("status", dsar.OutboxCancelled).Error; err != nil {
			return err
		}
	}
	if len(mails) == 0 {
		return nil
	}
	var rows []outboxRow
	if err := tx.Where("request_id = ? AND kind = ? AND status = ?", requestID, dsar.OutboxMail, dsar.OutboxPending).Find(&rows).Error; err != nil {
		return err
	}
	var ids []string
	for _, r := range rows {
		var p dsar.MailPayload
		if json.Unmarshal([]byte(r.Payload), &p) == nil && slices.Contains(mails, p.Template) {
			ids = append(ids, r.ID)
		}
	}
	if len(ids) == 0 {
		return nil
	}
	return tx.Model(&outboxRow{}).Where("id IN ?", ids).Update("status", dsar.OutboxCancelled).Error
}

// change runs an officer's operation on the case of id, in one
// transaction, as the actor (who must see the case: ENOTFOUND otherwise,
// so that nobody learns of cases outside their controllers).
func (s *Requests) change(ctx context.Context, actor dsar.Actor, id string, op operation) (*dsar.Request, error) {
	return s.db.runLocked(ctx, func(tx *gorm.DB) (*requestRow, error) { return s.load(tx, actor, id, true) }, op)
}

// runLocked runs a case operation in one transaction on the row that find
// locks, and writes its effect.
func (db *DB) runLocked(ctx context.Context, find func(tx *gorm.DB) (*requestRow, error), op operation) (*dsar.Request, error) {
	var out *dsar.Request
	err := db.tx(ctx, func(tx *gorm.DB) error {
		row, err := find(tx)
		if err != nil {
			return err
		}
		out, err = db.run(tx, row, op)
		return err
	})
	if err != nil {
		return nil, mapErr(err)
	}
	return out, nil
}

// record writes outbox items and appends audit events to their case's
// audit chain on tx, with the webhook events they make and their
// deliveries.
func (db *DB) record(tx *gorm.DB, row *requestRow, events []*dsar.Event, next []*dsar.OutboxItem) error {
	return db.recordChained(tx, row, events, nil, next)
}

// recordChained is record with the events' rows already linked on the
// case's row (chainOnRow) when chained is not nil: they are inserted
// without moving the chain's end again.
func (db *DB) recordChained(tx *gorm.DB, row *requestRow, events []*dsar.Event, chained []*eventRow, next []*dsar.OutboxItem) error {
	if err := db.insertOutbox(tx, next); err != nil {
		return err
	}
	if len(events) == 0 {
		return nil
	}
	if chained != nil {
		if err := tx.Create(chained).Error; err != nil {
			return err
		}
	} else if err := db.appendEvents(tx, row, events...); err != nil {
		return err
	}
	if err := db.recordWebhooks(tx, row, events); err != nil {
		return err
	}
	return db.recordOpenDSR(tx, row, events)
}

// insertOutbox writes outbox items on tx.
func (db *DB) insertOutbox(tx *gorm.DB, next []*dsar.OutboxItem) error {
	if len(next) == 0 {
		return nil
	}
	now := db.now()
	rows := make([]*outboxRow, len(next))
	for i, it := range next {
		rows[i] = newOutboxRow(it, now)
	}
	// In batches: one statement of a redelivery's thousands of rows would
	// pass PostgreSQL's 65,535 parameters.
	return tx.CreateInBatches(rows, insertBatch).Error
}

// Actions implements dsar.CaseService: what the actor may do to the case
// now, by the domain's rules.
func (s *Requests) Actions(ctx context.Context, actor dsar.Actor, id string) ([]dsar.Action, error) {
	db := s.db.gorm.WithContext(ctx)
	row, err := s.load(db, actor, id, false)
	if err != nil {
		return nil, err
	}
	c, err := s.db.loadCase(db, row)
	if err != nil {
		return nil, mapErr(err)
	}
	return dsar.Actions(c, actor, s.db.now()), nil
}
