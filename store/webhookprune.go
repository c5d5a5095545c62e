package store

import (
	"context"
	"encoding/json"
	"time"

	"gorm.io/gorm"

	"github.com/dsar-project/dsar"
)

// WebhookPruneBatch is how many events one transaction of the webhook
// pruning looks at.
const WebhookPruneBatch = 500

// PruneWebhooks deletes the webhook events that the domain lets go at now
// (dsar.WebhookPrunable: older than the redelivery window, no delivery
// pending) with their delivery log, oldest first, up to batch events a
// transaction (WebhookPruneBatch when batch is 0), and returns how many
// events went. The events still being delivered stay, and are looked at
// again by the next run. Between two transactions it asks stop (which may
// be nil): when stop says so, it returns with more set, for a later call
// to go on.
func (db *DB) PruneWebhooks(ctx context.Context, now time.Time, batch int, stop func() bool) (deleted int, more bool, err error) {
	if batch <= 0 {
		batch = WebhookPruneBatch
	}
	before := dsar.WebhookPruneBefore(now).UTC()
	kept := 0
	for {
		if deleted+kept > 0 && stop != nil && stop() {
			return deleted, true, nil
		}
		var n, seen int
		err := db.tx(ctx, func(tx *gorm.DB) error {
			// The kept events stay at the front of the order, the deleted
			// ones are gone: skipping the kept ones reaches the next batch.
			var rows []webhookEventRow
			if err := tx.Select("id, at").Where("at < ?", before).Order("at, id").Offset(kept).Limit(batch).Find(&rows).Error; err != nil {
				return err
			}
			seen = len(rows)
			if seen == 0 {
				return nil
			}
			pending, err := pendingWebhookEvents(tx)
			if err != nil {
				return err
			}
			var ids []string
			for _, r := range rows {
				if dsar.WebhookPrunable(r.At, now, pending[r.ID]) {
					ids = append(ids, r.ID)
				}
			}
			kept += seen - len(ids)
			if len(ids) == 0 {
				return nil
			}
			if err := tx.Where("event_id IN ?", ids).Delete(&webhookAttemptRow{}).Error; err != nil {
				return err
			}
			res := tx.Where("id IN ?", ids).Delete(&webhookEventRow{})
			n = int(res.RowsAffected)
			return res.Error
		})
		if err != nil {
			return deleted, false, mapErr(err)
		}
		deleted += n
		if seen < batch {
			return deleted, false, nil
		}
	}
}

// pendingWebhookEvents returns the IDs of the events that an outbox item
// not yet done delivers (pending or running).
func pendingWebhookEvents(tx *gorm.DB) (map[string]bool, error) {
	var payloads []string
	if err := tx.Model(&outboxRow{}).Where("kind = ? AND status IN ?", dsar.OutboxWebhook, []string{dsar.OutboxPending, dsar.OutboxRunning}).
		Pluck("payload", &payloads).Error; err != nil {
		return nil, err
	}
	out := make(map[string]bool, len(payloads))
	for _, p := range payloads {
		var wp dsar.WebhookPayload
		if err := json.Unmarshal([]byte(p), &wp); err != nil {
			return nil, dsar.Errorf(dsar.EINTERNAL, "a webhook outbox item's payload does not decode: %v", err)
		}
		for _, id := range wp.EventIDs() { // every event of a batch
			out[id] = true
		}
	}
	return out, nil
}
