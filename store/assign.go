package store

import (
	"context"
	"slices"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/dsar-project/dsar"
)

// Assign gives the case to a user who may work it, or to nobody with "".
func (s *Requests) Assign(ctx context.Context, actor dsar.Actor, id, userID string) (*dsar.Request, error) {
	return s.change(ctx, actor, id, func(tx *gorm.DB, row *requestRow, _ *dsar.Controller, _ time.Time) (effect, error) {
		if userID != "" {
			var u userRow
			if err := tx.Where("id = ? AND disabled_at IS NULL", userID).Take(&u).Error; err != nil {
				return effect{}, dsar.Invalid(dsar.FieldError{Field: "assignee", Message: "error.not_found"})
			}
			may := u.Role == string(dsar.RoleAdmin) || (u.Role == string(dsar.RoleOfficer) && slices.Contains(strings.Split(u.Controllers, ","), row.Controller))
			if !may {
				return effect{}, dsar.Invalid(dsar.FieldError{Field: "assignee", Message: "error.assignee_cannot_work"})
			}
		}
		old := row.Assignee
		row.Assignee = userID
		return effect{event: &dsar.Event{Kind: dsar.EventAssigned, Data: map[string]string{"from": old, "to": userID}}}, nil
	})
}

// Note adds an officer's internal note to the case.
func (s *Requests) Note(ctx context.Context, actor dsar.Actor, id, body string) (*dsar.Request, error) {
	if err := dsar.ValidateReason("body", body); err != nil {
		return nil, err
	}
	return s.change(ctx, actor, id, func(tx *gorm.DB, row *requestRow, _ *dsar.Controller, now time.Time) (effect, error) {
		m := &messageRow{ID: newID(), RequestID: row.ID, Kind: string(dsar.MessageNote), Author: actor.ID, Body: strings.TrimSpace(body), CreatedAt: now}
		if err := tx.Create(m).Error; err != nil {
			return effect{}, err
		}
		return effect{event: &dsar.Event{Kind: dsar.EventNote, Data: map[string]string{"message": m.ID}}}, nil
	})
}

// Reopen takes a completed or refused case back into work, with a reason.
func (s *Requests) Reopen(ctx context.Context, actor dsar.Actor, id, reason string) (*dsar.Request, error) {
	if err := dsar.ValidateReason("reason", reason); err != nil {
		return nil, err
	}
	return s.change(ctx, actor, id, func(_ *gorm.DB, row *requestRow, _ *dsar.Controller, _ time.Time) (effect, error) {
		st := dsar.Status(row.Status)
		if st != dsar.StatusCompleted && st != dsar.StatusRefused {
			return effect{}, &dsar.Error{Code: dsar.ECONFLICT, Message: "error.transition", Params: map[string]any{"from": st, "to": dsar.StatusInProgress}}
		}
		row.Status = string(dsar.StatusInProgress)
		row.DecisionGround, row.DecisionText, row.DecisionPartial, row.Kept = "", "", false, "[]"
		row.ApprovedAt, row.ApprovedBy = nil, "" // what is done again needs approving again
		return effect{event: &dsar.Event{Kind: dsar.EventTransition, Reason: strings.TrimSpace(reason)}}, nil
	})
}

// Approve approves a case in progress for execution in the connected
// systems: its identity is settled (in progress is reached only so) and it
// does not wait for the subject. Once only; reopening clears it.
func (s *Requests) Approve(ctx context.Context, actor dsar.Actor, id, note string) (*dsar.Request, error) {
	note = strings.TrimSpace(note)
	if note != "" {
		if err := dsar.ValidateReason("note", note); err != nil {
			return nil, err
		}
	}
	return s.change(ctx, actor, id, func(_ *gorm.DB, row *requestRow, _ *dsar.Controller, now time.Time) (effect, error) {
		switch {
		case row.ApprovedAt != nil:
			return effect{}, &dsar.Error{Code: dsar.ECONFLICT, Message: "error.already_approved"}
		case dsar.Status(row.Status) != dsar.StatusInProgress:
			return effect{}, &dsar.Error{Code: dsar.ECONFLICT, Message: "error.approve_status", Params: map[string]any{"status": row.Status}}
		}
		row.ApprovedAt, row.ApprovedBy = &now, actor.ID
		return effect{event: &dsar.Event{Kind: dsar.EventApproved, Reason: note}}, nil
	})
}

// Forward closes a request the organisation handles only as a processor:
// it went to the controller responsible (to: who, and how they were
// reached), and the subject is told so.
func (s *Requests) Forward(ctx context.Context, actor dsar.Actor, id, to string) (*dsar.Request, error) {
	if err := dsar.ValidateReason("to", to); err != nil {
		return nil, err
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
			// A processor forwards without verifying: the identity is for
			// the controller responsible to check.
			if err := cancelVerificationWork(tx, row.ID); err != nil {
				return effect{}, err
			}
		}
		row.Status = string(dsar.StatusForwarded)
		row.DecisionText = strings.TrimSpace(to)
		return effect{event: &dsar.Event{Kind: dsar.EventTransition, Reason: row.DecisionText, Data: map[string]string{"forwarded_to": row.DecisionText}},
			next: []*dsar.OutboxItem{mailItem(row.ID, now, dsar.MailPayload{Template: "forwarded", To: dsar.RecipientSubject})}}, nil
	})
}

// AnnounceFee tells the subject of an open access request the fee for a
// further copy before anything is charged; the announcement is a message of
// the case (shown on the status page) and a mail.
func (s *Requests) AnnounceFee(ctx context.Context, actor dsar.Actor, id, text string) (*dsar.Request, error) {
	if err := dsar.ValidateReason("text", text); err != nil {
		return nil, err
	}
	return s.change(ctx, actor, id, func(tx *gorm.DB, row *requestRow, _ *dsar.Controller, now time.Time) (effect, error) {
		if row.Type != string(dsar.TypeAccess) {
			return effect{}, dsar.Invalid(dsar.FieldError{Field: "text", Message: "error.fee.only_access"})
		}
		if !dsar.Status(row.Status).Open() {
			return effect{}, &dsar.Error{Code: dsar.ECONFLICT, Message: "error.closed"}
		}
		m := &messageRow{ID: newID(), RequestID: row.ID, Kind: string(dsar.MessageFee), Author: actor.ID, Body: strings.TrimSpace(text), CreatedAt: now}
		if err := tx.Create(m).Error; err != nil {
			return effect{}, err
		}
		return effect{event: &dsar.Event{Kind: dsar.EventMessage, Data: map[string]string{"message": m.ID, "kind": string(dsar.MessageFee)}},
			next: []*dsar.OutboxItem{mailItem(row.ID, now, dsar.MailPayload{Template: "fee_notice", To: dsar.RecipientSubject, MessageID: m.ID})}}, nil
	})
}
