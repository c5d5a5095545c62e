package store

import (
	"context"
	"errors"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/dsar-project/dsar"
)

// The states of a verification, as stored.
const (
	verificationActive     = string(dsar.VerificationActive)
	verificationUsed       = string(dsar.VerificationUsed)
	verificationSuperseded = string(dsar.VerificationSuperseded)
	verificationLocked     = string(dsar.VerificationLocked)
)

func (db *DB) policy() dsar.Policy { return db.Policy.OrDefault() }

// StatusToken returns the token of a request's status page.
func (db *DB) StatusToken(requestID string) string {
	return db.Keyring.Token(dsar.TokenStatus, requestID)
}

func codeHash(verificationID, code string) string {
	return dsar.HashSecret(verificationID + ":" + code)
}

// newVerification returns a verification of the request whose link token
// and code derive from its ID.
func (db *DB) newVerification(requestID, id string, now time.Time) *verificationRow {
	return &verificationRow{
		ID: id, RequestID: requestID, Status: verificationActive, CreatedAt: now,
		TokenHash: dsar.HashSecret(db.Keyring.Token(dsar.TokenVerify, id)),
		CodeHash:  codeHash(id, db.Keyring.Code(dsar.TokenVerify, id)),
		ExpiresAt: now.Add(db.policy().VerifyTTL),
	}
}

// Subjects implements what data subjects do (dsar.SubjectService) and the
// background steps of verification (dsar.VerificationJobs).
type Subjects struct {
	db   *DB
	reqs *Requests
}

var (
	_ dsar.SubjectService   = (*Subjects)(nil)
	_ dsar.VerificationJobs = (*Subjects)(nil)
	_ dsar.CaseService      = (*Requests)(nil)
)

// NewSubjects returns the subject service of db.
func NewSubjects(db *DB) *Subjects { return &Subjects{db: db, reqs: NewRequests(db)} }

// verify settles the subject's identity through the verification v
// (dsar.VerifySubject).
func (s *Subjects) verify(tx *gorm.DB, v *verificationRow, method, clientIP string) (*dsar.Request, error) {
	var row requestRow
	if err := s.db.forUpdate(tx.Where("id = ?", v.RequestID)).Take(&row).Error; err != nil {
		return nil, err
	}
	return s.db.run(tx, &row, func(env dsar.Env, c *dsar.Case) (*dsar.Effect, error) {
		return dsar.VerifySubject(env, c, dsar.ActorSubject(clientIP), v.ID, method)
	})
}

// LinkRequest implements dsar.SubjectService: the request a verification
// link is about, looked at and left as it is.
func (s *Subjects) LinkRequest(ctx context.Context, token string) (*dsar.Request, bool, error) {
	var v verificationRow
	err := s.db.gorm.WithContext(ctx).Where("token_hash = ?", dsar.HashSecret(token)).Take(&v).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, false, &dsar.Error{Code: dsar.ENOTFOUND, Message: "error.verify.invalid_link"}
	}
	if err != nil {
		return nil, false, mapErr(err)
	}
	used, err := dsar.FollowLink(v.toDomain(), s.db.now())
	if err != nil {
		return nil, false, err
	}
	var row requestRow
	if err := s.db.gorm.WithContext(ctx).Where("id = ?", v.RequestID).Take(&row).Error; err != nil {
		return nil, false, mapErr(err)
	}
	return row.toDomain(s.reqs.location(row.Controller)), used, nil
}

// VerifyLink verifies the request whose verification link this is. A link
// used before leads to the status page again.
func (s *Subjects) VerifyLink(ctx context.Context, token, clientIP string) (*dsar.Request, string, error) {
	now := s.db.now()
	var out *dsar.Request
	err := s.db.tx(ctx, func(tx *gorm.DB) error {
		var v verificationRow
		if err := s.db.forUpdate(tx.Where("token_hash = ?", dsar.HashSecret(token))).Take(&v).Error; err != nil {
			if !errors.Is(err, gorm.ErrRecordNotFound) {
				return err
			}
			return &dsar.Error{Code: dsar.ENOTFOUND, Message: "error.verify.invalid_link"}
		}
		again, err := dsar.FollowLink(v.toDomain(), now)
		switch {
		case err != nil:
			return err
		case again:
			var row requestRow
			if err := tx.Where("id = ?", v.RequestID).Take(&row).Error; err != nil {
				return err
			}
			out = row.toDomain(s.reqs.location(row.Controller))
			return nil
		}
		out, err = s.verify(tx, &v, dsar.VerifiedByEmailLink, clientIP)
		return err
	})
	if err != nil {
		return nil, "", mapErr(err)
	}
	return out, s.db.StatusToken(out.ID), nil
}

// VerifyCode verifies the request with the code the subject typed. Every
// wrong code counts; after Policy.MaxCodeAttempts the code is locked and a
// new one must be asked for.
func (s *Subjects) VerifyCode(ctx context.Context, requestID, code, clientIP string) (*dsar.Request, string, error) {
	now := s.db.now()
	p := s.db.policy()
	code = strings.TrimSpace(code)
	var (
		out     *dsar.Request
		userErr error // committed with the attempt count, then returned
	)
	err := s.db.tx(ctx, func(tx *gorm.DB) error {
		var v verificationRow
		err := s.db.forUpdate(tx.Where("request_id = ? AND status IN ?", requestID, []string{verificationActive, verificationLocked})).
			Order("created_at DESC").Take(&v).Error
		if err != nil {
			userErr = &dsar.Error{Code: dsar.ECONFLICT, Message: "error.verify.no_code"}
			return nil
		}
		attempts, lock, cerr := dsar.TryCode(v.toDomain(), dsar.SameHash(codeHash(v.ID, code), v.CodeHash), p, now)
		if cerr == nil {
			out, err = s.verify(tx, &v, dsar.VerifiedByEmailCode, clientIP)
			return err
		}
		userErr = cerr // committed with the attempt count, then returned
		if attempts == v.Attempts {
			return nil
		}
		update := map[string]any{"attempts": attempts}
		if lock {
			update["status"] = verificationLocked
		}
		return tx.Model(&v).Updates(update).Error
	})
	if err != nil {
		return nil, "", mapErr(err)
	}
	if userErr != nil {
		return nil, "", userErr
	}
	return out, s.db.StatusToken(out.ID), nil
}

// ResendVerification implements dsar.SubjectService
// (dsar.ResendVerification).
func (s *Subjects) ResendVerification(ctx context.Context, requestID string) error {
	return mapErr(s.db.tx(ctx, func(tx *gorm.DB) error {
		var row requestRow
		if err := s.db.forUpdate(tx.Where("id = ?", requestID)).Take(&row).Error; err != nil {
			return err
		}
		_, err := s.db.run(tx, &row, func(env dsar.Env, c *dsar.Case) (*dsar.Effect, error) {
			var last verificationRow
			if err := tx.Where("request_id = ?", requestID).Order("created_at DESC").Take(&last).Error; err == nil {
				c.LastVerificationAt = last.CreatedAt
			}
			return dsar.ResendVerification(env, c)
		})
		return err
	}))
}

// RenewVerification implements dsar.VerificationJobs
// (dsar.RenewVerification); a verification of that ID made before means the
// work was done.
func (s *Subjects) RenewVerification(ctx context.Context, requestID, verificationID, reminder string) error {
	return mapErr(s.db.tx(ctx, func(tx *gorm.DB) error {
		var n int64
		if err := tx.Model(&verificationRow{}).Where("id = ?", verificationID).Count(&n).Error; err != nil || n > 0 {
			return err // done before
		}
		var row requestRow
		if err := s.db.forUpdate(tx.Where("id = ?", requestID)).Take(&row).Error; err != nil {
			return err
		}
		_, err := s.db.run(tx, &row, func(env dsar.Env, c *dsar.Case) (*dsar.Effect, error) {
			return dsar.RenewVerification(env, c, verificationID, reminder), nil
		})
		return err
	}))
}

// ExpireUnverified implements dsar.VerificationJobs (dsar.ExpireUnverified).
func (s *Subjects) ExpireUnverified(ctx context.Context, requestID string) error {
	_, err := s.db.runLocked(ctx, func(tx *gorm.DB) (*requestRow, error) {
		var row requestRow
		return &row, s.db.forUpdate(tx.Where("id = ?", requestID)).Take(&row).Error
	}, func(env dsar.Env, c *dsar.Case) (*dsar.Effect, error) {
		return dsar.ExpireUnverified(env, c)
	})
	return err
}

// VerificationActive implements dsar.VerificationJobs.
func (s *Subjects) VerificationActive(ctx context.Context, id string) (bool, error) {
	var v verificationRow
	if err := s.db.gorm.WithContext(ctx).Where("id = ?", id).Take(&v).Error; err != nil {
		return false, mapErr(err)
	}
	return v.Status == verificationActive && s.db.now().Before(v.ExpiresAt), nil
}

// PendingVerification returns the request the code page is about.
func (s *Subjects) PendingVerification(ctx context.Context, requestID string) (*dsar.Request, error) {
	var row requestRow
	if err := s.db.gorm.WithContext(ctx).Where("id = ?", requestID).Take(&row).Error; err != nil {
		return nil, mapErr(err)
	}
	return row.toDomain(s.reqs.location(row.Controller)), nil
}

// byToken loads the row of a status page token, refusing tokens of requests
// closed longer than Policy.StatusLinkTTL ago.
func (s *Subjects) byToken(tx *gorm.DB, token string, forUpdate bool) (*requestRow, error) {
	q := tx.Where("status_token_hash = ?", dsar.HashSecret(token))
	if forUpdate {
		q = s.db.forUpdate(q)
	}
	var row requestRow
	if err := q.Take(&row).Error; err != nil {
		if !errors.Is(err, gorm.ErrRecordNotFound) {
			return nil, mapErr(err) // the database, not the token, failed
		}
		return nil, &dsar.Error{Code: dsar.ENOTFOUND, Message: "error.status.invalid_link"}
	}
	if !s.db.policy().StatusLinkValid(row.toDomain(time.UTC), s.db.now()) {
		return nil, &dsar.Error{Code: dsar.EGONE, Message: "error.status.expired_link"}
	}
	return &row, nil
}

// ByStatusToken implements dsar.SubjectService.
func (s *Subjects) ByStatusToken(ctx context.Context, token string) (*dsar.Request, error) {
	row, err := s.byToken(s.db.gorm.WithContext(ctx), token, false)
	if err != nil {
		return nil, err
	}
	return row.toDomain(s.reqs.location(row.Controller)), nil
}

// SubjectEvents implements dsar.SubjectService.
func (s *Subjects) SubjectEvents(ctx context.Context, requestID string) ([]*dsar.Event, error) {
	return s.reqs.events(s.db.gorm.WithContext(ctx), requestID)
}

// SubjectMessages implements dsar.SubjectService: the messages between the
// controller and the subject, without the officers' internal notes.
func (s *Subjects) SubjectMessages(ctx context.Context, requestID string) ([]*dsar.Message, error) {
	return s.messages(ctx, requestID, false)
}

// messages returns a case's messages, with or without internal notes.
func (s *Subjects) messages(ctx context.Context, requestID string, notes bool) ([]*dsar.Message, error) {
	q := s.db.gorm.WithContext(ctx).Where("request_id = ?", requestID)
	if !notes {
		q = q.Where("kind <> ?", string(dsar.MessageNote))
	}
	var rows []messageRow
	if err := q.Order("created_at, id").Find(&rows).Error; err != nil {
		return nil, mapErr(err)
	}
	out := make([]*dsar.Message, len(rows))
	for i := range rows {
		out[i] = rows[i].toDomain()
	}
	return out, nil
}

// Reply implements dsar.SubjectService (dsar.Reply).
func (s *Subjects) Reply(ctx context.Context, token, body string, doc *dsar.Document, clientIP string) (*dsar.Request, error) {
	return s.byTokenDo(ctx, token, func(env dsar.Env, c *dsar.Case) (*dsar.Effect, error) {
		return dsar.Reply(env, c, dsar.ActorSubject(clientIP), body, doc)
	})
}

// Withdraw implements dsar.SubjectService (dsar.Withdraw).
func (s *Subjects) Withdraw(ctx context.Context, token, clientIP string) (*dsar.Request, error) {
	return s.byTokenDo(ctx, token, func(env dsar.Env, c *dsar.Case) (*dsar.Effect, error) {
		return dsar.Withdraw(env, c, dsar.ActorSubject(clientIP))
	})
}

// byTokenDo runs a subject's operation on the case of a status page token,
// in one transaction.
func (s *Subjects) byTokenDo(ctx context.Context, token string, op operation) (*dsar.Request, error) {
	return s.db.runLocked(ctx, func(tx *gorm.DB) (*requestRow, error) { return s.byToken(tx, token, true) }, op)
}
