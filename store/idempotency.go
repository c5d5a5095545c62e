package store

import (
	"context"
	"time"

	"gorm.io/gorm/clause"

	"github.com/dsar-project/dsar"
)

// Idempotency implements dsar.Idempotency on the database, so that a key
// holds across every serve process. A key is claimed by inserting its row,
// which only one of several racing calls can do (the primary key decides);
// expired rows are deleted by every claim and by the daily retention run
// (DB.PurgeIdempotency), and never read as live.
type Idempotency struct{ db *DB }

var _ dsar.Idempotency = (*Idempotency)(nil)

// NewIdempotency returns the Idempotency-Key records of db.
func NewIdempotency(db *DB) *Idempotency { return &Idempotency{db: db} }

// idempotencyRow is a row of idempotency_keys.
type idempotencyRow struct {
	ID          string `gorm:"primaryKey"`
	Claim       string
	RequestHash string
	Status      int
	ContentType string
	// ContentLanguage is the language of a problem's title.
	ContentLanguage string
	Location        string
	Body            []byte
	CreatedAt       time.Time
	ExpiresAt       time.Time
}

func (idempotencyRow) TableName() string { return "idempotency_keys" }

func (r *idempotencyRow) toDomain() *dsar.IdempotencyRecord {
	rec := &dsar.IdempotencyRecord{RequestHash: r.RequestHash, ExpiresAt: r.ExpiresAt}
	if r.Status != 0 {
		rec.Answer = &dsar.IdempotentAnswer{Status: r.Status, ContentType: r.ContentType, ContentLanguage: r.ContentLanguage,
			Location: r.Location, Body: r.Body}
	}
	return rec
}

// Claim implements dsar.Idempotency.
func (s *Idempotency) Claim(ctx context.Context, id, hash string) (string, *dsar.IdempotentAnswer, error) {
	g := s.db.gorm.WithContext(ctx)
	// A record that lapses between the attempts frees the key; three
	// attempts are far more than a race between claims and lapses needs.
	for range 3 {
		now := s.db.now()
		if _, err := s.db.PurgeIdempotency(ctx, now); err != nil {
			return "", nil, err
		}
		row := &idempotencyRow{ID: id, Claim: newID(), RequestHash: hash, CreatedAt: now, ExpiresAt: now.Add(dsar.IdempotencyClaimTimeout)}
		res := g.Clauses(clause.OnConflict{DoNothing: true}).Create(row)
		if res.Error != nil {
			return "", nil, mapErr(res.Error)
		}
		if res.RowsAffected == 1 {
			return row.Claim, nil, nil
		}
		var held idempotencyRow
		err := g.Where("id = ?", id).Take(&held).Error
		if dsar.ErrorCode(mapErr(err)) == dsar.ENOTFOUND {
			continue // given up since: claim it again
		}
		if err != nil {
			return "", nil, mapErr(err)
		}
		answer, free, err := held.toDomain().Replay(hash, now)
		if !free {
			return "", answer, err
		}
	}
	return "", nil, &dsar.Error{Code: dsar.ECONFLICT, Message: "error.idempotency.running"}
}

// Finish implements dsar.Idempotency. A claim that lapsed and was taken by
// another call changes nothing.
func (s *Idempotency) Finish(ctx context.Context, id, claim string, a *dsar.IdempotentAnswer) error {
	g := s.db.gorm.WithContext(ctx).Where("id = ? AND claim = ?", id, claim)
	if !a.Keep() {
		return mapErr(g.Delete(&idempotencyRow{}).Error)
	}
	return mapErr(g.Model(&idempotencyRow{}).Updates(map[string]any{
		"status": a.Status, "content_type": a.ContentType, "content_language": a.ContentLanguage, "location": a.Location, "body": a.Body,
		"expires_at": s.db.now().Add(dsar.IdempotencyTTL),
	}).Error)
}

// PurgeIdempotency deletes the records of keys that lapsed by now, with
// the answers they kept, and returns how many.
func (db *DB) PurgeIdempotency(ctx context.Context, now time.Time) (int, error) {
	res := db.gorm.WithContext(ctx).Where("expires_at <= ?", now.UTC()).Delete(&idempotencyRow{})
	return int(res.RowsAffected), mapErr(res.Error)
}
