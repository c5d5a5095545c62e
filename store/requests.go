package store

import (
	"context"
	"crypto/rand"
	"slices"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/dsar-project/dsar"
)

// Requests implements dsar.RequestService on the database.
type Requests struct{ db *DB }

var _ dsar.RequestService = (*Requests)(nil)

// NewRequests returns the request service of db.
func NewRequests(db *DB) *Requests { return &Requests{db: db} }

// Create validates the submission and writes the case its intake decides
// (dsar.NewCase): the request, its first audit events, its verification and
// its outbox items, in one transaction.
func (s *Requests) Create(ctx context.Context, actor dsar.Actor, in dsar.NewRequest) (*dsar.Request, error) {
	eff, err := dsar.NewCase(s.db.env(), in, actor, s.db.Controllers)
	if err != nil {
		return nil, err
	}
	req := eff.Request
	row, verification := s.db.newCaseRows(eff)
	err = writeNewCase(row, func() error {
		if s.db.Dialect == Postgres {
			// The one statement of the intake writes the webhook events
			// and their deliveries too.
			hooks, deliveries, herr := s.db.webhooksOf(s.db.gorm.WithContext(ctx), row.toDomain(req.ReceivedAt.Location()), eff.Events)
			if herr != nil {
				return herr
			}
			return s.db.insertIntake(ctx, row, verification, eff.Events, hooks, append(slices.Clip(eff.Outbox), deliveries...))
		}
		return s.db.tx(ctx, func(tx *gorm.DB) error { return s.db.insertCase(tx, row, verification, eff) })
	})
	if err != nil {
		return nil, mapErr(err)
	}
	return row.toDomain(req.ReceivedAt.Location()), nil
}

// newCaseRows returns the row of a new case (dsar.NewCase's effect), with
// its status page open when it arrived verified, and its verification when
// it has one.
func (db *DB) newCaseRows(eff *dsar.Effect) (*requestRow, *verificationRow) {
	req := eff.Request
	row := &requestRow{ID: req.ID}
	row.set(req)
	if req.VerifiedAt != nil {
		h := dsar.HashSecret(db.StatusToken(row.ID))
		row.StatusTokenHash = &h
	}
	var verification *verificationRow
	if eff.NewVerification != "" {
		verification = db.newVerification(row.ID, eff.NewVerification, req.CreatedAt)
	}
	return row, verification
}

// writeNewCase draws the new case's reference and runs write. The
// reference is short enough to read over the phone; on the rare collision
// (write fails with ECONFLICT) it draws again, four times at most.
func writeNewCase(row *requestRow, write func() error) error {
	for attempt := 0; ; attempt++ {
		row.Reference = newReference()
		err := write()
		if dsar.ErrorCode(mapErr(err)) != dsar.ECONFLICT || attempt == 3 {
			return err
		}
	}
}

// insertCase writes a new case on tx: its row (linked to the open case it
// likely duplicates), its verification when it has one, its audit events
// and its outbox items.
func (db *DB) insertCase(tx *gorm.DB, row *requestRow, verification *verificationRow, eff *dsar.Effect) error {
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
	return db.record(tx, nil, eff.Events, eff.Outbox)
}

// Get returns the request if the actor may see it; ENOTFOUND otherwise, so
// that nobody learns of cases outside their controllers.
func (s *Requests) Get(ctx context.Context, actor dsar.Actor, id string) (*dsar.Request, error) {
	db := s.db.gorm.WithContext(ctx)
	row, err := s.load(db, actor, id, false)
	if err != nil {
		return nil, err
	}
	r := row.toDomain(s.location(row.Controller))
	if r.CopiesGiven, err = copiesGiven(db, row); err != nil {
		return nil, mapErr(err)
	}
	return r, mapErr(s.db.withProgress(db, r))
}

// Visible implements dsar.RequestService: one column of one row.
func (s *Requests) Visible(ctx context.Context, actor dsar.Actor, id string) error {
	var row requestRow
	if err := s.db.gorm.WithContext(ctx).Select("controller").Where("id = ?", id).Take(&row).Error; err != nil {
		return mapErr(err)
	}
	return actor.SeeCase(row.Controller)
}

// load reads a request row visible to the actor, locking it for update when
// asked (Postgres; SQLite transactions already hold the write lock).
func (s *Requests) load(tx *gorm.DB, actor dsar.Actor, id string, forUpdate bool) (*requestRow, error) {
	q := tx
	if forUpdate {
		q = s.db.forUpdate(q)
	}
	var row requestRow
	if err := q.Where("id = ?", id).Take(&row).Error; err != nil {
		return nil, mapErr(err)
	}
	if err := actor.SeeCase(row.Controller); err != nil {
		return nil, err
	}
	return &row, nil
}

func (s *Requests) location(controller string) *time.Location { return s.db.location(controller) }

// Events returns the request's audit trail, oldest first.
func (s *Requests) Events(ctx context.Context, actor dsar.Actor, id string) ([]*dsar.Event, error) {
	db := s.db.gorm.WithContext(ctx)
	if _, err := s.load(db, actor, id, false); err != nil {
		return nil, err
	}
	return s.events(db, id)
}

// events returns a case's audit trail, oldest first.
func (s *Requests) events(db *gorm.DB, id string) ([]*dsar.Event, error) {
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

// Extend implements dsar.RequestService (dsar.Extend).
func (s *Requests) Extend(ctx context.Context, actor dsar.Actor, id, reason string) (*dsar.Request, error) {
	return s.change(ctx, actor, id, func(env dsar.Env, c *dsar.Case) (*dsar.Effect, error) {
		return dsar.Extend(env, c, actor, reason)
	})
}

// Pause implements dsar.RequestService (dsar.Pause).
func (s *Requests) Pause(ctx context.Context, actor dsar.Actor, id string, reason dsar.PauseReason, note string) (*dsar.Request, error) {
	return s.change(ctx, actor, id, func(env dsar.Env, c *dsar.Case) (*dsar.Effect, error) {
		return dsar.Pause(env, c, actor, reason, note)
	})
}

// Resume implements dsar.RequestService (dsar.Resume).
func (s *Requests) Resume(ctx context.Context, actor dsar.Actor, id string) (*dsar.Request, error) {
	return s.change(ctx, actor, id, func(env dsar.Env, c *dsar.Case) (*dsar.Effect, error) {
		return dsar.Resume(env, c, actor)
	})
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
