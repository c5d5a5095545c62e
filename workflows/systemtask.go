package workflows

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sync"

	"github.com/hibiken/asynq"

	"github.com/dsar-project/dsar"
	"github.com/dsar-project/dsar/workflows/connector"
)

// TypeSystemTask carries out one step of system tasks.
const TypeSystemTask = "task:step"

// runTask carries out a step of the item's tasks (one, or the several an
// operation handed over at once, such as an approval's) through the
// connectors of their systems, side by side, and records the outcomes and
// the item's completion in one transaction. An export's data is in its
// blob before the outcome is recorded: a worker that stops in between
// leaves the tasks to run again (the systems know them by their
// idempotency keys), and the next run replaces the blob.
func (h *Handlers) runTask(ctx context.Context, it *dsar.OutboxItem) (outcome, error) {
	var p dsar.TaskPayload
	if err := json.Unmarshal(it.Payload, &p); err != nil || p.TaskID == "" {
		return outcome{}, fmt.Errorf("bad task payload: %w", asynq.SkipRetry)
	}
	if p.Step == dsar.StepOverdue {
		return outcome{completed: true}, h.Tasks.Overdue(ctx, it, p.TaskID, p.Round)
	}
	refs := p.Refs()
	ids := make([]string, len(refs))
	for i, ref := range refs {
		ids[i] = ref.TaskID
	}
	orders, err := h.Tasks.Orders(ctx, ids)
	if err != nil {
		if dsar.ErrorCode(err) == dsar.ENOTFOUND || dsar.ErrorCode(err) == dsar.ECONFLICT {
			return outcome{}, fmt.Errorf("tasks %v: %v: %w", ids, err, asynq.SkipRetry)
		}
		return outcome{}, err
	}
	// The tasks that still need the step: one that moved on since (a
	// callback answered it, an officer retried or skipped it) is left alone.
	var due []*dsar.TaskOrder
	var rounds []int
	for _, ref := range refs {
		i := slices.IndexFunc(orders, func(o *dsar.TaskOrder) bool { return o.Task.ID == ref.TaskID })
		if o := orders[i]; o.Task.Round == ref.Round && p.Step.Fits(o.Task.Status) {
			due, rounds = append(due, o), append(rounds, ref.Round)
		}
	}
	if len(due) == 0 {
		return outcome{}, nil
	}
	if p.Step == dsar.StepRemind && due[0].Connector.Kind == dsar.ConnectorManual {
		return outcome{completed: true}, h.Tasks.Remind(ctx, it, p.TaskID, p.Round)
	}
	results := make([]dsar.TaskResult, len(due))
	var wg sync.WaitGroup
	for i, order := range due {
		wg.Go(func() {
			results[i] = dsar.TaskResult{TaskID: order.Task.ID, Round: rounds[i], Outcome: h.step(ctx, order, p.Step)}
		})
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return outcome{}, err // shutting down, or the lease was lost: the item runs again
	}
	if p.Step == dsar.StepCancel {
		return outcome{}, nil
	}
	return outcome{completed: true}, h.Tasks.Record(ctx, it, results...)
}

// step carries out a step of one task through the connector of its system.
func (h *Handlers) step(ctx context.Context, order *dsar.TaskOrder, step dsar.TaskStep) dsar.TaskOutcome {
	conn, ok := h.Connectors[order.Connector.Kind]
	if !ok {
		return dsar.TaskOutcome{Kind: dsar.OutcomeFailed, Answer: fmt.Sprintf("this worker has no %s connector", order.Connector.Kind)}
	}
	id := order.Task.ID
	callback := h.Keyring.Token(dsar.TokenTaskCallback, id)
	return conn.Do(ctx, &connector.Order{TaskOrder: order, Step: step,
		CallbackURL:        h.BaseURL + dsar.TaskCallbackPath(id, callback),
		OpenDSRCallbackURL: h.BaseURL + dsar.OpenDSRCallbackPath(id, callback),
		ConfirmURL:         h.BaseURL + dsar.VendorConfirmPath(id, h.Keyring.Token(dsar.TokenVendorConfirm, id)),
		Blobs:              h.Blobs})
}
