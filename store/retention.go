package store

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/dsar-project/dsar"
)

// Records retention: the store finds the closed cases whose retention may
// have run out (dsar.RetentionClosedBefore), loads what each holds, and
// writes the removal the domain decides (dsar.RemovePersonalData), one
// transaction per case.

// RetentionFiles carries out the part of a removal outside the database
// (the case's files and the copies of its mails); Removal.BlobPrefix names
// the files. It runs inside the case's transaction, before the commit: when
// it fails the case stays as it was, due, and the next run tries again.
type RetentionFiles func(ctx context.Context, rm *dsar.Removal) error

// HasFiles reports whether a case has files under the prefix; nil when no
// blob store is configured.
type HasFiles func(ctx context.Context, prefix string) (bool, error)

// RetentionDue returns the IDs of up to limit closed cases whose personal
// data is due for removal at now, controller by controller, each
// controller's in the order they closed. Removed cases drop out by
// themselves, so the next call lists the next batch.
func (db *DB) RetentionDue(ctx context.Context, now time.Time, limit int) ([]string, error) {
	g := db.gorm.WithContext(ctx)
	var ids []string
	for _, ctrl := range db.Controllers.All() {
		if len(ids) >= limit {
			break
		}
		var rows []requestRow
		if err := g.Where("controller = ? AND closed_at IS NOT NULL AND personal_data_removed_at IS NULL AND closed_at < ? AND status NOT IN ?",
			ctrl.Key, dsar.RetentionClosedBefore(ctrl, now).UTC(), dsar.OpenStatuses).
			// Due-ness only grows with the age of the closing, so the due
			// cases come first and the bound's margin only at the end.
			Order("closed_at, id").Limit(limit - len(ids)).Find(&rows).Error; err != nil {
			return nil, mapErr(err)
		}
		for i := range rows {
			if len(ids) >= limit {
				break
			}
			r := rows[i].toDomain(ctrl.Location)
			if _, due, ok := dsar.RetentionDue(r, ctrl); ok && !dsar.DateOf(now.In(ctrl.Location)).Before(due) {
				ids = append(ids, r.ID)
			}
		}
	}
	return ids, nil
}

// heldData counts what the case holds outside its row and reads its audit
// trail.
func (db *DB) heldData(ctx context.Context, tx *gorm.DB, id string, hasFiles HasFiles) (dsar.PersonalDataHeld, error) {
	var h dsar.PersonalDataHeld
	count := func(model any, where string, args ...any) (int, error) {
		var n int64
		err := tx.Model(model).Where(where, args...).Count(&n).Error
		return int(n), err
	}
	var err error
	if h.Messages, err = count(&messageRow{}, "request_id = ?", id); err != nil {
		return h, err
	}
	if h.Documents, err = count(&documentRow{}, "request_id = ?", id); err != nil {
		return h, err
	}
	if h.Verifications, err = count(&verificationRow{}, "request_id = ?", id); err != nil {
		return h, err
	}
	if h.Pauses, err = count(&pauseRow{}, "request_id = ? AND note <> ''", id); err != nil {
		return h, err
	}
	if h.OutboxErrors, err = count(&outboxRow{}, "request_id = ? AND last_error <> ''", id); err != nil {
		return h, err
	}
	if err := tx.Model(&outboxRow{}).Where("request_id = ? AND kind = ?", id, dsar.OutboxMail).Order("id").
		Pluck("id", &h.MailItems).Error; err != nil {
		return h, err
	}
	var rows []eventRow
	if err := tx.Where("request_id = ?", id).Order("id").Find(&rows).Error; err != nil {
		return h, err
	}
	for i := range rows {
		h.Events = append(h.Events, rows[i].toDomain())
	}
	if hasFiles != nil {
		if h.Files, err = hasFiles(ctx, dsar.CaseBlobPrefix(id)); err != nil {
			return h, err
		}
	}
	return h, nil
}

// RetentionPlan returns what removing the personal data of each case in ids
// would take away at now, without removing anything (a dry run); cases not
// due are left out.
func (db *DB) RetentionPlan(ctx context.Context, ids []string, hasFiles HasFiles) ([]*dsar.Removal, error) {
	g := db.gorm.WithContext(ctx)
	var out []*dsar.Removal
	for _, id := range ids {
		var row requestRow
		if err := g.Where("id = ?", id).Take(&row).Error; err != nil {
			return nil, mapErr(err)
		}
		c, err := db.loadCase(g, &row)
		if err != nil {
			return nil, mapErr(err)
		}
		held, err := db.heldData(ctx, g, id, hasFiles)
		if err != nil {
			return nil, mapErr(err)
		}
		rm, err := dsar.PlanRemoval(c, held, db.now())
		if dsar.ErrorCode(err) == dsar.ECONFLICT {
			continue
		}
		if err != nil {
			return nil, err
		}
		out = append(out, rm)
	}
	return out, nil
}

// RemovePersonalData removes the personal data of the case id, when due,
// in one transaction: the domain's effect on the request row, its tasks
// and its audit trail, then what Effect.RemovePersonalData names, then
// files (which may be nil) before the commit. It returns the removal, or
// an ECONFLICT error when the case is not due (open, too recent, or
// already removed).
func (db *DB) RemovePersonalData(ctx context.Context, id string, hasFiles HasFiles, files RetentionFiles) (*dsar.Removal, error) {
	var out *dsar.Removal
	err := db.tx(ctx, func(tx *gorm.DB) error {
		q := db.forUpdate(tx)
		var row requestRow
		if err := q.Where("id = ?", id).Take(&row).Error; err != nil {
			return err
		}
		c, err := db.loadCase(tx, &row)
		if err != nil {
			return err
		}
		held, err := db.heldData(ctx, tx, id, hasFiles)
		if err != nil {
			return err
		}
		eff, err := dsar.RemovePersonalData(db.env(), c, held)
		if err != nil {
			return err
		}
		if err := db.apply(tx, &row, eff); err != nil {
			return err
		}
		if err := db.removePersonalData(tx, id, eff); err != nil {
			return err
		}
		out = eff.RemovePersonalData
		if files != nil {
			return files(ctx, out)
		}
		return nil
	})
	if err != nil {
		return nil, mapErr(err)
	}
	return out, nil
}

// removePersonalData writes the part of a removal outside the request row
// and its tasks: it deletes the case's messages, documents, verifications
// and download codes, clears its status page token, pause notes, outbox
// errors and redaction reasons, and redacts the audit events the effect
// names.
func (db *DB) removePersonalData(tx *gorm.DB, id string, eff *dsar.Effect) error {
	if eff.RemovePersonalData == nil {
		return errors.New("removePersonalData: the effect removes nothing")
	}
	steps := []func() *gorm.DB{
		func() *gorm.DB { return tx.Where("request_id = ?", id).Delete(&messageRow{}) },
		func() *gorm.DB { return tx.Where("request_id = ?", id).Delete(&documentRow{}) },
		func() *gorm.DB { return tx.Where("request_id = ?", id).Delete(&verificationRow{}) },
		func() *gorm.DB { return tx.Model(&requestRow{}).Where("id = ?", id).Update("status_token_hash", nil) },
		func() *gorm.DB {
			return tx.Model(&pauseRow{}).Where("request_id = ? AND note <> ''", id).Update("note", "")
		},
		func() *gorm.DB {
			return tx.Model(&outboxRow{}).Where("request_id = ? AND last_error <> ''", id).Update("last_error", "")
		},
		// An officer's reason for a redaction may name the people it
		// protects; that a record was left out stays.
		func() *gorm.DB {
			return tx.Model(&redactionRow{}).Where("request_id = ? AND reason <> ''", id).Update("reason", "")
		},
		func() *gorm.DB { return tx.Where("request_id = ?", id).Delete(&downloadCodeRow{}) },
	}
	for _, step := range steps {
		if err := step().Error; err != nil {
			return err
		}
	}
	if len(eff.RedactEvents) == 0 {
		return nil
	}
	var rows []eventRow
	if err := tx.Where("id IN ?", eff.RedactEvents).Find(&rows).Error; err != nil {
		return err
	}
	for i := range rows {
		ev, _ := dsar.RedactEvent(rows[i].toDomain())
		red, err := newEventRow(ev)
		if err != nil {
			return err
		}
		if err := tx.Model(&eventRow{}).Where("id = ? AND NOT redacted", rows[i].ID).
			Updates(map[string]any{"client_ip": "", "reason": "", "data": red.Data, "redacted": true}).Error; err != nil {
			return err
		}
	}
	return nil
}

// RetentionHour is the hour of the UTC day at which the daily records
// retention run is due.
const RetentionHour = 2

// PlanRetention writes the day's records retention run (an
// OutboxRetention item named after the UTC date) once its hour has come;
// planning it again the same day writes nothing.
func (db *DB) PlanRetention(ctx context.Context, now time.Time) (int, error) {
	day := now.UTC().Truncate(24 * time.Hour)
	at := day.Add(RetentionHour * time.Hour)
	if now.Before(at) {
		return 0, nil
	}
	date := dsar.DateOf(day)
	payload, _ := json.Marshal(dsar.RetentionPayload{Date: date, Part: 1}) // a date and an int always marshal
	row := newOutboxRow(&dsar.OutboxItem{ID: RetentionItemID(date, 1), Kind: dsar.OutboxRetention, Payload: payload, RunAt: at}, db.now())
	res := db.gorm.WithContext(ctx).Clauses(clause.OnConflict{DoNothing: true}).Create(row)
	return int(res.RowsAffected), mapErr(res.Error)
}

// RetentionItemID is the outbox ID of part of the records retention run
// of a UTC date.
func RetentionItemID(date dsar.Date, part int) string {
	return "retention-" + date.String() + "-" + strconv.Itoa(part)
}
