package workflows

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/hibiken/asynq"

	"github.com/dsar-project/dsar"
	"github.com/dsar-project/dsar/workflows/connector"
)

// TypeSystemTask carries out one step of a system task.
const TypeSystemTask = "task:step"

// runTask carries out a step of a task through the connector of its
// system, and records the outcome and the item's completion in one
// transaction. An export's data is in its blob before the outcome is
// recorded: a worker that stops in between leaves the task to run again,
// and the next run replaces the blob.
func (h *Handlers) runTask(ctx context.Context, it *dsar.OutboxItem) (outcome, error) {
	var p dsar.TaskPayload
	if err := json.Unmarshal(it.Payload, &p); err != nil || p.TaskID == "" {
		return outcome{}, fmt.Errorf("bad task payload: %w", asynq.SkipRetry)
	}
	if p.Step == dsar.StepOverdue {
		return outcome{completed: true}, h.Tasks.Overdue(ctx, it, p.TaskID, p.Round)
	}
	order, err := h.Tasks.Order(ctx, p.TaskID)
	if err != nil {
		if dsar.ErrorCode(err) == dsar.ENOTFOUND || dsar.ErrorCode(err) == dsar.ECONFLICT {
			return outcome{}, fmt.Errorf("task %s: %v: %w", p.TaskID, err, asynq.SkipRetry)
		}
		return outcome{}, err
	}
	if order.Task.Round != p.Round || !p.Step.Fits(order.Task.Status) {
		return outcome{}, nil
	}
	if p.Step == dsar.StepRemind && order.Connector.Kind == dsar.ConnectorManual {
		return outcome{completed: true}, h.Tasks.Remind(ctx, it, p.TaskID, p.Round)
	}
	var o dsar.TaskOutcome
	if conn, ok := h.Connectors[order.Connector.Kind]; ok {
		callback := h.Keyring.Token(dsar.TokenTaskCallback, p.TaskID)
		o = conn.Do(ctx, &connector.Order{TaskOrder: order, Step: p.Step,
			CallbackURL:        h.BaseURL + dsar.TaskCallbackPath(p.TaskID, callback),
			OpenDSRCallbackURL: h.BaseURL + dsar.OpenDSRCallbackPath(p.TaskID, callback),
			ConfirmURL:         h.BaseURL + dsar.VendorConfirmPath(p.TaskID, h.Keyring.Token(dsar.TokenVendorConfirm, p.TaskID)),
			Blobs:              h.Blobs})
	} else {
		o = dsar.TaskOutcome{Kind: dsar.OutcomeFailed, Answer: fmt.Sprintf("this worker has no %s connector", order.Connector.Kind)}
	}
	if err := ctx.Err(); err != nil {
		return outcome{}, err // shutting down, or the lease was lost: the item runs again
	}
	if p.Step == dsar.StepCancel {
		return outcome{}, nil
	}
	return outcome{completed: true}, h.Tasks.Record(ctx, it, p.TaskID, p.Round, o)
}
