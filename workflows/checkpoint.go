package workflows

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/hibiken/asynq"

	"github.com/dsar-project/dsar"
)

// TypeCheckpoint records the hourly checkpoint of the cases.
const TypeCheckpoint = "audit:checkpoint"

// recordCheckpoint records which cases exist in the administrators' audit
// chain (store.DB.Checkpoint), for `dsar audit verify` to find a case
// deleted whole.
func (h *Handlers) recordCheckpoint(ctx context.Context, it *dsar.OutboxItem) (outcome, error) {
	var p dsar.CheckpointPayload
	if err := json.Unmarshal(it.Payload, &p); err != nil || h.Audit == nil || p.Before.IsZero() {
		return outcome{}, fmt.Errorf("bad checkpoint payload: %w", asynq.SkipRetry)
	}
	return outcome{}, h.Audit.Checkpoint(ctx, p.Before)
}
