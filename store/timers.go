package store

import (
	"context"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/dsar-project/dsar"
)

// timerBatch is how many cases one planning transaction takes.
const timerBatch = 500

// PlanTimers writes the outbox items of the cases' timers that are due by
// now (dsar.DueTimers) and records each case's next wake-up, in batches
// until no case is due or budget has passed. A timer planned twice is
// written once (its item's ID derives from the case, the timer and its
// moment), so any number of workers may plan at once. It returns how many
// items it wrote.
func (db *DB) PlanTimers(ctx context.Context, now time.Time, budget time.Duration) (int, error) {
	start, total := time.Now(), 0
	for {
		n, cases, err := db.planTimerBatch(ctx, now)
		total += n
		if err != nil || cases < timerBatch || time.Since(start) > budget {
			return total, mapErr(err)
		}
	}
}

// planTimerBatch plans the timers of one batch of due cases and returns how
// many items it wrote and how many cases it took.
func (db *DB) planTimerBatch(ctx context.Context, now time.Time) (written, cases int, err error) {
	now = now.UTC().Truncate(time.Microsecond)
	err = db.tx(ctx, func(tx *gorm.DB) error {
		q := tx.Where("wake_at <= ?", now).Order("wake_at").Limit(timerBatch)
		if db.Dialect == Postgres {
			q = q.Clauses(clause.Locking{Strength: "UPDATE", Options: "SKIP LOCKED"})
		}
		var rows []requestRow
		if err := q.Find(&rows).Error; err != nil {
			return err
		}
		cases = len(rows)
		for i := range rows {
			row := &rows[i]
			items, next := dsar.DueTimers(row.toDomain(db.location(row.Controller)), db.policy(), now)
			if len(items) > 0 {
				out := make([]*outboxRow, len(items))
				for j, it := range items {
					out[j] = newOutboxRow(it, now)
				}
				res := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(out)
				if res.Error != nil {
					return res.Error
				}
				written += int(res.RowsAffected)
			}
			if next != nil {
				u := next.UTC()
				next = &u
			}
			if err := tx.Model(&requestRow{}).Where("id = ?", row.ID).Update("wake_at", next).Error; err != nil {
				return err
			}
		}
		return nil
	})
	return written, cases, err
}

// location returns the time zone of a controller, UTC for one no longer
// configured.
func (db *DB) location(controller string) *time.Location {
	if c, ok := db.Controllers.Get(controller); ok {
		return c.Location
	}
	return time.UTC
}
