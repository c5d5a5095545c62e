package store

import (
	"context"
	"errors"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/dsar-project/dsar"
)

// redactionRow is a row of the redactions table.
type redactionRow struct {
	ID        string `gorm:"primaryKey"`
	RequestID string
	TaskID    string
	Line      int
	Reason    string
	CreatedBy string
	CreatedAt time.Time
}

func (redactionRow) TableName() string { return "redactions" }

func (r *redactionRow) toDomain() *dsar.Redaction {
	return &dsar.Redaction{ID: r.ID, RequestID: r.RequestID, TaskID: r.TaskID, Line: r.Line, Reason: r.Reason, By: r.CreatedBy, At: r.CreatedAt.UTC()}
}

// downloadCodeRow is a row of the download_codes table: the code itself is
// derived from the ID; only its hash is kept.
type downloadCodeRow struct {
	ID        string `gorm:"primaryKey"`
	RequestID string
	Status    string
	CodeHash  string
	Attempts  int
	ExpiresAt time.Time
	CreatedAt time.Time
}

func (downloadCodeRow) TableName() string { return "download_codes" }

// applyResults writes what an effect does to the case's redactions and
// download codes.
func (db *DB) applyResults(tx *gorm.DB, requestID string, eff *dsar.Effect) error {
	for _, r := range eff.Redactions {
		if err := tx.Create(&redactionRow{ID: r.ID, RequestID: requestID, TaskID: r.TaskID, Line: r.Line, Reason: r.Reason,
			CreatedBy: r.By, CreatedAt: r.At.UTC()}).Error; err != nil {
			return err
		}
	}
	if c := eff.NewDownloadCode; c != nil {
		if err := tx.Model(&downloadCodeRow{}).Where("request_id = ? AND status = ?", requestID, verificationActive).
			Update("status", verificationSuperseded).Error; err != nil {
			return err
		}
		if err := tx.Create(&downloadCodeRow{ID: c.ID, RequestID: requestID, Status: verificationActive,
			CodeHash: codeHash(c.ID, db.Keyring.Code(dsar.TokenDownload, c.ID)), ExpiresAt: c.ExpiresAt.UTC(), CreatedAt: db.now()}).Error; err != nil {
			return err
		}
	}
	if a := eff.DownloadCodeAttempts; a != nil {
		update := map[string]any{"attempts": a.Attempts}
		if a.Lock {
			update["status"] = verificationLocked
		}
		return tx.Model(&downloadCodeRow{}).Where("id = ? AND request_id = ?", a.ID, requestID).Updates(update).Error
	}
	return nil
}

// redactionCount counts a case's redactions (loadCase, for the cases that
// give the subject files).
func redactionCount(tx *gorm.DB, requestID string) (int, error) {
	var n int64
	err := tx.Model(&redactionRow{}).Where("request_id = ?", requestID).Count(&n).Error
	return int(n), err
}

// Results carries out the worker's side of the files an access or
// portability case gives its subject.
type Results struct{ db *DB }

// NewResults returns the results service on db.
func NewResults(db *DB) *Results { return &Results{db: db} }

var _ dsar.ResultService = (*Results)(nil)

// Assembly implements dsar.ResultService: the case as the worker
// assembles its files (its tasks, the redactions in the order of their
// task and line).
func (s *Results) Assembly(ctx context.Context, caseID string) (*dsar.Case, []*dsar.Redaction, error) {
	var (
		c    *dsar.Case
		reds []*dsar.Redaction
	)
	err := s.db.tx(ctx, func(tx *gorm.DB) error {
		var row requestRow
		if err := tx.Where("id = ?", caseID).Take(&row).Error; err != nil {
			return err
		}
		var err error
		if c, err = s.db.loadCase(tx, &row); err != nil {
			return err
		}
		var rows []redactionRow
		if err := tx.Where("request_id = ?", caseID).Order("task_id, line, id").Find(&rows).Error; err != nil {
			return err
		}
		for i := range rows {
			reds = append(reds, rows[i].toDomain())
		}
		return nil
	})
	return c, reds, mapErr(err)
}

// Assembled implements dsar.ResultService: the files recorded on the case
// (dsar.ResultsAssembled) and the claimed item completed, in one
// transaction. Files the case no longer wants (it moved on, or was
// redacted again meanwhile) complete the item without being recorded;
// the answer says so (ECONFLICT) so the worker can drop them.
func (s *Results) Assembled(ctx context.Context, claimed *dsar.OutboxItem, files []dsar.ResultFile, redactions int) error {
	return s.completeUnlessStale(ctx, claimed, func(env dsar.Env, c *dsar.Case) (*dsar.Effect, error) {
		return dsar.ResultsAssembled(env, c, files, redactions)
	})
}

// completeUnlessStale runs a worker's operation on the case of the claimed
// item and completes the item, in one transaction. An operation the case
// no longer wants (ECONFLICT: it moved on meanwhile) is rolled back alone
// and the item still completed; the answer is that ECONFLICT, so that the
// worker can drop what it made.
func (s *Results) completeUnlessStale(ctx context.Context, claimed *dsar.OutboxItem, op operation) error {
	var dropped error
	err := s.db.tx(ctx, func(tx *gorm.DB) error {
		var row requestRow
		if err := s.db.forUpdate(tx).Where("id = ?", claimed.RequestID).Take(&row).Error; err != nil {
			return err
		}
		if err := tx.SavePoint("worker_step").Error; err != nil {
			return err
		}
		_, err := s.db.run(tx, &row, op)
		if dsar.ErrorCode(err) == dsar.ECONFLICT {
			dropped = err
			if err := tx.RollbackTo("worker_step").Error; err != nil {
				return err
			}
		} else if err != nil {
			return err
		}
		return finish(tx, claimed, dsar.OutboxDone, s.db.now())
	})
	if err != nil {
		return mapErr(err)
	}
	return dropped
}

// Expired implements dsar.ResultService: when the window has ended, the
// case's files deleted through del and the deletion recorded
// (dsar.ResultsExpired), and the claimed item completed, in one
// transaction: a failed deletion leaves the item to run again.
func (s *Results) Expired(ctx context.Context, claimed *dsar.OutboxItem, del func(context.Context) error) error {
	return mapErr(s.db.tx(ctx, func(tx *gorm.DB) error {
		var row requestRow
		if err := s.db.forUpdate(tx).Where("id = ?", claimed.RequestID).Take(&row).Error; err != nil {
			return err
		}
		_, err := s.db.run(tx, &row, func(env dsar.Env, c *dsar.Case) (*dsar.Effect, error) {
			eff, err := dsar.ResultsExpired(env, c)
			if err == nil && len(eff.Events) > 0 {
				err = del(ctx)
			}
			return eff, err
		})
		if err != nil {
			return err
		}
		return finish(tx, claimed, dsar.OutboxDone, s.db.now())
	}))
}

// Transmission implements dsar.ResultService: the case whose package a
// transmission sends.
func (s *Results) Transmission(ctx context.Context, caseID string) (*dsar.Case, error) {
	var c *dsar.Case
	err := s.db.tx(ctx, func(tx *gorm.DB) error {
		var row requestRow
		if err := tx.Where("id = ?", caseID).Take(&row).Error; err != nil {
			return err
		}
		var err error
		c, err = s.db.loadCase(tx, &row)
		return err
	})
	return c, mapErr(err)
}

// Transmitted implements dsar.ResultService: one upload of the package
// recorded (dsar.RecordTransmission) and the claimed item completed, in
// one transaction. A report the case no longer wants (it was reopened, or
// the transmission ended) completes the item without being recorded, and
// the answer says so (ECONFLICT).
func (s *Results) Transmitted(ctx context.Context, claimed *dsar.OutboxItem, attempt int, o dsar.TransmitOutcome) error {
	return s.completeUnlessStale(ctx, claimed, func(env dsar.Env, c *dsar.Case) (*dsar.Effect, error) {
		return dsar.RecordTransmission(env, c, attempt, o)
	})
}

// Redact implements dsar.CaseService (dsar.Redact).
func (s *Requests) Redact(ctx context.Context, actor dsar.Actor, id, taskID string, line int, reason string) (*dsar.Request, error) {
	return s.change(ctx, actor, id, func(env dsar.Env, c *dsar.Case) (*dsar.Effect, error) {
		return dsar.Redact(env, c, actor, taskID, line, reason)
	})
}

// ViewResult implements dsar.CaseService (dsar.ViewResult): the file,
// and its reading recorded, in one transaction.
func (s *Requests) ViewResult(ctx context.Context, actor dsar.Actor, id, name string) (*dsar.ResultFile, error) {
	var out *dsar.ResultFile
	_, err := s.db.runLocked(ctx, func(tx *gorm.DB) (*requestRow, error) { return s.load(tx, actor, id, true) },
		func(env dsar.Env, c *dsar.Case) (*dsar.Effect, error) {
			eff, f, err := dsar.ViewResult(env, c, actor, name)
			out = f
			return eff, err
		})
	return out, err
}

// Redactions implements dsar.CaseService: the records left out of the
// case's files, oldest first.
func (s *Requests) Redactions(ctx context.Context, actor dsar.Actor, id string) ([]*dsar.Redaction, error) {
	db := s.db.gorm.WithContext(ctx)
	if _, err := s.load(db, actor, id, false); err != nil {
		return nil, err
	}
	var rows []redactionRow
	if err := db.Where("request_id = ?", id).Order("created_at, id").Find(&rows).Error; err != nil {
		return nil, mapErr(err)
	}
	out := make([]*dsar.Redaction, len(rows))
	for i := range rows {
		out[i] = rows[i].toDomain()
	}
	return out, nil
}

// AskDownloadCode implements dsar.SubjectService (dsar.AskDownloadCode):
// a fresh code mailed to the subject of the status token.
func (s *Subjects) AskDownloadCode(ctx context.Context, token string) error {
	return mapErr(s.db.tx(ctx, func(tx *gorm.DB) error {
		row, err := s.byToken(tx, token, true)
		if err != nil {
			return err
		}
		var last downloadCodeRow
		var lastAt time.Time
		switch err := tx.Where("request_id = ?", row.ID).Order("created_at DESC").Take(&last).Error; {
		case err == nil:
			lastAt = last.CreatedAt
		case !errors.Is(err, gorm.ErrRecordNotFound):
			return err
		}
		_, err = s.db.run(tx, row, func(env dsar.Env, c *dsar.Case) (*dsar.Effect, error) { return dsar.AskDownloadCode(env, c, lastAt) })
		return err
	}))
}

// Download implements dsar.SubjectService (dsar.Download): the file the
// subject of the status token may download with the code, counted and
// audited before it is returned. A wrong code counts (committed with the
// refusal); too many lock the code.
func (s *Subjects) Download(ctx context.Context, token, code, name, clientIP string) (*dsar.ResultFile, error) {
	code = strings.TrimSpace(code)
	var (
		out     *dsar.ResultFile
		userErr error // committed with the attempt count, then returned
	)
	err := s.db.tx(ctx, func(tx *gorm.DB) error {
		row, err := s.byToken(tx, token, true)
		if err != nil {
			return err
		}
		var v downloadCodeRow
		err = s.db.forUpdate(tx.Where("request_id = ? AND status IN ?", row.ID, []string{verificationActive, verificationLocked})).
			Order("created_at DESC").Take(&v).Error
		if err != nil && !errors.Is(err, gorm.ErrRecordNotFound) {
			return err
		}
		dc := dsar.DownloadCode{ID: v.ID, State: dsar.VerificationState(v.Status), Attempts: v.Attempts, ExpiresAt: v.ExpiresAt}
		if v.ID == "" {
			dc.State = dsar.VerificationSuperseded // no code asked for: none matches
		}
		matches := v.ID != "" && dsar.SameHash(codeHash(v.ID, code), v.CodeHash)
		r, err := s.db.run(tx, row, func(env dsar.Env, c *dsar.Case) (*dsar.Effect, error) {
			eff, derr := dsar.Download(env, c, dc, matches, name, clientIP)
			if derr != nil && eff != nil {
				userErr = derr // the effect (the attempt) is written, the error returned after
				return eff, nil
			}
			return eff, derr
		})
		if err != nil || userErr != nil {
			return err
		}
		out, _ = r.Result(name)
		return nil
	})
	if err != nil {
		return nil, mapErr(err)
	}
	if userErr != nil {
		return nil, userErr
	}
	return out, nil
}
