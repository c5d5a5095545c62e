package store

import (
	"context"
	"strings"

	"github.com/dsar-project/dsar"
)

// insertIntake writes a new case on Postgres in one statement: the request
// row, its verification, its audit events and its outbox rows, as
// data-modifying CTEs. One statement is atomic on its own, so the intake
// costs one round trip instead of a transaction's six; the foreign keys
// between the rows are checked at the end of the statement. hooks are the
// webhook events of its audit events (their deliveries are among next). The case is new,
// so its audit chain starts here, from dsar.AuditGenesis, with no lock.
func (db *DB) insertIntake(ctx context.Context, r *requestRow, v *verificationRow, events []*dsar.Event, hooks []*webhookEventRow, next []*dsar.OutboxItem) error {
	rows, err := eventRows(events)
	if err != nil {
		return err
	}
	r.AuditSeq, r.AuditHash = chainRows(0, "", rows)
	q, args := db.intakeStatement(r, v, rows, hooks, next)
	return db.gorm.WithContext(ctx).Raw(q, args...).Scan(&r.DuplicateOf).Error
}

// intakeStatement returns the statement of insertIntake.
func (db *DB) intakeStatement(r *requestRow, v *verificationRow, events []*eventRow, hooks []*webhookEventRow, next []*dsar.OutboxItem) (string, []any) {
	var (
		q    strings.Builder
		args []any
	)
	values := func(n int) string { return "(" + strings.TrimSuffix(strings.Repeat("?, ", n), ", ") + ")" }
	q.WriteString(`WITH r AS (INSERT INTO requests (id, reference, type, status, controller, regulation, language, channel,
	subject_email, subject_name, subject_phone, subject_customer_id, details, received_at, due_date, deadline,
	extension_notice_by, acknowledge_by, extended, extension_reason, paused_days, status_token_hash,
	verified_at, verified_by, verification_method, kept, audit_seq, audit_hash, created_by, created_at, updated_at, objection, timers_from, wake_at,
	transmit_to, transmit_organisation, agent, duplicate_of) VALUES `)
	q.WriteString(strings.TrimSuffix(values(37), ")") + ", COALESCE((" + duplicateQuery + "), '')) RETURNING duplicate_of)")
	args = append(args, r.ID, r.Reference, r.Type, r.Status, r.Controller, r.Regulation, r.Language, r.Channel,
		r.SubjectEmail, r.SubjectName, r.SubjectPhone, r.SubjectCustomerID, r.Details, r.ReceivedAt, r.DueDate, r.Deadline,
		r.ExtensionNoticeBy, r.AcknowledgeBy, r.Extended, r.ExtensionReason, r.PausedDays, r.StatusTokenHash,
		r.VerifiedAt, r.VerifiedBy, r.VerificationMethod, r.Kept, r.AuditSeq, r.AuditHash, r.CreatedBy, r.CreatedAt, r.UpdatedAt, r.Objection, r.TimersFrom, r.WakeAt,
		r.TransmitTo, r.TransmitOrganisation, r.Agent, r.Controller, r.Type, r.SubjectEmail)
	if v != nil {
		q.WriteString(`, v AS (INSERT INTO verifications (id, request_id, token_hash, code_hash, status, attempts, expires_at, created_at) VALUES ` + values(8) + ")")
		args = append(args, v.ID, v.RequestID, v.TokenHash, v.CodeHash, v.Status, v.Attempts, v.ExpiresAt, v.CreatedAt)
	}
	q.WriteString(`, e AS (INSERT INTO request_events (request_id, at, actor, kind, from_status, to_status, reason, data,
	client_ip, seq, prev_hash, hash) VALUES `)
	for i, er := range events {
		if i > 0 {
			q.WriteString(", ")
		}
		q.WriteString(values(12))
		args = append(args, er.RequestID, er.At, er.Actor, er.Kind, er.FromStatus, er.ToStatus, er.Reason, er.Data,
			er.ClientIP, er.Seq, er.PrevHash, er.Hash)
	}
	q.WriteString(")")
	if len(hooks) > 0 {
		q.WriteString(`, w AS (INSERT INTO webhook_events (id, type, request_id, controller, at, data) VALUES `)
		for i, h := range hooks {
			if i > 0 {
				q.WriteString(", ")
			}
			q.WriteString(values(6))
			args = append(args, h.ID, h.Type, h.RequestID, h.Controller, h.At, h.Data)
		}
		q.WriteString(")")
	}
	if len(next) > 0 {
		q.WriteString(`, o AS (INSERT INTO outbox (id, kind, request_id, payload, run_at, status, created_at) VALUES `)
		now := db.now()
		for i, it := range next {
			o := newOutboxRow(it, now)
			if i > 0 {
				q.WriteString(", ")
			}
			q.WriteString(values(7))
			args = append(args, o.ID, o.Kind, o.RequestID, o.Payload, o.RunAt, o.Status, o.CreatedAt)
		}
		q.WriteString(")")
	}
	q.WriteString(" SELECT duplicate_of FROM r")
	return q.String(), args
}

// duplicateQuery finds the oldest open request of the same controller, type
// and subject e-mail (its three parameters), the one a new request
// duplicates.
var duplicateQuery = `SELECT id FROM requests WHERE controller = ? AND type = ? AND lower(subject_email) = lower(?)
	AND status IN (` + sqlList(dsar.OpenStatuses) + `) ORDER BY created_at LIMIT 1`

// sqlList writes statuses as a list of SQL string literals (they are our
// own constants: lowercase letters and underscores).
func sqlList(ss []dsar.Status) string {
	parts := make([]string, len(ss))
	for i, s := range ss {
		parts[i] = "'" + string(s) + "'"
	}
	return strings.Join(parts, ", ")
}
