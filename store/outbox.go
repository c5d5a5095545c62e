package store

import (
	"context"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/dsar-project/dsar"
)

// Outbox implements dsar.OutboxService on the database.
type Outbox struct{ db *DB }

var _ dsar.OutboxService = (*Outbox)(nil)

// NewOutbox returns the outbox of db.
func NewOutbox(db *DB) *Outbox { return &Outbox{db: db} }

func toItems(rows []outboxRow) []*dsar.OutboxItem {
	out := make([]*dsar.OutboxItem, len(rows))
	for i := range rows {
		out[i] = rows[i].toDomain()
	}
	return out
}

// Due returns pending items whose time has come and that were never queued,
// oldest first.
func (o *Outbox) Due(ctx context.Context, now time.Time, limit int) ([]*dsar.OutboxItem, error) {
	var rows []outboxRow
	err := o.db.gorm.WithContext(ctx).
		Where("status = ? AND enqueued_at IS NULL AND run_at <= ?", dsar.OutboxPending, now.UTC()).
		Order("run_at").Limit(limit).Find(&rows).Error
	return toItems(rows), mapErr(err)
}

// Stale returns the pending items queued before queuedBefore, and the
// running items whose lease expired and that were not queued again since
// it did, oldest first.
func (o *Outbox) Stale(ctx context.Context, now, queuedBefore time.Time, limit int) ([]*dsar.OutboxItem, error) {
	var rows []outboxRow
	err := o.db.gorm.WithContext(ctx).
		Where("status IN ? AND ((status = ? AND enqueued_at < ?) OR (status = ? AND lease_until < ? AND (enqueued_at IS NULL OR enqueued_at < lease_until)))",
			[]string{dsar.OutboxPending, dsar.OutboxRunning}, dsar.OutboxPending, queuedBefore.UTC(), dsar.OutboxRunning, now.UTC()).
		Order("enqueued_at").Limit(limit).Find(&rows).Error
	return toItems(rows), mapErr(err)
}

// MarkEnqueued records when the items went into the queue.
func (o *Outbox) MarkEnqueued(ctx context.Context, ids []string, at time.Time) error {
	if len(ids) == 0 {
		return nil
	}
	return mapErr(o.db.gorm.WithContext(ctx).Model(&outboxRow{}).Where("id IN ?", ids).
		Update("enqueued_at", at.UTC()).Error)
}

// Claim takes the lease on the item when it is pending, or running with an
// expired lease (its worker died). The conditional update makes the claim
// atomic: of two workers holding the same task, one wins.
func (o *Outbox) Claim(ctx context.Context, id string, now time.Time, lease time.Duration) (*dsar.OutboxItem, bool, error) {
	now = now.UTC()
	var rows []outboxRow
	res := o.db.gorm.WithContext(ctx).Model(&rows).Clauses(clause.Returning{}).
		Where("id = ? AND (status = ? OR (status = ? AND lease_until < ?))", id, dsar.OutboxPending, dsar.OutboxRunning, now).
		Updates(map[string]any{"status": dsar.OutboxRunning, "lease_until": now.Add(lease), "attempts": gorm.Expr("attempts + 1")})
	if res.Error != nil {
		return nil, false, mapErr(res.Error)
	}
	if len(rows) == 1 {
		return rows[0].toDomain(), true, nil
	}
	// Not claimable: say why (done, cancelled, leased) or that it is gone.
	var row outboxRow
	if err := o.db.gorm.WithContext(ctx).Where("id = ?", id).Take(&row).Error; err != nil {
		return nil, false, mapErr(err)
	}
	return row.toDomain(), false, nil
}

// held selects the item while the claim holds it: running, with no claim
// counted since.
func held(tx *gorm.DB, it *dsar.OutboxItem) *gorm.DB {
	return tx.Model(&outboxRow{}).Where("id = ? AND status = ? AND attempts = ?", it.ID, dsar.OutboxRunning, it.Attempts)
}

// Renew extends the claimed item's lease while the claim holds it.
func (o *Outbox) Renew(ctx context.Context, claimed *dsar.OutboxItem, now time.Time, lease time.Duration) (bool, error) {
	res := held(o.db.gorm.WithContext(ctx), claimed).Update("lease_until", now.UTC().Add(lease))
	return res.RowsAffected == 1, mapErr(res.Error)
}

// Release gives a claimed item back after a failed attempt, or marks it
// failed for good. An item the claim no longer holds is left alone.
func (o *Outbox) Release(ctx context.Context, claimed *dsar.OutboxItem, errMsg string, final bool) error {
	status := dsar.OutboxPending
	if final {
		status = dsar.OutboxFailed
	}
	if len(errMsg) > 1000 {
		errMsg = errMsg[:1000]
	}
	return mapErr(held(o.db.gorm.WithContext(ctx), claimed).
		Updates(map[string]any{"status": status, "lease_until": nil, "last_error": errMsg}).Error)
}

// Complete marks the claimed item done, appends its audit event and writes
// its follow-up items, in one transaction. An item the claim no longer
// holds (another worker took it over) is left alone: ECONFLICT.
func (o *Outbox) Complete(ctx context.Context, claimed *dsar.OutboxItem, now time.Time, ev *dsar.Event, next []*dsar.OutboxItem) error {
	return mapErr(o.db.tx(ctx, func(tx *gorm.DB) error {
		if err := finish(tx, claimed, dsar.OutboxDone, now); err != nil {
			return err
		}
		var evs []*dsar.Event
		if ev != nil {
			evs = append(evs, ev)
		}
		return o.db.record(tx, nil, evs, next)
	}))
}

// Cancel marks the claimed item cancelled.
func (o *Outbox) Cancel(ctx context.Context, claimed *dsar.OutboxItem, now time.Time) error {
	return mapErr(o.db.tx(ctx, func(tx *gorm.DB) error { return finish(tx, claimed, dsar.OutboxCancelled, now) }))
}

func finish(tx *gorm.DB, claimed *dsar.OutboxItem, status string, now time.Time) error {
	res := held(tx, claimed).Updates(map[string]any{"status": status, "done_at": now.UTC(), "lease_until": nil, "last_error": ""})
	if res.Error != nil {
		return res.Error
	}
	if res.RowsAffected != 1 {
		return dsar.Errorf(dsar.ECONFLICT, "outbox item %s is not held by this worker", claimed.ID)
	}
	return nil
}

// insertBatch is the most rows one INSERT writes: far under PostgreSQL's
// 65,535 parameters a statement (and SQLite's 32,766) for the widest rows.
const insertBatch = 500

// Count returns the number of items per status.
func (o *Outbox) Count(ctx context.Context) (map[string]int, error) {
	var rows []struct {
		Status string
		N      int
	}
	err := o.db.gorm.WithContext(ctx).Model(&outboxRow{}).Select("status, count(*) AS n").Group("status").Scan(&rows).Error
	out := make(map[string]int, len(rows))
	for _, r := range rows {
		out[r.Status] = r.N
	}
	return out, mapErr(err)
}
