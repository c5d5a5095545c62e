package workflows

import (
	"context"

	"github.com/dsar-project/dsar"
)

// TypeVerifyExpiry closes a request that was never verified.
const TypeVerifyExpiry = "verification:expiry"

// expireUnverified closes a request whose subject never confirmed it.
func (h *Handlers) expireUnverified(ctx context.Context, it *dsar.OutboxItem) (outcome, error) {
	return outcome{}, h.Jobs.ExpireUnverified(ctx, it.RequestID)
}
