package store

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"gorm.io/gorm/clause"

	"github.com/dsar-project/dsar"
)

// AdminCheckpoint is the kind of the admin event that records which cases
// exist. Every case's own chain finds a changed or deleted event; only this
// finds a case deleted whole, with its every event and its row.
const AdminCheckpoint = "audit_checkpoint"

// CheckpointMargin is how long before its hour a checkpoint's cases were
// created: far longer than any transaction that creates a case, so that no
// case may still appear, committed late, among those a checkpoint covers.
const CheckpointMargin = time.Hour

// checkpointActor writes the checkpoints.
var checkpointActor = dsar.Actor{ID: "service"}

// PlanCheckpoint plans this hour's checkpoint, once whatever the number of
// workers (its outbox row's ID is the hour), and returns how many it
// planned: 1, or 0 when it was planned before.
func (db *DB) PlanCheckpoint(ctx context.Context, now time.Time) (int, error) {
	hour := now.UTC().Truncate(time.Hour)
	payload, _ := json.Marshal(dsar.CheckpointPayload{Before: hour.Add(-CheckpointMargin)})
	row := newOutboxRow(&dsar.OutboxItem{ID: "checkpoint-" + hour.Format("2006-01-02T15"), Kind: dsar.OutboxCheckpoint,
		Payload: payload, RunAt: hour}, db.now())
	res := db.gorm.WithContext(ctx).Clauses(clause.OnConflict{DoNothing: true}).Create(row)
	return int(res.RowsAffected), mapErr(res.Error)
}

// Checkpoint records in the admin chain how many cases were created before
// the instant and a SHA-256 over their IDs and the hashes of their first
// events, in ID order.
func (db *DB) Checkpoint(ctx context.Context, before time.Time) error {
	n, digest, err := db.caseDigest(ctx, before)
	if err != nil {
		return err
	}
	return db.RecordAdmin(ctx, checkpointActor, AdminCheckpoint, "cases", map[string]string{
		"before": before.UTC().Format(time.RFC3339Nano), "cases": strconv.FormatInt(n, 10), "digest": digest})
}

// caseDigest counts the cases created before the instant and hashes their
// IDs with the hash of each one's first event ("" before the chain began).
func (db *DB) caseDigest(ctx context.Context, before time.Time) (int64, string, error) {
	rows, err := db.gorm.WithContext(ctx).Table("requests AS r").
		Select("r.id, COALESCE(e.hash, '')").
		Joins("LEFT JOIN request_events e ON e.request_id = r.id AND e.seq = 1").
		Where("r.created_at < ?", before.UTC()).Order("r.id").Rows()
	if err != nil {
		return 0, "", err
	}
	defer rows.Close()
	h, n := sha256.New(), int64(0)
	for rows.Next() {
		var id, first string
		if err := rows.Scan(&id, &first); err != nil {
			return 0, "", err
		}
		fmt.Fprintf(h, "%s %s\n", id, first)
		n++
	}
	if err := rows.Err(); err != nil {
		return 0, "", err
	}
	return n, hex.EncodeToString(h.Sum(nil)), nil
}

// verifyCheckpoint compares the cases of today with the last checkpoint:
// the cases it counted must all be there, each with its first event.
func (db *DB) verifyCheckpoint(ctx context.Context, rep *AuditReport) error {
	var last adminEventRow
	if err := db.gorm.WithContext(ctx).Where("kind = ?", AdminCheckpoint).Order("seq DESC").Limit(1).Find(&last).Error; err != nil {
		return err
	}
	if last.ID == 0 {
		return nil
	}
	data := last.event().Data
	before, err := time.Parse(time.RFC3339Nano, data["before"])
	if err != nil {
		rep.add(AuditProblem{ID: last.ID, Seq: last.Seq, Kind: "checkpoint", Message: fmt.Sprintf(
			"admin event %d (seq %d): the checkpoint has no valid time", last.ID, last.Seq)})
		return nil
	}
	rep.Checkpoint = &last.At
	n, digest, err := db.caseDigest(ctx, before)
	if err != nil {
		return err
	}
	switch want := data["cases"]; {
	case strconv.FormatInt(n, 10) != want:
		rep.add(AuditProblem{ID: last.ID, Seq: last.Seq, Kind: "checkpoint", Message: fmt.Sprintf(
			"the checkpoint of %s counted %s cases created before %s, there are %d now: cases were deleted (or added with a past date)",
			last.At.UTC().Format(time.RFC3339), want, data["before"], n)})
	case digest != data["digest"]:
		rep.add(AuditProblem{ID: last.ID, Seq: last.Seq, Kind: "checkpoint", Message: fmt.Sprintf(
			"the cases created before %s are not those of the checkpoint of %s: a case was replaced, or its first event changed",
			data["before"], last.At.UTC().Format(time.RFC3339))})
	}
	return nil
}
