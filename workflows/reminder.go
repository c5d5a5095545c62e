package workflows

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/google/uuid"
	"github.com/hibiken/asynq"

	"github.com/dsar-project/dsar"
)

// TypeReminder fires the deadline reminder of an OutboxReminder row.
const TypeReminder = "deadline:reminder"

// fireReminder fires a deadline reminder: it records the reminder in the
// audit trail and queues the reminder mail to the controller, in one
// transaction. A reminder planned for a deadline that has moved since, or
// for a closed case, is cancelled.
func (h *Handlers) fireReminder(ctx context.Context, it *dsar.OutboxItem) (outcome, error) {
	var p dsar.ReminderPayload
	if err := json.Unmarshal(it.Payload, &p); err != nil {
		return outcome{}, fmt.Errorf("bad reminder payload: %w", asynq.SkipRetry)
	}
	req, err := h.Requests.Get(ctx, dsar.ActorService, it.RequestID)
	if err != nil {
		return outcome{}, err
	}
	if !req.Status.Open() || !req.Deadline.Equal(p.Deadline) {
		return outcome{cancel: true}, nil
	}
	now := h.Clock.Now()
	payload, _ := json.Marshal(dsar.MailPayload{Template: dsar.MailReminder, To: dsar.RecipientController, Reminder: p.Reminder})
	next := &dsar.OutboxItem{ID: uuid.Must(uuid.NewV7()).String(), Kind: dsar.OutboxMail, RequestID: req.ID, Payload: payload, RunAt: now}
	ev := &dsar.Event{RequestID: req.ID, At: now, Actor: dsar.ActorService.ID, Kind: dsar.EventReminder,
		From: req.Status, To: req.Status, Data: map[string]string{"reminder": p.Reminder, "due_date": req.DueDate.String()}}
	return outcome{event: ev, next: []*dsar.OutboxItem{next}}, nil
}
