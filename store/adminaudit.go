package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"gorm.io/gorm"

	"github.com/dsar-project/dsar"
)

// The kinds of administrators' events.
const (
	AdminAPIKeyCreated  = "apikey_created"
	AdminAPIKeyRevoked  = "apikey_revoked"
	AdminUserCreated    = "user_created"
	AdminUserUpdated    = "user_updated"
	AdminUserDisabled   = "user_disabled"
	AdminUserEnabled    = "user_enabled"
	AdminPasswordReset  = "user_password_reset"
	AdminConfigChanged  = "config_changed"
	adminChainRequestID = "admin" // the request ID the hash encoding sees
)

// adminEventRow is a row of admin_events, one hash chain over every
// administrator's action.
type adminEventRow struct {
	ID       int64 `gorm:"primaryKey"`
	Seq      int64
	PrevHash string
	Hash     string
	At       time.Time
	Actor    string
	ClientIP string `gorm:"column:client_ip"`
	Kind     string
	Target   string
	Data     string
}

func (adminEventRow) TableName() string { return "admin_events" }

// event is the row as the hash encoding sees it: a case event of the
// pseudo-case "admin", the target as its reason.
func (r *adminEventRow) event() *dsar.Event {
	ev := &dsar.Event{RequestID: adminChainRequestID, At: r.At.UTC(), Actor: r.Actor, ClientIP: r.ClientIP, Kind: dsar.EventKind(r.Kind), Reason: r.Target}
	if r.Data != "" && r.Data != "{}" {
		_ = json.Unmarshal([]byte(r.Data), &ev.Data) // written by RecordAdmin
	}
	return ev
}

// RecordAdmin appends an administrator's action to the admin trail: who,
// from where, what (kind), on what (target), and the facts before and after
// as data. The chain is locked for the append (Postgres: the table in
// exclusive mode, which still lets readers read).
func (db *DB) RecordAdmin(ctx context.Context, actor dsar.Actor, kind, target string, data map[string]string) error {
	return mapErr(db.tx(ctx, func(tx *gorm.DB) error { return db.recordAdmin(tx, actor, kind, target, data) }))
}

func (db *DB) recordAdmin(tx *gorm.DB, actor dsar.Actor, kind, target string, data map[string]string) error {
	if db.Dialect == Postgres {
		if err := tx.Exec("LOCK TABLE admin_events IN EXCLUSIVE MODE").Error; err != nil {
			return err
		}
	}
	var last adminEventRow
	seq, prev := int64(0), dsar.AuditGenesis
	if err := tx.Order("seq DESC").Limit(1).Find(&last).Error; err != nil {
		return err
	}
	if last.ID != 0 {
		seq, prev = last.Seq, last.Hash
	}
	b, err := json.Marshal(data)
	if err != nil {
		return err
	}
	row := &adminEventRow{Seq: seq + 1, PrevHash: prev, At: db.now(), Actor: actor.ID, ClientIP: actor.IP, Kind: kind, Target: target, Data: string(b)}
	if len(data) == 0 {
		row.Data = "{}"
	}
	row.Hash = dsar.EventHash(prev, row.event(), row.Seq)
	return tx.Create(row).Error
}

// RecordConfig records the controllers configuration in use when it
// differs from the last one recorded (by its SHA-256), so that every change
// of configuration is in the admin trail; it returns whether it recorded.
func (db *DB) RecordConfig(ctx context.Context, actor dsar.Actor, source string, content []byte) (bool, error) {
	sum := dsar.HashSecret(string(content))
	recorded := false
	err := db.tx(ctx, func(tx *gorm.DB) error {
		if db.Dialect == Postgres {
			if err := tx.Exec("LOCK TABLE admin_events IN EXCLUSIVE MODE").Error; err != nil {
				return err
			}
		}
		var last adminEventRow
		if err := tx.Where("kind = ?", AdminConfigChanged).Order("seq DESC").Limit(1).Find(&last).Error; err != nil {
			return err
		}
		before := ""
		if last.ID != 0 {
			before = last.event().Data["after"]
		}
		if before == sum {
			return nil
		}
		recorded = true
		return db.recordAdmin(tx, actor, AdminConfigChanged, source, map[string]string{"before": before, "after": sum})
	})
	return recorded, mapErr(err)
}

// verifyAdmin recomputes the admin chain into rep.
func (db *DB) verifyAdmin(ctx context.Context, rep *AuditReport) error {
	var rows []adminEventRow
	if err := db.gorm.WithContext(ctx).Order("seq").Find(&rows).Error; err != nil {
		return err
	}
	lastSeq, lastHash := int64(0), dsar.AuditGenesis
	for i := range rows {
		r := &rows[i]
		rep.Events++
		switch {
		case r.Seq != lastSeq+1:
			rep.add(AuditProblem{ID: r.ID, Seq: r.Seq, Kind: "gap", Message: fmt.Sprintf(
				"admin event %d (seq %d): seq %d to %d are missing before it: events were deleted", r.ID, r.Seq, lastSeq+1, r.Seq-1)})
		case r.PrevHash != lastHash:
			rep.add(AuditProblem{ID: r.ID, Seq: r.Seq, Kind: "link", Message: fmt.Sprintf(
				"admin event %d (seq %d): its prev_hash does not match the event before it", r.ID, r.Seq)})
		}
		if dsar.EventHash(r.PrevHash, r.event(), r.Seq) != r.Hash {
			rep.add(AuditProblem{ID: r.ID, Seq: r.Seq, Kind: "changed", Message: fmt.Sprintf(
				"admin event %d (seq %d): its fields do not match its hash: the row was changed", r.ID, r.Seq)})
		}
		lastSeq, lastHash = r.Seq, r.Hash
	}
	return nil
}
