package store

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/dsar-project/dsar"
)

// The states of a verification.
const (
	verificationActive     = "active"
	verificationUsed       = "used"
	verificationSuperseded = "superseded"
	verificationLocked     = "locked"
)

// subjectActor is the data subject acting through a link, code or token.
var subjectActor = dsar.Actor{ID: "subject", Role: dsar.RoleAdmin}

// subjectFrom is the subject acting from an address.
func subjectFrom(clientIP string) dsar.Actor {
	a := subjectActor
	a.IP = clientIP
	return a
}

func (db *DB) policy() dsar.Policy {
	if db.Policy.VerifyTTL == 0 {
		return dsar.DefaultPolicy
	}
	return db.Policy
}

// StatusToken returns the token of a request's status page.
func (db *DB) StatusToken(requestID string) string { return db.Keyring.Token("status", requestID) }

// markVerified records on the row that the subject's identity is settled,
// and gives the request its status page token.
func (db *DB) markVerified(row *requestRow, by, method string, now time.Time) {
	h := dsar.HashSecret(db.StatusToken(row.ID))
	row.VerifiedAt, row.VerifiedBy, row.VerificationMethod, row.StatusTokenHash = &now, by, method, &h
}

func verifiedData(row *requestRow) map[string]string {
	if row.VerifiedAt == nil {
		return nil
	}
	return map[string]string{"verified_by": row.VerifiedBy, "method": row.VerificationMethod}
}

func codeHash(verificationID, code string) string {
	return dsar.HashSecret(verificationID + ":" + code)
}

// newVerification returns a verification of the request whose link token
// and code derive from its ID.
func (db *DB) newVerification(requestID, id string, now time.Time) *verificationRow {
	return &verificationRow{
		ID: id, RequestID: requestID, Status: verificationActive, CreatedAt: now,
		TokenHash: dsar.HashSecret(db.Keyring.Token("verify", id)),
		CodeHash:  codeHash(id, db.Keyring.Code("verify", id)),
		ExpiresAt: now.Add(db.policy().VerifyTTL),
	}
}

// verificationSchedule returns the reminders and the expiry of a request
// waiting for verification.
func (db *DB) verificationSchedule(requestID string, now time.Time) []*dsar.OutboxItem {
	p := db.policy()
	var out []*dsar.OutboxItem
	for _, d := range p.VerifyReminders {
		payload, _ := json.Marshal(dsar.VerifyPayload{Reminder: strings.TrimSuffix(d.String(), "0m0s")})
		out = append(out, &dsar.OutboxItem{ID: newID(), Kind: dsar.OutboxVerifyReminder, RequestID: requestID, Payload: payload, RunAt: now.Add(d)})
	}
	return append(out, &dsar.OutboxItem{ID: newID(), Kind: dsar.OutboxVerifyExpiry, RequestID: requestID, RunAt: now.Add(p.UnverifiedExpiry)})
}

// cancelVerificationWork cancels the pending verification reminders and
// expiry of a request, and supersedes its active verifications.
func cancelVerificationWork(tx *gorm.DB, requestID string) error {
	if err := tx.Model(&outboxRow{}).
		Where("request_id = ? AND kind IN ? AND status = ?", requestID,
			[]string{string(dsar.OutboxVerifyReminder), string(dsar.OutboxVerifyExpiry)}, dsar.OutboxPending).
		Update("status", dsar.OutboxCancelled).Error; err != nil {
		return err
	}
	return tx.Model(&verificationRow{}).Where("request_id = ? AND status = ?", requestID, verificationActive).
		Update("status", verificationSuperseded).Error
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

func (s *Subjects) lock(tx *gorm.DB, q *gorm.DB) *gorm.DB {
	if s.db.Dialect == Postgres {
		return q.Clauses(clause.Locking{Strength: "UPDATE"})
	}
	return q
}

// verify settles the subject's identity through the verification v: the
// request moves on to in_progress, the acknowledgement goes out, and the
// pending reminders and expiry are cancelled.
func (s *Subjects) verify(tx *gorm.DB, v *verificationRow, method, clientIP string, now time.Time) (*dsar.Request, error) {
	var row requestRow
	if err := s.lock(tx, tx.Where("id = ?", v.RequestID)).Take(&row).Error; err != nil {
		return nil, err
	}
	if row.Status != string(dsar.StatusAwaitingVerification) {
		return nil, &dsar.Error{Code: dsar.ECONFLICT, Message: "error.verify.closed"}
	}
	if err := tx.Model(v).Updates(map[string]any{"status": verificationUsed, "used_at": now}).Error; err != nil {
		return nil, err
	}
	if err := cancelVerificationWork(tx, row.ID); err != nil {
		return nil, err
	}
	var out *dsar.Request
	err := s.reqs.changeRow(tx, subjectFrom(clientIP), &row, func(_ *gorm.DB, row *requestRow, _ *dsar.Controller, now time.Time) (effect, error) {
		row.Status = string(dsar.StatusInProgress)
		s.db.markVerified(row, subjectActor.ID, method, now)
		return effect{event: &dsar.Event{Kind: dsar.EventTransition, Data: verifiedData(row)},
			next: []*dsar.OutboxItem{mailItem(row.ID, now, dsar.MailPayload{Template: "acknowledgement", To: dsar.RecipientSubject})}}, nil
	}, &out)
	return out, err
}

// VerifyLink verifies the request whose verification link this is. A link
// used before leads to the status page again.
func (s *Subjects) VerifyLink(ctx context.Context, token, clientIP string) (*dsar.Request, string, error) {
	now := s.db.now()
	var out *dsar.Request
	err := s.db.tx(ctx, func(tx *gorm.DB) error {
		var v verificationRow
		if err := s.lock(tx, tx.Where("token_hash = ?", dsar.HashSecret(token))).Take(&v).Error; err != nil {
			return &dsar.Error{Code: dsar.ENOTFOUND, Message: "error.verify.invalid_link"}
		}
		switch {
		case v.Status == verificationUsed:
			row, err := s.reqs.load(tx, subjectActor, v.RequestID, false)
			if err != nil {
				return err
			}
			out = row.toDomain(s.reqs.location(row.Controller))
			return nil
		case v.Status != verificationActive:
			return &dsar.Error{Code: dsar.ECONFLICT, Message: "error.verify.superseded"}
		case now.After(v.ExpiresAt):
			return &dsar.Error{Code: dsar.ECONFLICT, Message: "error.verify.expired"}
		}
		var err error
		out, err = s.verify(tx, &v, dsar.VerifiedByEmailLink, clientIP, now)
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
		err := s.lock(tx, tx.Where("request_id = ? AND status IN ?", requestID, []string{verificationActive, verificationLocked})).
			Order("created_at DESC").Take(&v).Error
		if err != nil {
			userErr = &dsar.Error{Code: dsar.ECONFLICT, Message: "error.verify.no_code"}
			return nil
		}
		switch {
		case v.Status == verificationLocked:
			userErr = &dsar.Error{Code: dsar.ECONFLICT, Message: "error.verify.locked"}
			return nil
		case now.After(v.ExpiresAt):
			userErr = &dsar.Error{Code: dsar.ECONFLICT, Message: "error.verify.expired"}
			return nil
		}
		if dsar.SameHash(codeHash(v.ID, code), v.CodeHash) {
			out, err = s.verify(tx, &v, dsar.VerifiedByEmailCode, clientIP, now)
			return err
		}
		v.Attempts++
		update := map[string]any{"attempts": v.Attempts}
		left := p.MaxCodeAttempts - v.Attempts
		if left <= 0 {
			update["status"] = verificationLocked
			userErr = &dsar.Error{Code: dsar.ECONFLICT, Message: "error.verify.locked"}
		} else {
			userErr = &dsar.Error{Code: dsar.EINVALID, Message: "error.verify.wrong_code", Params: map[string]any{"left": left},
				Fields: []dsar.FieldError{{Field: "code", Message: "error.verify.wrong_code", Params: map[string]any{"left": left}}}}
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

// ResendVerification supersedes the request's verification with a new link
// and code, at most once per Policy.ResendInterval.
func (s *Subjects) ResendVerification(ctx context.Context, requestID string) error {
	now := s.db.now()
	return mapErr(s.db.tx(ctx, func(tx *gorm.DB) error {
		var row requestRow
		if err := s.lock(tx, tx.Where("id = ?", requestID)).Take(&row).Error; err != nil {
			return err
		}
		if row.Status != string(dsar.StatusAwaitingVerification) {
			return &dsar.Error{Code: dsar.ECONFLICT, Message: "error.verify.closed"}
		}
		var last verificationRow
		if err := tx.Where("request_id = ?", requestID).Order("created_at DESC").Take(&last).Error; err == nil {
			if wait := last.CreatedAt.Add(s.db.policy().ResendInterval).Sub(now); wait > 0 {
				return &dsar.Error{Code: dsar.ERATELIMIT, Message: "error.rate_limited", Params: map[string]any{"seconds": int(wait.Seconds()) + 1}}
			}
		}
		return s.renew(tx, &row, newID(), "", now)
	}))
}

// renew supersedes the active verification of a locked row with a new one
// and queues its mail.
func (s *Subjects) renew(tx *gorm.DB, row *requestRow, id, reminder string, now time.Time) error {
	if err := tx.Model(&verificationRow{}).Where("request_id = ? AND status IN ?", row.ID, []string{verificationActive, verificationLocked}).
		Update("status", verificationSuperseded).Error; err != nil {
		return err
	}
	v := s.db.newVerification(row.ID, id, now)
	if err := tx.Create(v).Error; err != nil {
		return err
	}
	return s.db.record(tx, nil, []*dsar.OutboxItem{mailItem(row.ID, now,
		dsar.MailPayload{Template: "verification", To: dsar.RecipientSubject, VerificationID: v.ID, Reminder: reminder})})
}

// RenewVerification implements dsar.VerificationJobs.
func (s *Subjects) RenewVerification(ctx context.Context, requestID, verificationID, reminder string) error {
	now := s.db.now()
	return mapErr(s.db.tx(ctx, func(tx *gorm.DB) error {
		var n int64
		if err := tx.Model(&verificationRow{}).Where("id = ?", verificationID).Count(&n).Error; err != nil || n > 0 {
			return err // done before
		}
		var row requestRow
		if err := s.lock(tx, tx.Where("id = ?", requestID)).Take(&row).Error; err != nil {
			return err
		}
		if row.Status != string(dsar.StatusAwaitingVerification) {
			return nil
		}
		if err := s.renew(tx, &row, verificationID, reminder, now); err != nil {
			return err
		}
		return s.db.record(tx, &dsar.Event{RequestID: row.ID, At: now, Actor: dsar.ActorService.ID, Kind: dsar.EventVerifyReminder,
			From: dsar.Status(row.Status), To: dsar.Status(row.Status), Data: map[string]string{"reminder": reminder}}, nil)
	}))
}

// ExpireUnverified implements dsar.VerificationJobs.
func (s *Subjects) ExpireUnverified(ctx context.Context, requestID string) error {
	return mapErr(s.db.tx(ctx, func(tx *gorm.DB) error {
		var row requestRow
		if err := s.lock(tx, tx.Where("id = ?", requestID)).Take(&row).Error; err != nil {
			return err
		}
		if row.Status != string(dsar.StatusAwaitingVerification) {
			return nil
		}
		if err := cancelVerificationWork(tx, row.ID); err != nil {
			return err
		}
		var out *dsar.Request
		return s.reqs.changeRow(tx, dsar.ActorService, &row, func(_ *gorm.DB, row *requestRow, _ *dsar.Controller, now time.Time) (effect, error) {
			row.Status = string(dsar.StatusExpiredUnverified)
			return effect{event: &dsar.Event{Kind: dsar.EventTransition, Reason: "not verified in time"},
				next: []*dsar.OutboxItem{mailItem(row.ID, now, dsar.MailPayload{Template: "expired_unverified", To: dsar.RecipientSubject})}}, nil
		}, &out)
	}))
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
	row, err := s.reqs.load(s.db.gorm.WithContext(ctx), subjectActor, requestID, false)
	if err != nil {
		return nil, err
	}
	return row.toDomain(s.reqs.location(row.Controller)), nil
}

// byToken loads the row of a status page token, refusing tokens of requests
// closed longer than Policy.StatusLinkTTL ago.
func (s *Subjects) byToken(tx *gorm.DB, token string, forUpdate bool) (*requestRow, error) {
	q := tx.Where("status_token_hash = ?", dsar.HashSecret(token))
	if forUpdate {
		q = s.lock(tx, q)
	}
	var row requestRow
	if err := q.Take(&row).Error; err != nil {
		return nil, &dsar.Error{Code: dsar.ENOTFOUND, Message: "error.status.invalid_link"}
	}
	if row.ClosedAt != nil && s.db.now().After(row.ClosedAt.Add(s.db.policy().StatusLinkTTL)) {
		return nil, &dsar.Error{Code: dsar.ENOTFOUND, Message: "error.status.expired_link"}
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
	return s.reqs.Events(ctx, subjectActor, requestID)
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

// Reply records the subject's answer to the controller's question, with an
// identity document when one was asked for, resumes the paused clock, and
// confirms by mail.
func (s *Subjects) Reply(ctx context.Context, token, body string, doc *dsar.Document, clientIP string) (*dsar.Request, error) {
	body = strings.TrimSpace(body)
	switch {
	case body == "" && doc == nil:
		return nil, dsar.Invalid(dsar.FieldError{Field: "body", Message: "field.required"})
	case utf8.RuneCountInString(body) > dsar.MaxDetailsLength:
		return nil, dsar.Invalid(dsar.FieldError{Field: "body", Message: "field.too_long", Params: map[string]any{"max": dsar.MaxDetailsLength}})
	case doc != nil && len(doc.Data) > dsar.MaxDocumentSize:
		return nil, dsar.Invalid(dsar.FieldError{Field: "document", Message: "field.file_too_large", Params: map[string]any{"max": dsar.MaxDocumentSize >> 20}})
	}
	var out *dsar.Request
	err := s.db.tx(ctx, func(tx *gorm.DB) error {
		row, err := s.byToken(tx, token, true)
		if err != nil {
			return err
		}
		if row.Status != string(dsar.StatusAwaitingSubject) {
			return &dsar.Error{Code: dsar.ECONFLICT, Message: "error.reply.not_waiting"}
		}
		return s.reqs.changeRow(tx, subjectFrom(clientIP), row, func(tx *gorm.DB, row *requestRow, ctrl *dsar.Controller, now time.Time) (effect, error) {
			m := &messageRow{ID: newID(), RequestID: row.ID, FromSubject: true, Kind: string(dsar.MessageReply), Author: subjectActor.ID, Body: body, CreatedAt: now}
			if err := tx.Create(m).Error; err != nil {
				return effect{}, err
			}
			if doc != nil {
				d := &documentRow{ID: newID(), RequestID: row.ID, FileName: doc.FileName, ContentType: doc.ContentType, CreatedAt: now}
				d.Sealed = s.db.Keyring.Seal(doc.Data, []byte(d.ID))
				if err := tx.Create(d).Error; err != nil {
					return effect{}, err
				}
			}
			ef, err := resume(tx, row, ctrl, now)
			if err != nil {
				return effect{}, err
			}
			ef.event.Data["reply"] = m.ID
			ef.event.Data["document"] = boolString(doc != nil)
			ef.next = append(ef.next, mailItem(row.ID, now, dsar.MailPayload{Template: "reply_received", To: dsar.RecipientSubject}))
			return ef, nil
		}, &out)
	})
	if err != nil {
		return nil, mapErr(err)
	}
	return out, nil
}

// Withdraw withdraws the request at the subject's wish and confirms by mail.
func (s *Subjects) Withdraw(ctx context.Context, token, clientIP string) (*dsar.Request, error) {
	var out *dsar.Request
	err := s.db.tx(ctx, func(tx *gorm.DB) error {
		row, err := s.byToken(tx, token, true)
		if err != nil {
			return err
		}
		if !dsar.Status(row.Status).Open() {
			return &dsar.Error{Code: dsar.ECONFLICT, Message: "error.closed"}
		}
		return s.reqs.changeRow(tx, subjectFrom(clientIP), row, func(tx *gorm.DB, row *requestRow, ctrl *dsar.Controller, now time.Time) (effect, error) {
			if row.PausedAt != nil {
				if _, err := resume(tx, row, ctrl, now); err != nil {
					return effect{}, err
				}
			}
			row.Status = string(dsar.StatusWithdrawn)
			return effect{event: &dsar.Event{Kind: dsar.EventTransition, Reason: "withdrawn by the subject"},
				next: []*dsar.OutboxItem{mailItem(row.ID, now, dsar.MailPayload{Template: "withdrawal", To: dsar.RecipientSubject})}}, nil
		}, &out)
	})
	if err != nil {
		return nil, mapErr(err)
	}
	return out, nil
}

// Ask sends the subject a question and waits for the answer: the request
// pauses (the clock stops where the controller allows) unless it already
// waits for the subject.
func (s *Requests) Ask(ctx context.Context, actor dsar.Actor, id string, kind dsar.MessageKind, body string) (*dsar.Request, error) {
	if kind != dsar.MessageClarification && kind != dsar.MessageIdentity {
		return nil, dsar.Invalid(dsar.FieldError{Field: "kind", Message: "field.enum", Params: map[string]any{"allowed": []string{"clarification", "identity"}}})
	}
	if err := dsar.ValidateReason("body", body); err != nil {
		return nil, err
	}
	return s.change(ctx, actor, id, func(tx *gorm.DB, row *requestRow, ctrl *dsar.Controller, now time.Time) (effect, error) {
		m := &messageRow{ID: newID(), RequestID: row.ID, Kind: string(kind), Author: actor.ID, Body: strings.TrimSpace(body), CreatedAt: now}
		if !dsar.Status(row.Status).Open() {
			return effect{}, &dsar.Error{Code: dsar.ECONFLICT, Message: "error.closed"}
		}
		if row.VerifiedAt == nil {
			// The subject can answer only on the status page, which opens
			// when they confirm the request.
			return effect{}, &dsar.Error{Code: dsar.ECONFLICT, Message: "error.ask.unverified"}
		}
		if err := tx.Create(m).Error; err != nil {
			return effect{}, err
		}
		ef := effect{event: &dsar.Event{Kind: dsar.EventMessage, Data: map[string]string{"message": m.ID, "kind": string(kind)}}}
		if row.PausedAt == nil {
			var err error
			if ef, err = pause(tx, row, ctrl, now, dsar.PauseReason(kind), m.Body); err != nil {
				return effect{}, err
			}
			ef.event.Data["message"] = m.ID
		}
		ef.next = append(ef.next, mailItem(row.ID, now, dsar.MailPayload{Template: string(kind) + "_request", To: dsar.RecipientSubject, MessageID: m.ID}))
		return ef, nil
	})
}

// MarkVerified records that the officer verified the subject's identity and
// how, and deletes the identity documents the subject sent: the case keeps
// who, when and how, never the proof.
func (s *Requests) MarkVerified(ctx context.Context, actor dsar.Actor, id, method string) (*dsar.Request, error) {
	switch {
	case strings.TrimSpace(method) == "":
		return nil, dsar.Invalid(dsar.FieldError{Field: "method", Message: "field.required"})
	case utf8.RuneCountInString(method) > dsar.MaxNameLength:
		return nil, dsar.Invalid(dsar.FieldError{Field: "method", Message: "field.too_long", Params: map[string]any{"max": dsar.MaxNameLength}})
	}
	method = strings.TrimSpace(method)
	return s.change(ctx, actor, id, func(tx *gorm.DB, row *requestRow, ctrl *dsar.Controller, now time.Time) (effect, error) {
		if !dsar.Status(row.Status).Open() {
			return effect{}, &dsar.Error{Code: dsar.ECONFLICT, Message: "error.closed"}
		}
		wasVerified := row.VerifiedAt != nil
		s.db.markVerified(row, actor.ID, method, now)
		var ef effect
		switch dsar.Status(row.Status) {
		case dsar.StatusAwaitingVerification:
			row.Status = string(dsar.StatusInProgress)
		case dsar.StatusAwaitingSubject:
			var p pauseRow
			if err := tx.Where("request_id = ? AND ended_at IS NULL", row.ID).Take(&p).Error; err == nil && p.Reason == string(dsar.PauseIdentity) {
				var err error
				if ef, err = resume(tx, row, ctrl, now); err != nil {
					return effect{}, err
				}
			}
		}
		if !wasVerified {
			if err := cancelVerificationWork(tx, row.ID); err != nil {
				return effect{}, err
			}
			ef.next = append(ef.next, mailItem(row.ID, now, dsar.MailPayload{Template: "acknowledgement", To: dsar.RecipientSubject}))
		}
		if err := tx.Where("request_id = ?", row.ID).Delete(&documentRow{}).Error; err != nil {
			return effect{}, err
		}
		data := verifiedData(row)
		if ef.event != nil {
			for k, v := range ef.event.Data {
				data[k] = v
			}
		}
		ef.event = &dsar.Event{Kind: dsar.EventVerified, Data: data}
		return ef, nil
	})
}

// Documents returns the identity documents of a case, opened, to an officer
// who may change the case.
func (s *Requests) Documents(ctx context.Context, actor dsar.Actor, id string) ([]*dsar.Document, error) {
	db := s.db.gorm.WithContext(ctx)
	row, err := s.load(db, actor, id, false)
	if err != nil {
		return nil, err
	}
	if !actor.CanChange(row.Controller) {
		return nil, &dsar.Error{Code: dsar.EFORBIDDEN, Message: "error.forbidden"}
	}
	var rows []documentRow
	if err := db.Where("request_id = ?", id).Order("created_at").Find(&rows).Error; err != nil {
		return nil, mapErr(err)
	}
	out := make([]*dsar.Document, 0, len(rows))
	for _, r := range rows {
		data, err := s.db.Keyring.Open(r.Sealed, []byte(r.ID))
		if err != nil {
			return nil, err
		}
		out = append(out, &dsar.Document{ID: r.ID, FileName: r.FileName, ContentType: r.ContentType, Data: data, CreatedAt: r.CreatedAt.UTC()})
	}
	return out, nil
}

// Messages returns the messages of a case.
func (s *Requests) Messages(ctx context.Context, actor dsar.Actor, id string) ([]*dsar.Message, error) {
	if _, err := s.load(s.db.gorm.WithContext(ctx), actor, id, false); err != nil {
		return nil, err
	}
	return NewSubjects(s.db).messages(ctx, id, true)
}

// Complete closes the request as carried out, with a summary of what was
// done and, after an erasure, what was kept, why and until when.
func (s *Requests) Complete(ctx context.Context, actor dsar.Actor, id string, d dsar.Decision) (*dsar.Request, error) {
	var fields []dsar.FieldError
	if err := dsar.ValidateReason("summary", d.Summary); err != nil {
		fields = append(fields, err.(*dsar.Error).Fields...)
	}
	for i, k := range d.Kept {
		if strings.TrimSpace(k.What) == "" || strings.TrimSpace(k.Why) == "" {
			fields = append(fields, dsar.FieldError{Field: "kept." + strconv.Itoa(i), Message: "field.required"})
		}
		if utf8.RuneCountInString(k.What) > dsar.MaxReasonLength || utf8.RuneCountInString(k.Why) > dsar.MaxReasonLength {
			fields = append(fields, dsar.FieldError{Field: "kept." + strconv.Itoa(i), Message: "field.too_long", Params: map[string]any{"max": dsar.MaxReasonLength}})
		}
		if k.Until != "" {
			if _, err := dsar.ParseDate(k.Until); err != nil {
				fields = append(fields, dsar.FieldError{Field: "kept." + strconv.Itoa(i) + ".until", Message: "field.date"})
			}
		}
	}
	if len(fields) > 0 {
		return nil, dsar.Invalid(fields...)
	}
	kept, _ := json.Marshal(d.Kept)
	if d.Kept == nil {
		kept = []byte("[]")
	}
	return s.change(ctx, actor, id, func(_ *gorm.DB, row *requestRow, _ *dsar.Controller, now time.Time) (effect, error) {
		if !dsar.Status(row.Status).Open() {
			return effect{}, &dsar.Error{Code: dsar.ECONFLICT, Message: "error.closed"}
		}
		if row.Status != string(dsar.StatusInProgress) {
			return effect{}, &dsar.Error{Code: dsar.ECONFLICT, Message: "error.transition", Params: map[string]any{"from": row.Status, "to": dsar.StatusCompleted}}
		}
		row.Status = string(dsar.StatusCompleted)
		row.DecisionText, row.Kept, row.DecisionGround, row.DecisionPartial = strings.TrimSpace(d.Summary), string(kept), "", false
		return effect{event: &dsar.Event{Kind: dsar.EventTransition, Reason: row.DecisionText, Data: map[string]string{"kept": strconv.Itoa(len(d.Kept))}},
			next: []*dsar.OutboxItem{mailItem(row.ID, now, dsar.MailPayload{Template: "completion", To: dsar.RecipientSubject})}}, nil
	})
}

// Refuse closes the request as refused, wholly or in part, with its legal
// ground and the controller's explanation; the subject is told of the right
// to complain and to a judicial remedy.
func (s *Requests) Refuse(ctx context.Context, actor dsar.Actor, id string, d dsar.Decision) (*dsar.Request, error) {
	var fields []dsar.FieldError
	if !d.Ground.Valid() {
		fields = append(fields, dsar.FieldError{Field: "ground", Message: "field.enum", Params: map[string]any{"allowed": dsar.Grounds}})
	}
	if err := dsar.ValidateReason("text", d.Text); err != nil {
		fields = append(fields, err.(*dsar.Error).Fields...)
	}
	if len(fields) > 0 {
		return nil, dsar.Invalid(fields...)
	}
	return s.change(ctx, actor, id, func(tx *gorm.DB, row *requestRow, ctrl *dsar.Controller, now time.Time) (effect, error) {
		if !dsar.Status(row.Status).Open() {
			return effect{}, &dsar.Error{Code: dsar.ECONFLICT, Message: "error.closed"}
		}
		if row.PausedAt != nil {
			if _, err := resume(tx, row, ctrl, now); err != nil {
				return effect{}, err
			}
		}
		if row.Status == string(dsar.StatusAwaitingVerification) {
			if err := cancelVerificationWork(tx, row.ID); err != nil {
				return effect{}, err
			}
		}
		row.Status = string(dsar.StatusRefused)
		row.DecisionGround, row.DecisionText, row.DecisionPartial, row.Kept = string(d.Ground), strings.TrimSpace(d.Text), d.Partial, "[]"
		return effect{event: &dsar.Event{Kind: dsar.EventTransition, Reason: row.DecisionText,
			Data: map[string]string{"ground": row.DecisionGround, "partial": boolString(d.Partial)}},
			next: []*dsar.OutboxItem{mailItem(row.ID, now, dsar.MailPayload{Template: "refusal", To: dsar.RecipientSubject})}}, nil
	})
}

func boolString(b bool) string {
	if b {
		return "true"
	}
	return "false"
}
