package workflows

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/hibiken/asynq"

	"github.com/dsar-project/dsar"
)

// TypeVerifyReminder reminds an unverified subject with a new code.
const TypeVerifyReminder = "verification:reminder"

// remindUnverified reminds a subject who has not confirmed the request
// yet, with a new link and code. The new verification takes the outbox row's
// ID, so a second run of the task finds it made and does nothing.
func (h *Handlers) remindUnverified(ctx context.Context, it *dsar.OutboxItem) (outcome, error) {
	var p dsar.VerifyPayload
	if err := json.Unmarshal(it.Payload, &p); err != nil {
		return outcome{}, fmt.Errorf("bad verification reminder payload: %w", asynq.SkipRetry)
	}
	return outcome{}, h.Jobs.RenewVerification(ctx, it.RequestID, it.ID, p.Reminder)
}
