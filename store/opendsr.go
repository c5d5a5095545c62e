package store

import (
	"context"
	"errors"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/dsar-project/dsar"
)

// openDSRRow is a request an OpenDSR client posted (dsar.OpenDSRIntake).
type openDSRRow struct {
	ID           string `gorm:"primaryKey"`
	RequestID    string
	Controller   string
	CallbackURLs string `gorm:"column:callback_urls"` // one per line
	Status       string
	APIVersion   string `gorm:"column:api_version"`
	CreatedBy    string
	CreatedAt    time.Time
}

func (openDSRRow) TableName() string { return "opendsr_requests" }

func (r *openDSRRow) toDomain() *dsar.OpenDSRIntake {
	return &dsar.OpenDSRIntake{ID: r.ID, RequestID: r.RequestID, Controller: r.Controller, CallbackURLs: strings.Fields(r.CallbackURLs),
		Status: r.Status, APIVersion: r.APIVersion, CreatedBy: r.CreatedBy, CreatedAt: r.CreatedAt.UTC()}
}

// OpenDSR implements dsar.OpenDSRService on the database.
type OpenDSR struct{ db *DB }

var _ dsar.OpenDSRService = (*OpenDSR)(nil)

// NewOpenDSR returns the OpenDSR intake of db.
func NewOpenDSR(db *DB) *OpenDSR { return &OpenDSR{db: db} }

// Submit implements dsar.OpenDSRService: the case (dsar.NewCase) and its
// intake record in one transaction. Of two calls that race with one ID,
// the second's transaction fails on the record's key, and it answers with
// the first's.
func (o *OpenDSR) Submit(ctx context.Context, actor dsar.Actor, r *dsar.OpenDSRRequest, domain string) (*dsar.OpenDSRIntake, *dsar.Request, bool, error) {
	env := o.db.env()
	in, intake, err := r.Intake(actor, domain, env.Now)
	if err != nil {
		return nil, nil, false, err
	}
	if got, req, err := o.existing(ctx, actor, intake.ID); err == nil || dsar.ErrorCode(err) != dsar.ENOTFOUND {
		return got, req, false, err
	}
	eff, err := dsar.NewCase(env, in, actor, o.db.Controllers)
	if err != nil {
		return nil, nil, false, dsar.OpenDSRInvalid(err)
	}
	req := eff.Request
	intake.RequestID, intake.Controller, intake.Status = req.ID, req.Controller, dsar.OpenDSRStatusOf(req)
	row, verification := o.db.newCaseRows(eff)
	record := &openDSRRow{ID: intake.ID, RequestID: req.ID, Controller: req.Controller, CallbackURLs: strings.Join(intake.CallbackURLs, "\n"),
		Status: intake.Status, APIVersion: intake.APIVersion, CreatedBy: intake.CreatedBy, CreatedAt: intake.CreatedAt}
	err = writeNewCase(row, func() error {
		return o.db.tx(ctx, func(tx *gorm.DB) error {
			if err := o.db.insertCase(tx, row, verification, eff); err != nil {
				return err
			}
			err := tx.Create(record).Error
			if dsar.ErrorCode(mapErr(err)) == dsar.ECONFLICT {
				return errOpenDSRTaken
			}
			return err
		})
	})
	if errors.Is(err, errOpenDSRTaken) {
		// Another call took the ID meanwhile: its case is the one.
		got, req, err := o.existing(ctx, actor, intake.ID)
		return got, req, false, err
	}
	if err != nil {
		return nil, nil, false, mapErr(err)
	}
	return intake, row.toDomain(req.ReceivedAt.Location()), true, nil
}

// errOpenDSRTaken is the failure to record an intake whose ID is taken.
var errOpenDSRTaken = errors.New("the subject_request_id is taken")

// existing returns the intake of the ID and its case: ENOTFOUND when there
// is none, an EINVALID error when the case is of a controller the actor
// may not see (another client's ID).
func (o *OpenDSR) existing(ctx context.Context, actor dsar.Actor, id string) (*dsar.OpenDSRIntake, *dsar.Request, error) {
	in, req, err := o.get(ctx, actor, id)
	if dsar.ErrorCode(err) == dsar.EFORBIDDEN {
		return nil, nil, dsar.Invalid(dsar.FieldError{Field: "subject_request_id", Message: "field.opendsr_id_taken"})
	}
	return in, req, err
}

// get returns the intake of the ID and its case; EFORBIDDEN when the actor
// may not see its controller.
func (o *OpenDSR) get(ctx context.Context, actor dsar.Actor, id string) (*dsar.OpenDSRIntake, *dsar.Request, error) {
	var r openDSRRow
	if err := o.db.gorm.WithContext(ctx).Where("id = ?", strings.ToLower(id)).Take(&r).Error; err != nil {
		return nil, nil, mapErr(err)
	}
	if !actor.CanSee(r.Controller) {
		return nil, nil, &dsar.Error{Code: dsar.EFORBIDDEN, Message: "error.forbidden"}
	}
	req, err := NewRequests(o.db).Get(ctx, actor, r.RequestID)
	if err != nil {
		return nil, nil, err
	}
	return r.toDomain(), req, nil
}

// Get implements dsar.OpenDSRService.
func (o *OpenDSR) Get(ctx context.Context, actor dsar.Actor, id string) (*dsar.OpenDSRIntake, *dsar.Request, error) {
	in, req, err := o.get(ctx, actor, id)
	if dsar.ErrorCode(err) == dsar.EFORBIDDEN {
		return nil, nil, &dsar.Error{Code: dsar.ENOTFOUND, Message: "error.not_found"} // as if it did not exist
	}
	return in, req, err
}

// Cancel implements dsar.OpenDSRService (dsar.CancelOpenDSR).
func (o *OpenDSR) Cancel(ctx context.Context, actor dsar.Actor, id string) (*dsar.OpenDSRIntake, *dsar.Request, error) {
	in, _, err := o.Get(ctx, actor, id)
	if err != nil {
		return nil, nil, err
	}
	req, err := o.db.runLocked(ctx, func(tx *gorm.DB) (*requestRow, error) {
		var row requestRow
		return &row, o.db.forUpdate(tx).Where("id = ?", in.RequestID).Take(&row).Error
	}, func(env dsar.Env, c *dsar.Case) (*dsar.Effect, error) { return dsar.CancelOpenDSR(env, c, actor) })
	if err != nil {
		return nil, nil, err
	}
	return in, req, nil
}

// recordOpenDSR writes the status callbacks a case's audit events make
// when the case came from an OpenDSR client (dsar.OpenDSRCallbacks), and
// the status they report, in the transaction that writes the events. row
// is the case's locked row, or nil to read it.
func (db *DB) recordOpenDSR(tx *gorm.DB, row *requestRow, events []*dsar.Event) error {
	if !dsar.MayChangeOpenDSRStatus(events) {
		return nil
	}
	var r openDSRRow
	err := tx.Where("request_id = ?", events[0].RequestID).Take(&r).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if row == nil || row.ID != r.RequestID {
		row = &requestRow{}
		if err := tx.Where("id = ?", r.RequestID).Take(row).Error; err != nil {
			return err
		}
	}
	status, items := dsar.OpenDSRCallbacks(db.env(), r.toDomain(), row.toDomain(db.location(row.Controller)))
	if status == "" {
		return nil
	}
	if err := tx.Model(&openDSRRow{}).Where("id = ?", r.ID).Update("status", status).Error; err != nil {
		return err
	}
	return db.record(tx, row, nil, items)
}
